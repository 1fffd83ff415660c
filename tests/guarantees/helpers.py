"""Shared machinery of the guarantees suite: run the real CLI, keep everything it printed.

Every guarantee test runs ``python -m data_nexus …`` in subprocesses through a
:class:`Capture`, which keeps each stdout and stderr. After each test the ``capture``
fixture greps all of it, every file the test left in its ``tmp_path`` (SQLite databases
included) and the PostgreSQL rows the test registered, for the API token and the database
password: the secrets guarantee is checked across the whole suite, not in one test.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS, PROVIDER_STATE, SYNC_RUNS
from data_nexus.storage.engine import open_engine

#: The API token every emulator of the suite accepts (and that must never be printed).
SECRET_TOKEN = "gtok-5ecret-9b1f2c7e"
#: The password put into every PostgreSQL URL of the suite (trust authentication ignores it).
SECRET_PASSWORD = "pw-5ecret-77aa31"
#: The emulator's history starts here (a short history keeps each asset's first sync small).
START = dt.date(2020, 1, 2)


def with_password(url: str) -> str:
    """``url`` with :data:`SECRET_PASSWORD` as the password when it has none."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.partition("@")
    if not sep or not at or ":" in userinfo:
        return url
    return f"{scheme}://{userinfo}:{SECRET_PASSWORD}@{host}"


def password_of(url: str) -> str | None:
    """The password in ``url``, if any."""
    return sa.engine.make_url(url).password  # type: ignore[return-value]


def base_env(url: str | None, emu: EmulatorServer | None, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: none of the developer's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    if url is not None:
        env["DATANEXUS_DATABASE_URL"] = url
    if emu is not None:
        env.update(EODHD_BASE_URL=emu.base_url, EODHD_API_TOKEN=emu.token)
    env.setdefault("EODHD_RATE_LIMIT", "100000")
    env.update(extra)
    return env


@dataclass
class Capture:
    """Everything a test's CLI processes printed, and the databases it touched."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    urls: set[str] = field(default_factory=set)

    def keep(self, label: str, text: str | None) -> None:
        """Remember ``text`` (output of ``label``) for the secrets check."""
        if text:
            self.texts.append((label, text))

    def cli(
        self,
        *args: str,
        url: str | None = None,
        emu: EmulatorServer | None = None,
        cwd: Path,
        timeout: float = 180,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``datanexus ARGS`` to completion; its output is kept."""
        if url is not None:
            self.urls.add(url)
        done = subprocess.run(
            [sys.executable, "-m", "data_nexus", *args],
            cwd=cwd,
            env=base_env(url, emu, **env),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        self.keep(" ".join(args), done.stdout)
        self.keep(" ".join(args), done.stderr)
        return done

    def spawn(
        self,
        *args: str,
        url: str | None = None,
        emu: EmulatorServer | None = None,
        cwd: Path,
        **env: str,
    ) -> subprocess.Popen[str]:
        """Start ``datanexus ARGS``; pass it to :meth:`finish` to collect its output."""
        if url is not None:
            self.urls.add(url)
        return subprocess.Popen(
            [sys.executable, "-m", "data_nexus", *args],
            cwd=cwd,
            env=base_env(url, emu, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, proc: subprocess.Popen[str], timeout: float = 180) -> tuple[str, str]:
        """Wait for ``proc`` (already killed or not), keep and return its stdout and stderr."""
        out, err = proc.communicate(timeout=timeout)
        self.keep(str(proc.args), out)
        self.keep(str(proc.args), err)
        return out, err

    def stored_text(self) -> list[tuple[str, str]]:
        """Stored errors, run rows and provider state of every database used, as text."""
        found = []
        for url in self.urls:
            try:
                engine = open_engine(url)
            except Exception:  # a deliberately broken URL of a bad-input test
                continue
            try:
                with engine.connect() as conn:
                    names = set(sa.inspect(conn).get_table_names())
                    for table in (SYNC_RUNS, ASSETS, PROVIDER_STATE):
                        if table.name in names:
                            rows = conn.execute(sa.select(table)).all()
                            found.append((f"{url} {table.name}", repr(rows)))
            except sa.exc.OperationalError:
                continue
            finally:
                engine.dispose()
        return found

    def leaks(self, secrets: Sequence[str], tmp_path: Path | None) -> list[str]:
        """Where any of ``secrets`` appears: labels of outputs, rows and files."""
        found = [
            f"{label}: {text[:200]!r}"
            for label, text in [*self.texts, *self.stored_text()]
            if any(secret in text for secret in secrets)
        ]
        if tmp_path is not None and tmp_path.exists():
            raw = [secret.encode() for secret in secrets]
            for path in tmp_path.rglob("*"):
                if path.is_file() and any(secret in path.read_bytes() for secret in raw):
                    found.append(f"file {path}")
        return found
