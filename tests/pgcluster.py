"""A throwaway PostgreSQL cluster in a temporary directory, for tests and benchmarks.

Started with the server's own ``initdb`` and ``pg_ctl`` on a free port, listening on
loopback only, trust authentication, and removed on :meth:`ThrowawayCluster.stop`. When
run as root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
If the server's installation has the TimescaleDB extension, it is preloaded so that test
databases can ``CREATE EXTENSION timescaledb``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

from data_nexus.processes import pid_alive


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the cluster did not start; the text says why."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb``/``pg_ctl`` (PATH first, then Debian's layout)."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _has_timescale(bindir: Path) -> bool:
    pg_config = bindir / "pg_config"
    sharedirs: list[str] = []
    if pg_config.exists():
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [str(pg_config), "--sharedir"], capture_output=True, text=True, check=True
            )
            sharedirs.append(out.stdout.strip())
    sharedirs.append(f"/usr/share/postgresql/{bindir.parent.name}")
    return any(Path(d, "extension", "timescaledb.control").exists() for d in sharedirs)


_PREFIX = "datanexus-pg-"
_OWNER_FILE = "owner.pid"


def sweep_orphans(bindir: Path) -> int:
    """Stop and remove throwaway clusters whose owning process is gone; return how many.

    A test run killed from outside (a CI timeout's SIGTERM) cannot stop its cluster; the
    next run does it, so orphans never pile up.
    """
    swept = 0
    for root in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        owner = root / _OWNER_FILE
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(pid):
            continue
        command = [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, capture_output=True, check=False, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
        swept += 1
    return swept


class ThrowawayCluster:
    """A PostgreSQL cluster that lives as long as this object (use it as a context manager)."""

    def __init__(self, *, durable: bool = False, timescale: bool | None = None) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise ClusterUnavailable(
                "no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or in "
                "/usr/lib/postgresql/*/bin; install the postgresql package or set "
                "DATANEXUS_TEST_POSTGRES_URL"
            )
        self.bindir = bindir
        self.durable = durable
        self.timescale = _has_timescale(bindir) if timescale is None else timescale
        self.port = _free_port()
        sweep_orphans(bindir)
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.root / _OWNER_FILE).write_text(str(os.getpid()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        self._started = False

    # -- process control -------------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> ThrowawayCluster:
        """initdb, then start the server and wait until it accepts connections."""
        if self._as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")
        init = self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if init.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = [
            f"-p {self.port}",
            f"-k {self.root}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self.timescale:
            options += [
                "-c shared_preload_libraries=timescaledb",
                "-c timescaledb.telemetry_level=off",
                "-c timescaledb.max_background_workers=4",
            ]
        started = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
            "-t", "60", "-o", " ".join(options), "start",
        )  # fmt: skip
        if started.returncode != 0:
            tail = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            raise ClusterUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {tail}")
        self._started = True
        return self

    def stop(self) -> None:
        """Stop the server (fast) and remove its directory."""
        if self._started:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------

    @property
    def admin_url(self) -> str:
        """URL of the maintenance database."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for ``database`` on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


class DatabaseFactory:
    """Creates and drops uniquely named databases on a server given by its admin URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _url_for(self, name: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def create(
        self,
        prefix: str = "dn_test",
        *,
        extensions: tuple[str, ...] = (),
        template: str | None = None,
    ) -> str:
        """Create a fresh database (a copy of ``template``, with ``extensions``); its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        url = self._url_for(name)
        if extensions:
            conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                for ext in extensions:
                    conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
        return url

    def drop(self, url: str) -> None:
        """Drop the database at ``url`` even if connections remain."""
        name = url.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def extension_available(self, name: str) -> bool:
        """Whether the server can ``CREATE EXTENSION name`` (installed and preloaded if needed)."""
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = %s", (name,)
            ).fetchone()
            if row is None:
                return False
            if name == "timescaledb":
                preload = conn.execute("SHOW shared_preload_libraries").fetchone()
                return preload is not None and "timescaledb" in str(preload[0])
        return True
