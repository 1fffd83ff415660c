"""The JSON endpoints. Each one parses its parameters, calls one library function, renders.

No SQL here: everything goes through :mod:`data_nexus.assets`, the query API and
:mod:`data_nexus.storage`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import StringConstraints

from data_nexus.assets import list_assets
from data_nexus.clock import Clock
from data_nexus.errors import StorageError
from data_nexus.serve.auth import health_details_for
from data_nexus.serve.data import EXCHANGE_PATTERN, SYMBOL_PATTERN
from data_nexus.serve.errors import ERROR_RESPONSES, one_line
from data_nexus.serve.models import AssetOut, HealthOut
from data_nexus.serve.readonly import schema_revision
from data_nexus.storage import registry
from data_nexus.storage.migrate import head_revision
from data_nexus.storage.store import Store
from data_nexus.storage.writer import DRIVER_ERRORS

router = APIRouter()
#: ``/health``: answered without the bearer token, details only with it (serve/auth.py).
health_router = APIRouter()

#: What makes /health answer "unreachable" rather than fail.
UNREACHABLE: tuple[type[Exception], ...] = (StorageError, *DRIVER_ERRORS)


def store_of(request: Request) -> Store:
    """The application's store."""
    store: Store = request.app.state.warehouse.store
    return store


def clock_of(request: Request) -> Clock:
    """The application's clock."""
    clock: Clock = request.app.state.clock
    return clock


Exchange = Annotated[
    str | None,
    Query(description="Only assets of this exchange code, e.g. US.", pattern=EXCHANGE_PATTERN),
]


@health_router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "Unhealthy: see the fields."}},
    tags=["meta"],
)
def health(request: Request) -> JSONResponse:
    """Database reachable, schema at head, and the age of the newest stored bar.

    200 when the database answers and its schema is at head, 503 otherwise. The age is in
    calendar days from today's UTC date to the newest ``last_date`` of any asset. Needs no
    bearer token (for load balancers and probes); without it, when the server has one, the
    detail fields (backend, revisions, newest bar date, message) are null.
    """
    store = store_of(request)
    head = head_revision()
    out = HealthOut(
        status="ok",
        backend=request.app.state.warehouse.backend,
        reachable=True,
        schema_revision=None,
        schema_head=head,
        schema_at_head=False,
        newest_bar=None,
        newest_bar_age_days=None,
        message=None,
    )
    try:
        out.schema_revision = schema_revision(store, request.app.state.warehouse.url)
        out.schema_at_head = out.schema_revision == head
        if out.schema_at_head:
            with store.connection() as conn:  # one aggregate row, not every asset
                out.newest_bar = registry.newest_bar_date(conn)
            if out.newest_bar is not None:
                out.newest_bar_age_days = (clock_of(request)().date() - out.newest_bar).days
        else:
            out.message = "schema not at head: run 'datanexus db upgrade'"
    except UNREACHABLE as error:
        out.reachable = False
        out.message = one_line(error)
    healthy = out.reachable and out.schema_at_head
    out.status = "ok" if healthy else "unhealthy"
    if not health_details_for(request.headers.get("authorization"), request.app.state.token):
        out.backend = out.schema_revision = out.schema_head = out.message = None
        out.newest_bar = None
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if healthy else 503)


@router.get("/assets", response_model=list[AssetOut], responses=ERROR_RESPONSES, tags=["data"])
def assets(
    request: Request,
    exchange: Exchange = None,
    symbol: Annotated[
        list[Annotated[str, StringConstraints(pattern=f"^{SYMBOL_PATTERN}$")]] | None,
        Query(description="Only these symbols (CODE.EXCHANGE); repeatable."),
    ] = None,
) -> list[AssetOut]:
    """Registered assets with their coverage and sync state, ordered by symbol."""
    rows = list_assets(store_of(request), exchange=exchange, symbols=symbol or ())
    return [AssetOut.model_validate(row, from_attributes=True) for row in rows]


def _today(request: Request) -> dt.date:
    return clock_of(request)().date()
