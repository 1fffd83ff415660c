"""`datanexus serve` as a user runs it: exposure rules, one-line errors, a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_db_cli import run_cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_answer(
    proc: subprocess.Popen[str], url: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """The first answer to ``GET url`` from the server ``proc`` is starting (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, headers=headers)
        except httpx.TransportError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


def test_refuses_to_expose_without_a_token(demo_sqlite: str, tmp_path: Path) -> None:
    out = run_cli("serve", "--host", "0.0.0.0", "-d", demo_sqlite, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: --host 0.0.0.0 would expose the warehouse")
    assert "Traceback" not in out.stderr


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    out = run_cli("serve", "-d", str(tmp_path / "none.db"), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "no such SQLite file" in out.stderr
    assert not (tmp_path / "none.db").exists()


def test_unreachable_or_refusing_postgres_is_one_line(tmp_path: Path, pg_url: str) -> None:
    """No server on the port, or a database that does not exist: one line naming the URL the
    user gave (password masked, not the internal read-only options), exit 2."""
    base, _, _ = pg_url.rpartition("/")
    urls = [
        f"postgresql://reader:s3cret-pw@127.0.0.1:{free_port()}/warehouse",
        f"{base}/no_such_database_here".replace("//postgres@", "//postgres:s3cret-pw@", 1),
    ]
    for url in urls:
        out = run_cli("serve", "-d", url, cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1, out.stderr
        assert out.stderr.startswith("error: cannot open database postgresql"), out.stderr
        assert "Traceback" not in out.stderr and "s3cret-pw" not in out.stderr
        assert "default_transaction_read_only" not in out.stderr


def test_port_in_use_is_one_line_and_nothing_is_announced(demo_sqlite: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = run_cli("serve", "--port", str(port), "-d", demo_sqlite, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}"), out.stderr
    assert out.stderr.count("\n") == 1
    assert "serving" not in out.stderr
    assert "Traceback" not in out.stderr


def test_serves_with_a_token_from_the_environment(demo_sqlite: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    env["DATANEXUS_SERVE_TOKEN"] = "tok-123456"
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_nexus", "serve", "--port", str(port), "-d", demo_sqlite],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        response = first_answer(proc, f"{url}/assets", {"Authorization": "Bearer tok-123456"})
        assert response.status_code == 200
        assert httpx.get(f"{url}/assets").status_code == 401
        assert httpx.get(f"{url}/health").json()["backend"] is None  # a probe: no details
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert f"read-only on http://127.0.0.1:{port}/ (bearer token required)" in stderr
    assert "tok-123456" not in stdout + stderr
    assert "Traceback" not in stderr
    assert "GET /health" not in stdout + stderr  # no access log unless asked for


SERVE = [sys.executable, "-m", "data_nexus", "serve"]


def test_access_log_on_request(demo_sqlite: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), "--access-log", "-d", demo_sqlite],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        response = first_answer(proc, f"http://127.0.0.1:{port}/bars/AAPL.US?from=2026-01-01")
        assert response.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, _stderr = proc.communicate(timeout=30)
    assert '"GET /bars/AAPL.US?from=2026-01-01 HTTP/1.1" 200' in stdout  # uvicorn's access log


def test_without_the_serve_extra_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.argv = ['datanexus', 'serve']; "
        "from data_nexus.cli import main; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 2
    assert out.stderr == (
        "error: datanexus serve needs the serve extra: pip install 'data-nexus[serve]' "
        "(FastAPI, uvicorn)\n"
    )


def test_ctrl_c_ends_with_130_also_where_sigint_was_ignored(
    demo_sqlite: str, tmp_path: Path
) -> None:
    """A job started in the background of a shell without job control inherits SIGINT as
    ignored; uvicorn still stops on it, and the exit code must still say "interrupted"."""
    port = free_port()
    ignoring = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "sys.argv[0] = 'datanexus'; runpy.run_module('data_nexus', run_name='__main__')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", ignoring, "serve", "--port", str(port), "-d", demo_sqlite],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first_answer(proc, f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
