"""The emulator as a real HTTP/1.1 server on loopback, run in a background thread.

One thread per connection (keep-alive connections stay open between requests), every
response with ``Content-Length``. Latency and ``timeout`` faults sleep in the connection's
own thread, so concurrent requests wait in parallel; closing the server wakes them, shuts
idle keep-alive connections down and joins every thread, leaving no socket open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from data_nexus.emulator.config import EmulatorConfig
from data_nexus.emulator.injected import Injected
from data_nexus.emulator.messages import Request, Response
from data_nexus.emulator.service import EmulatorService
from data_nexus.errors import ConfigError
from data_nexus.redact import redact

logger = logging.getLogger("data_nexus.emulator")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], service: EmulatorService) -> None:
        self.service = service
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quietly drop connections the client (or ``close()``) broke mid-request."""
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)

    def drop_connections(self) -> None:
        """Shut every open connection down, so idle keep-alive threads return."""
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-eodhd"
    # Headers and body leave in one segment, without Nagle's delay on keep-alive connections.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request.from_target(self.command, self.path, host)
        self._write(self.server.service.handle(request))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.disconnect:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.disconnect:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged at debug level only, with the token masked."""
        logger.debug("%s %s", self.address_string(), redact(format % args))


class EmulatorServer:
    """An EODHD-compatible server with a synthetic market, for tests, benchmarks and demos.

    Use it as a context manager (``with EmulatorServer(EmulatorConfig(seed=1)) as server:``)
    or call :meth:`start` and :meth:`close`. Keyword arguments override fields of
    ``config``. Point a client at :attr:`base_url` with :attr:`token`.
    """

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        config = config or EmulatorConfig()
        self.config = replace(config, **overrides) if overrides else config
        self.market = self.config.build_market()
        self._stopping = threading.Event()
        self.service = EmulatorService(self.config, self.market, sleep=self._stopping.wait)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Bind the socket and serve in a background thread; :class:`ConfigError` if busy."""
        if self._httpd is not None:
            return self
        address = (self.config.host, self.config.port)
        try:
            self._httpd = _HTTPServer(address, self.service)
        except OSError as error:
            reason = error.strerror or str(error)
            raise ConfigError(
                f"cannot listen on {address[0]}:{address[1]}: {reason}; "
                "choose another --host/--port (port 0 picks a free one)"
            ) from None
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-eodhd",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake sleeping requests, close every connection and the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wait(self) -> None:
        """Block until :meth:`close` is called (Ctrl-C raises ``KeyboardInterrupt`` here)."""
        while self._httpd is not None and not self._stopping.wait(0.2):
            pass

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- where it listens ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when the config said 0)."""
        if self._httpd is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (admin endpoints live under ``/_admin``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root, the emulator's ``https://eodhd.com/api``."""
        return f"{self.url}/api"

    @property
    def token(self) -> str:
        """The (paid-plan) token the emulator accepts."""
        return self.config.token

    # --- control ------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Request counters, as ``GET /_admin/stats`` returns them."""
        return self.service.stats_snapshot()

    def reset_stats(self) -> None:
        """Zero the request counters (the daily allowance is not touched)."""
        self.service.stats.reset()

    def advance(
        self,
        days: int = 1,
        *,
        splits: dict[str, str] | None = None,
        dividends: Mapping[str, Decimal | str | Sequence[Decimal | str]] | None = None,
    ) -> dt.date:
        """Move today forward; see :meth:`~data_nexus.emulator.market.Market.advance`."""
        return self.service.advance(days, splits=splits, dividends=dividends)

    def set_fault(
        self, symbol: str, kind: str, count: int | None = None, *, endpoint: str | None = None
    ) -> None:
        """Inject ``kind`` for requests on ``symbol`` (or exchange, or ``*``); see ``faults``."""
        self.service.faults.add(symbol, kind, count, endpoint)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.service.faults.clear()

    def add_dirt(self, symbol: str, kind: str) -> list[Injected]:
        """Serve ``kind`` of real-world dirt for ``symbol`` (see :mod:`.dirt`); the faults."""
        return self.service.dirt.add(symbol, kind)

    def truth(self) -> list[Injected]:
        """Every injected fault (what ``GET /_admin/truth`` lists)."""
        return self.service.dirt.truth()

    def clear_dirt(self) -> None:
        """Serve clean data again."""
        self.service.dirt.clear()


def serve(
    config: EmulatorConfig, on_ready: Callable[[EmulatorServer], object] | None = None
) -> None:
    """Run an emulator in the foreground until Ctrl-C (``KeyboardInterrupt``), then close it.

    ``on_ready`` is called once the socket listens (to print the URL, say). This is what
    ``datanexus fake-eodhd`` runs; a ``KeyboardInterrupt`` ends it normally.
    """
    with EmulatorServer(config) as server:
        if on_ready is not None:
            on_ready(server)
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
