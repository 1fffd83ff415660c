"""The FastAPI application of ``datanexus serve``: the read-only HTTP API and the web page.

:func:`create_app` builds it over an open :class:`~data_nexus.serve.readonly.Warehouse` (open it
with :func:`~data_nexus.serve.readonly.open_read_only`). The routes call the same library
functions as the command line and hold no SQL. Endpoints are plain ``def`` functions: the
query API is synchronous, so Starlette runs them in its worker threads and the event loop
never waits on the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from data_nexus import __version__
from data_nexus.clock import Clock, utcnow
from data_nexus.serve import api, data, pages
from data_nexus.serve.auth import bearer_guard
from data_nexus.serve.errors import install_error_handlers
from data_nexus.serve.fastlane import FastLane
from data_nexus.serve.readonly import Warehouse

DESCRIPTION = """\
Read-only access to a Data Nexus warehouse: assets, daily bars (raw or adjusted, resampled),
corporate actions, sync status and runs.

Errors are JSON `{"error": "<message>"}`: 400 for a bad parameter, 401 for a missing or
wrong bearer token, 404 for an unknown symbol, 503 when the database is unreachable.

`/health` needs no token (for load balancers); without it, when the server has one, it
shows only status, reachability, whether the schema is at head and the newest bar's age.
"""


class _App(FastAPI):
    """FastAPI with :mod:`~data_nexus.serve.fastlane` ahead of everything it does per request
    (its telemetry hook, the middleware stack, routing): a plain ``GET /bars/{symbol}`` is
    answered before any of them runs; any other request, or one the fast lane gives up on,
    goes through FastAPI as if the fast lane were not there."""

    fast_lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.fast_lane
        if lane is None or not await lane.answered(scope, receive, send):
            await super().__call__(scope, receive, send)


def static_dir() -> str:
    """The directory of the page's scripts, styles and the vendored chart library."""
    return str(files("data_nexus.serve") / "static")


def create_app(
    warehouse: Warehouse,
    *,
    token: str | None = None,
    clock: Clock = utcnow,
    close: bool = False,
    fast_lane: bool = True,
) -> FastAPI:
    """The application over ``warehouse`` (open it with :func:`.open_read_only`).

    ``token``: when given, every data endpoint needs ``Authorization: Bearer <token>``;
    ``/health`` answers without it, with its details withheld
    (see :mod:`data_nexus.serve.auth`). ``clock`` dates the health and staleness figures.
    ``close``: close ``warehouse`` when the application shuts down. ``fast_lane``: answer
    plain ``GET /bars/{symbol}`` requests around FastAPI (:mod:`data_nexus.serve.fastlane`;
    the same answers, a fraction of the CPU); off, every request goes through FastAPI.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close:
                warehouse.close()

    app = _App(
        title="Data Nexus",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # pages.api_docs serves /docs from the vendored Swagger UI (offline)
        redoc_url=None,  # ReDoc would load its script from a CDN
    )
    app.state.warehouse = warehouse
    app.state.clock = clock
    app.state.token = token  # /health shows its details only with it (serve/auth.py)
    if fast_lane:
        app.fast_lane = FastLane(app, warehouse=warehouse, token=token)
    install_error_handlers(app)
    guards: list[Any] = [Depends(bearer_guard(token))] if token is not None else []
    app.include_router(api.health_router)  # no guard: probes cannot send a token
    app.include_router(api.router, dependencies=guards)
    app.include_router(data.router, dependencies=guards)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app
