"""Shared machinery of the guarantees suite: run the real CLI, keep everything it printed.

Every guarantee test runs ``python -m data_nexus …`` in subprocesses through a
:class:`Capture`, which keeps each stdout and stderr. After each test the ``capture``
fixture greps all of it, every file the test left in its ``tmp_path`` (SQLite databases
included) and the PostgreSQL rows the test registered, for the API token and the database
password: the secrets guarantee is checked across the whole suite, not in one test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
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

    def fork(
        self,
        forker: Forker,
        *args: str,
        url: str | None = None,
        emu: EmulatorServer | None = None,
        cwd: Path,
        **env: str,
    ) -> Child:
        """Start ``datanexus ARGS`` as a forked child (see :class:`Forker`)."""
        if url is not None:
            self.urls.add(url)
        return forker.run(args, base_env(url, emu, **env), cwd)

    def outputs(self, child: Child) -> tuple[str, str]:
        """The stdout and stderr of an ended child, kept for the secrets check."""
        out, err = child.out.read_text(), child.err.read_text()
        self.keep(f"child {child.pid}", out)
        self.keep(f"child {child.pid}", err)
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


@dataclass
class Child:
    """A ``datanexus`` process forked by the :class:`Forker`."""

    pid: int
    out: Path
    err: Path
    code: int | None = None


class Forker:
    """Client of :mod:`tests.guarantees.forker`: fork, poll, wait for and kill CLI processes."""

    def __init__(self, root: Path) -> None:
        env = base_env(None, None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.guarantees.forker"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._count = 0

    def _ask(self, **request: object) -> dict[str, object]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, "the forker died"
        answer: dict[str, object] = json.loads(line)
        return answer

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> Child:
        """Start ``datanexus ARGV`` in a forked child with exactly ``env``."""
        self._count += 1
        out, err = cwd / f"proc{self._count}.out", cwd / f"proc{self._count}.err"
        answer = self._ask(
            op="run", argv=list(argv), env=env, cwd=str(cwd), out=str(out), err=str(err)
        )
        return Child(int(answer["pid"]), out, err)  # type: ignore[call-overload]

    def poll(self, child: Child) -> int | None:
        """The exit code of ``child`` when it has ended (it is then reaped), else None."""
        if child.code is None:
            code = self._ask(op="poll", pid=child.pid)["code"]
            child.code = None if code is None else int(code)  # type: ignore[call-overload]
        return child.code

    def wait(self, child: Child) -> int:
        """Wait for ``child`` to end; its exit code (negative: the signal that killed it)."""
        if child.code is None:
            child.code = int(self._ask(op="wait", pid=child.pid)["code"])  # type: ignore[call-overload]
        return child.code

    def kill(self, child: Child) -> int:
        """SIGKILL ``child`` (unless it already ended) and reap it."""
        if self.poll(child) is None:
            os.kill(child.pid, signal.SIGKILL)
        return self.wait(child)

    def close(self) -> None:
        """Stop the zygote."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
