"""The uvicorn protocol of ``datanexus serve``: an answer's head and body leave in one write."""

from __future__ import annotations

import asyncio
import socket

import httpx

from data_nexus.serve import ServerThread, create_app, open_read_only
from data_nexus.serve.server import HEAD_MAX, _Coalescing
from tests.serve.conftest import fixed_clock


class Recording(asyncio.Transport):
    """A transport that keeps what is written to it (the network edge of these tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 7


def run(steps: list[object]) -> tuple[Recording, list[list[bytes]]]:
    """Apply ``steps`` (bytes: a write; "yield": let the loop run; "close"/"abort") to a
    coalescing transport; return it and a snapshot of the writes after each step."""
    raw = Recording()
    seen: list[list[bytes]] = []

    async def main() -> None:
        coalescing = _Coalescing(raw, asyncio.get_running_loop())
        for step in steps:
            if isinstance(step, bytes):
                coalescing.write(step)
            elif step == "yield":
                await asyncio.sleep(0)
            elif step == "close":
                coalescing.close()
            elif step == "abort":
                coalescing.abort()
            seen.append(list(raw.writes))
        assert coalescing.get_write_buffer_size() == 7  # everything else is the transport's
        await asyncio.sleep(0)

    asyncio.run(main())
    return raw, seen


def test_head_and_body_in_one_step_are_one_write() -> None:
    body = b"x" * 30_000
    raw, seen = run([b"HTTP/1.1 200 OK\r\n\r\n", body])
    assert seen[0] == []  # the head waits for the body
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\n" + body]


def test_a_head_alone_leaves_when_the_loop_is_free() -> None:
    raw, seen = run([b"head", "yield", b"chunk", "yield"])
    assert seen[1] == [b"head"]  # not held behind the wait for the next piece
    assert raw.writes == [b"head", b"chunk"]


def test_a_large_write_leaves_at_once_and_order_is_kept() -> None:
    big = b"y" * (HEAD_MAX + 1)
    raw, seen = run([big, b"small", b"more"])
    assert seen[0] == [big]
    assert raw.writes == [big, b"smallmore"]


def test_close_sends_what_waits_and_abort_drops_it() -> None:
    closed, _ = run([b"last words", "close"])
    assert closed.writes == [b"last words"] and closed.closed
    aborted, _ = run([b"cut", "abort"])
    assert aborted.writes == [] and aborted.aborted


def test_a_served_answer_is_complete_and_kept_alive(demo_sqlite: str) -> None:
    """Through the real protocol: several answers on one keep-alive connection, each whole."""
    app = create_app(open_read_only(demo_sqlite), clock=fixed_clock, close=True)
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        for year in (2025, 2026):
            response = client.get("/bars/AAPL.US", params={"from": f"{year}-01-01"})
            assert response.status_code == 200
            assert response.json()["bars"][0]["date"].startswith(str(year))
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
            head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 404 ")
        assert b'{"error":' in head  # the head and its small body arrive together
