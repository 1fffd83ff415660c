"""Running the application under uvicorn: in the foreground (the CLI) or in a thread.

:class:`ServerThread` binds its socket before uvicorn starts, so ``port=0`` picks a free
port that is known at once; tests and the benchmark use it to talk to a real server over a
real socket.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from data_nexus.errors import ConfigError

log = logging.getLogger("uvicorn.error")  # beside uvicorn's own lines, in their format

#: How often, while shutting down, answers still being sent are looked for (seconds).
CUT_EVERY = 0.05


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (IPv6 when ``host`` is an IPv6 address).

    Raises :class:`~data_nexus.errors.ConfigError` when the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {error.strerror or error} "
            "(is another server using it? try --port)"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


#: The longest write held back to be sent with the next one (bytes): a response head.
HEAD_MAX = 8192


class _Coalescing:
    """A connection's transport whose response head leaves in one ``send`` with the body.

    uvicorn writes an answer's status line and headers when the application sends
    ``http.response.start`` and the body on ``http.response.body``: two ``send`` calls and
    two TCP segments (``TCP_NODELAY``) for every small answer. On loopback a ``send`` does
    the whole network stack's work (the largest single item in a profile of the server),
    and the client may wake twice (docs/benchmarks.md, "HTTP", third pass).

    Here a small write (at most :data:`HEAD_MAX` bytes) with nothing before it waits; the
    next write in the same event-loop step joins it and both leave at once, and if none
    comes (a streamed answer whose first piece is still being read) it leaves as soon as
    the event loop is free again (``call_soon``), so nothing is delayed behind a wait. A
    larger write leaves at once; order is always kept. ``close`` sends what waits first;
    ``abort`` drops it. Everything else is the transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif len(data) <= HEAD_MAX:
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol, its transport :class:`_Coalescing` (or, without the
    ``httptools`` package, uvicorn's default protocol as it is)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: PLC0415
    except ImportError:  # pragma: no cover - the serve extra installs httptools
        return "auto"

    class Protocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.transport = _Coalescing(transport, self.loop)  # type: ignore[assignment]

    return Protocol


def _config(app: FastAPI, log_level: str, access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=_protocol(),
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, remembering the signal (Ctrl-C, SIGTERM) that stopped it, and
    cutting answers still being sent when it stops.

    uvicorn's graceful shutdown waits for every connection to finish its answer, then, after
    ``timeout_graceful_shutdown``, cancels the request tasks, which logs a long
    ``CancelledError`` traceback per task. A streamed answer (``GET /bars?symbols=…`` of many
    symbols) to a slow client easily outlasts that. Here, from the moment shutdown starts
    (and every :data:`CUT_EVERY` seconds during it, for an answer that starts later), a
    connection whose answer has started but not ended is aborted: one warning line each.
    The client sees the connection cut before the answer's end (no closing chunk, or a
    short body), never an answer that looks complete; the streaming response sees a
    disconnect and ends without error (Starlette stops it as for a client that went away).
    Requests not answering yet still finish within the grace period.
    """

    signalled: int | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.signalled = sig
        super().handle_exit(sig, frame)
        # uvicorn raises a captured signal again once it has shut down: SIGTERM's default
        # action then ends the process with 143 before :func:`serve` can say "interrupted"
        # (130, as for Ctrl-C); serve raises KeyboardInterrupt for either signal itself
        self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        cutter = asyncio.create_task(self._cut_answers())
        try:
            await super().shutdown(sockets)
        finally:
            cutter.cancel()

    async def _cut_answers(self) -> None:
        while True:
            for connection in list(self.server_state.connections):
                cut_answer(connection)
            await asyncio.sleep(CUT_EVERY)


def cut_answer(connection: object) -> bool:
    """Abort ``connection`` (a uvicorn HTTP protocol) if its answer is started but not sent.

    Returns whether it did. Reads uvicorn's ``cycle`` (the request being answered) and
    ``transport``, which both of its HTTP protocols (httptools, h11) keep.
    """
    cycle = getattr(connection, "cycle", None)
    transport = getattr(connection, "transport", None)
    if cycle is None or transport is None or transport.is_closing():
        return False
    if not cycle.response_started or cycle.response_complete or cycle.disconnected:
        return False
    scope = cycle.scope
    client = scope.get("client")
    to = f" to {client[0]}:{client[1]}" if client else ""
    log.warning(
        "stopped sending %s %s%s: the server is shutting down (the client gets a cut answer)",
        scope.get("method", ""),
        scope.get("path", ""),
        to,
    )
    transport.abort()
    return True


def run(
    app: FastAPI,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    on_listen: Callable[[int], None] | None = None,
    access_log: bool = False,
) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted (Ctrl-C or SIGTERM).

    Raises :class:`KeyboardInterrupt` after the graceful shutdown that a signal started (the
    CLI turns it into exit code 130).

    ``on_listen`` is called with the bound port once the socket listens, before serving: a
    caller announces the address only when it is really served. Raises
    :class:`~data_nexus.errors.ConfigError` (before ``on_listen``) if the address is taken.
    ``access_log``: a line per request on stdout (uvicorn's access log; off by default, as
    formatting it costs about a tenth of the CPU of a one-symbol-year request).
    """
    sock = bind(host, port)
    try:
        if on_listen is not None:
            on_listen(int(sock.getsockname()[1]))
        server = _Server(_config(app, log_level, access_log=access_log))
        server.run(sockets=[sock])
    finally:
        sock.close()
    if server.signalled is not None:
        # uvicorn raises the signal again after a graceful shutdown, which ends the process
        # only where the signal is not ignored (a job started in the background of a shell
        # that has no job control ignores SIGINT): say "interrupted" the same way everywhere.
        raise KeyboardInterrupt


class ServerThread:
    """``app`` served by uvicorn in a daemon thread on ``host``:``port`` (0: a free one).

    Use as a context manager; :attr:`url` is the base URL once it is entered.
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._server = _Server(_config(app, "warning", access_log=False))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout: float = 30.0) -> ServerThread:
        """Start serving; return once the server accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
