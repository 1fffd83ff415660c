"""Every error of the HTTP API as JSON ``{"error": "<one line>"}``, never a stack trace.

One place maps exceptions to status codes (as :mod:`data_nexus.cli.errors` does for exit
codes):

- 400: a bad parameter (a date that is not ``YYYY-MM-DD``, an unknown adjust mode or
  interval, a malformed symbol): FastAPI's own validation errors included, which it would
  otherwise answer with 422.
- 401: a missing or wrong bearer token (with ``WWW-Authenticate: Bearer``).
- 404: an unknown path, or symbols the warehouse does not hold (the library's
  :class:`~data_nexus.errors.UnknownSymbols`, a ``UsageError``: mapped before the 400 of
  other usage errors).
- 503: the database cannot be reached (or went away mid-request) or its schema is not at
  head.
- 500: anything else, as ``{"error": "internal error"}``; the detail goes to the server's
  log, not to the client.
"""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data_nexus.errors import ConfigError, DataNexusError, StorageError, UnknownSymbols
from data_nexus.redact import redact

log = logging.getLogger("data_nexus.serve")

#: Driver errors that mean the database went away mid-request (a restarted or unreachable
#: server, a locked or vanished file): 503, and the connection is not reused. SQLAlchemy
#: wraps them (its ``orig``); see :func:`database_gone`.
DATABASE_GONE: tuple[type[Exception], ...] = (psycopg.OperationalError, sqlite3.OperationalError)


def database_gone(error: BaseException) -> bool:
    """Whether ``error`` (or the driver error SQLAlchemy wrapped in it) is in DATABASE_GONE."""
    return isinstance(error, DATABASE_GONE) or isinstance(
        getattr(error, "orig", None), DATABASE_GONE
    )


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str


class BadParameter(DataNexusError):
    """A query parameter that cannot be used (HTTP 400)."""


#: OpenAPI ``responses`` for the error answers every data endpoint can give.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A bad parameter."},
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token."},
    503: {"model": ErrorBody, "description": "The database is unreachable or not at head."},
}
SYMBOL_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "Unknown symbol."},
}


def one_line(error: BaseException) -> str:
    """The first line of an error's message, secrets redacted."""
    lines = redact(str(error)).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error answer."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


#: What a parameter that fails its pattern should look like, by parameter name.
_EXPECTED = {
    "symbol": "expected CODE.EXCHANGE, e.g. AAPL.US",
    "symbols": "expected CODE.EXCHANGE symbols separated by commas, e.g. AAPL.US,MSFT.US",
    "exchange": "expected an exchange code such as US, LSE or XETRA",
}


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = [p for p in item.get("loc", ()) if p not in ("query", "path")]
        where = str(loc[0]) if loc else "request"
        given = item.get("input")
        text = str(item.get("msg", "invalid value"))
        if item.get("type") == "string_pattern_mismatch" and where in _EXPECTED:
            text = _EXPECTED[where]
        if isinstance(given, str):
            parts.append(f"invalid {where} {given[:64]!r}: {text}")
        else:
            parts.append(f"invalid {where}: {text}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Register the exception → JSON mapping described in the module docstring."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(error))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "request failed"
        if error.status_code == 404 and message == "Not Found":
            message = "no such path (see /docs for the API)"
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, message, headers)

    @app.exception_handler(UnknownSymbols)  # the library's, from its known-symbol check
    async def _unknown(_request: Request, error: UnknownSymbols) -> JSONResponse:
        return error_response(404, one_line(error))

    @app.exception_handler(ConfigError)
    async def _bad(_request: Request, error: ConfigError) -> JSONResponse:
        return error_response(400, one_line(error))

    @app.exception_handler(BadParameter)
    async def _bad_parameter(_request: Request, error: BadParameter) -> JSONResponse:
        return error_response(400, one_line(error))

    @app.exception_handler(StorageError)
    async def _storage(_request: Request, error: StorageError) -> JSONResponse:
        return error_response(503, one_line(error))

    app.add_middleware(InternalErrors)


class InternalErrors:
    """ASGI middleware: an unexpected exception becomes a JSON 500 (or 503), not a reset.

    Starlette's own catch-all answers and then re-raises, and uvicorn drops the connection,
    so a client could see a reset instead of the answer. Here the error is logged and
    answered; only an error after the answer started (a broken stream) is re-raised, so the
    server aborts that response rather than end it as if it were complete.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:
            if started:
                raise
            path = scope.get("path", "")
            if database_gone(error):
                log.warning("database error on %s %s: %s", scope.get("method"), path, error)
                cause = getattr(error, "orig", None) or error
                response = error_response(503, f"database unavailable: {one_line(cause)}")
            else:
                log.error("internal error on %s %s", scope.get("method"), path, exc_info=error)
                response = error_response(500, "internal error")
            await response(scope, receive, send)
