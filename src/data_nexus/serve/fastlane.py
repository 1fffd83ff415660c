"""A short path for the hottest request, ``GET /bars/{symbol}``, around FastAPI's own.

FastAPI spends more CPU on a request's parameters (dependency solving, pydantic validation,
routing through the included routers) than SQLite spends reading a symbol-year
(``benchmarks/serve_http.py``; docs/benchmarks.md, "HTTP"). :class:`FastLane` answers the
plain, well-formed form of that request itself, ahead of FastAPI: the application of
:func:`~data_nexus.serve.app.create_app` asks it first (:meth:`FastLane.answered`), before
FastAPI's own per-request work and its middleware stack run:

- ``GET /bars/<CODE.EXCHANGE>`` with at most one each of ``from``, ``to`` (``YYYY-MM-DD``),
  ``adjust``, ``interval`` and ``format`` (their exact allowed values), nothing else;
- with the server's bearer token, when it has one, sent in the form the guard accepts.

It calls the endpoint's own :func:`~data_nexus.serve.data.symbol_bars`, so the answer is the
same bytes (for unadjusted daily JSON on SQLite, the document the database writes:
:func:`~data_nexus.query.bars_json.get_bars_json`). Everything else goes on to FastAPI
untouched: other paths, unknown or repeated parameters, values the short path does not
parse, a missing or wrong token, and any request whose read raised (one of our errors: an
unknown symbol, ``from`` after ``to``; a database that went away; or anything unexpected):
FastAPI reads again and answers as documented (400/401/404/503, JSON), an unexpected error
through :class:`~data_nexus.serve.errors.InternalErrors` (logged, a JSON 500). The route stays in
the OpenAPI schema, which describes both paths.

Where the read runs: on SQLite, a read of at most :data:`INLINE_DAYS` (``from`` and ``to``
both given: a symbol-year is about 0.3 ms) runs on the event loop itself *when no other
fast-lane read is under way*, which saves the hand-over to a worker thread (about 0.1 ms of
server CPU and of latency per request; ``benchmarks/serve_http.py``, docs/benchmarks.md).
Under concurrent load the reads go to worker threads as before: always inline, 8 clients got
about half the requests per second on this shared 2-core machine (403-648 against 739-846
req/s threaded, interleaved runs), as one thread doing everything gets less of a busy
machine and nothing overlaps the parts of a read that release the GIL. Longer reads, and
every read on PostgreSQL (which waits on the network), always run in a worker thread, as
FastAPI's endpoints do.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from data_nexus.serve.auth import bearer_matches
from data_nexus.serve.data import SYMBOL_PATTERN, symbol_bars
from data_nexus.serve.readonly import Warehouse

#: The longest range (``to`` - ``from``, days) read on the event loop on SQLite (module docstring).
INLINE_DAYS = 400
_PREFIX = "/bars/"
_SYMBOL = re.compile(SYMBOL_PATTERN)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Each parameter the short path takes, with its allowed values (None: a date).
_CHOICES: dict[str, frozenset[str] | None] = {
    "from": None,
    "to": None,
    "adjust": frozenset({"none", "splits", "all", "provider"}),
    "interval": frozenset({"1d", "1w", "1mo", "1q", "1y"}),
    "format": frozenset({"json", "csv", "parquet", "arrow"}),
}


def parse_query(query: bytes) -> dict[str, Any] | None:
    """The parameters of ``GET /bars/{symbol}`` from a query string, or None when the short
    path does not take it (FastAPI then parses it and answers any error)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)  # as Starlette does
    args: dict[str, Any] = {}
    for key, value in pairs:
        if key not in _CHOICES or key in args:
            return None
        choices = _CHOICES[key]
        if choices is None:
            if not _DATE.fullmatch(value):
                return None
            try:
                args[key] = dt.date.fromisoformat(value)
            except ValueError:
                return None
        elif value in choices:
            args[key] = value
        else:
            return None
    return args


class FastLane:
    """Answers plain ``GET /bars/{symbol}`` requests (module docstring).

    :meth:`answered` is the hook the application calls first; called as an ASGI
    application, it wraps ``app`` (answers what it can, hands the rest to ``app``).
    """

    def __init__(self, app: ASGIApp, *, warehouse: Warehouse, token: str | None) -> None:
        self.app = app
        self.pool = warehouse.readers
        self.inline = warehouse.backend == "sqlite"
        self.in_flight = 0  # fast-lane reads under way in worker threads
        self.expected = token.encode() if token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.answered(scope, receive, send):
            await self.app(scope, receive, send)

    async def answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer ``scope`` if it is a plain ``GET /bars/{symbol}``; False: not answered."""
        request = self._request(scope) if scope["type"] == "http" else None
        if request is None:
            return False
        response = await self._answer(*request)
        if response is None:
            return False
        await response(scope, receive, send)
        return True

    def _request(self, scope: Scope) -> tuple[str, dict[str, Any]] | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(_PREFIX) or scope.get("root_path"):
            return None
        symbol = path[len(_PREFIX) :]
        if not _SYMBOL.fullmatch(symbol):
            return None
        if self.expected is not None and not self._authorized(scope):
            return None
        args = parse_query(scope.get("query_string", b""))
        if args is None:
            return None
        return symbol, args

    def _authorized(self, scope: Scope) -> bool:
        assert self.expected is not None
        for name, value in scope["headers"]:
            if name.lower() == b"authorization":  # the first one, as Starlette's headers.get
                return bearer_matches(value.decode("latin-1"), self.expected)
        return False

    async def _answer(self, symbol: str, args: dict[str, Any]) -> Response | None:
        read = partial(
            symbol_bars,
            self.pool,
            symbol,
            args.get("from"),
            args.get("to"),
            args.get("adjust", "none"),
            args.get("interval", "1d"),
            args.get("format", "json"),
        )
        try:
            if self.inline and not self.in_flight and _small(args):
                return read()
            self.in_flight += 1
            try:
                return await run_in_threadpool(read)
            finally:
                self.in_flight -= 1
        except Exception:
            # ours (DataNexusError), a database gone, or unexpected: FastAPI reads again and
            # answers as documented (400/404/503, or InternalErrors' logged JSON 500)
            return None


def _small(args: dict[str, Any]) -> bool:
    """Whether a read covers at most :data:`INLINE_DAYS` (both ends given)."""
    start, end = args.get("from"), args.get("to")
    return start is not None and end is not None and (end - start).days <= INLINE_DAYS
