"""Stopping while a long answer streams: Ctrl-C ends the server at once and cleanly.

uvicorn's graceful shutdown waits for every answer to be sent, then (after 5 s) cancels the
request tasks with a long ``CancelledError`` traceback each. A streamed ``GET /bars`` of many
symbols to a client that reads slowly outlasts that; the server cuts such an answer instead
(:class:`data_nexus.serve.server._Server`). The answers here are larger than what the
kernel's socket buffers hold (about 4 MiB sent, the client's receive buffer kept small), so
the stream is really under way when the signal comes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from data_nexus.demo import run_demo
from data_nexus.serve import ServerThread, create_app, open_read_only
from tests.serve.conftest import fixed_clock
from tests.serve.test_serve_cli import SERVE, first_answer, free_port

#: 40 symbols x 10 years: about 100,000 bars, 6 MB of CSV, 13 MB of JSON.
BIG_SYMBOLS, BIG_YEARS = 40, 10


@pytest.fixture(scope="module")
def big_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A synced SQLite file whose full ``GET /bars`` answer outgrows the socket buffers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shutdown') / 'big.db'}"
    result = run_demo(database_url=url, symbols=BIG_SYMBOLS, years=BIG_YEARS, clock=fixed_clock)
    assert result.summary.status == "ok"
    return url


def all_symbols(base: str) -> str:
    symbols = [a["symbol"] for a in httpx.get(f"{base}/assets").json()]
    assert len(symbols) == BIG_SYMBOLS
    return ",".join(symbols)


def slow_client(port: int, path: str) -> socket.socket:
    """A raw HTTP/1.1 client that sent ``GET path``, read the head and stopped reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head[:200]
    assert b"transfer-encoding: chunked" in head
    return sock


def rest_of(sock: socket.socket) -> bytes:
    """Everything the server still sends until it closes the connection."""
    sock.settimeout(10)
    parts = []
    try:
        while chunk := sock.recv(1 << 20):
            parts.append(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    return b"".join(parts)


@pytest.mark.parametrize(
    ("fmt", "sig"),
    [("csv", signal.SIGINT), ("json", signal.SIGINT), ("csv", signal.SIGTERM)],
)
def test_ctrl_c_mid_stream_stops_at_once_without_a_traceback(
    big_sqlite: str, tmp_path: Path, fmt: str, sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM (systemd's stop): exit 130 either way, as docs/cli.md says (uvicorn
    raised SIGTERM again after its shutdown, which ended the process with 143)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), "-d", big_sqlite],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert first_answer(proc, f"{base}/health").status_code == 200
        sock = slow_client(port, f"/bars?symbols={all_symbols(base)}&format={fmt}")
        time.sleep(0.5)  # the server fills the socket buffers and waits for the client
        started = time.monotonic()
    finally:
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    took = time.monotonic() - started
    tail = rest_of(sock)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "CancelledError" not in stderr
    # well under uvicorn's 5 s grace period, with room for a loaded machine's process exit
    assert took < 4.5, f"took {took:.1f} s to stop (uvicorn's grace period is 5 s)\n{stderr}"
    stopped = [line for line in stderr.splitlines() if "stopped sending" in line]
    assert len(stopped) == 1, stderr
    assert stopped[0].startswith("WARNING:  stopped sending GET /bars to 127.0.0.1:")
    assert stopped[0].endswith("the server is shutting down (the client gets a cut answer)")
    assert not tail.endswith(b"0\r\n\r\n")  # cut: never the chunked stream's proper end


def test_a_client_that_goes_away_stops_the_stream(big_sqlite: str) -> None:
    """The server stops reading and encoding once the client is gone, not at the answer's end."""
    app = create_app(open_read_only(big_sqlite), clock=fixed_clock, close=True)
    with ServerThread(app) as server:
        sock = slow_client(server.port, f"/bars?symbols={all_symbols(server.url)}&format=csv")
        time.sleep(0.3)
        state = server._server.server_state
        assert len(state.tasks) == 1  # the stream, waiting for the client
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset: gone at once
        deadline = time.monotonic() + 2
        while state.tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not state.tasks, "the stream went on after its client left"
        again = httpx.get(f"{server.url}/bars/AAPL.US", params={"from": "2026-11-02"})
        assert again.status_code == 200
        assert again.json()["bars"][0]["date"] == dt.date(2026, 11, 2).isoformat()


def test_stopping_a_server_thread_cuts_the_stream_too(big_sqlite: str) -> None:
    app = create_app(open_read_only(big_sqlite), clock=fixed_clock, close=True)
    server = ServerThread(app).start()
    sock = slow_client(server.port, f"/bars?symbols={all_symbols(server.url)}&format=json")
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.5
    assert not server._thread.is_alive()
    assert not rest_of(sock).endswith(b"0\r\n\r\n")
