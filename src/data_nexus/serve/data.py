"""Bars, corporate actions, sync status and runs: thin wrappers over the query API.

Each endpoint parses its parameters, borrows a read-only reader, calls the same library
function as the command line (:func:`~data_nexus.query.bars.get_bars_arrow`,
:func:`~data_nexus.query.status.get_actions`, :func:`~data_nexus.query.status.get_status`,
:func:`~data_nexus.query.status.get_runs`, :func:`~data_nexus.query.findings.get_findings`)
and renders. No SQL here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pandas as pd
import pyarrow as pa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import StringConstraints

from data_nexus.query.bars import check_known, get_bars_arrow, parse_range, symbol_list
from data_nexus.query.bars_json import get_bars_json
from data_nexus.query.findings import get_findings
from data_nexus.query.status import get_actions, get_runs, get_status
from data_nexus.serve import formats
from data_nexus.serve.errors import ERROR_RESPONSES, SYMBOL_RESPONSES
from data_nexus.serve.models import ActionsOut, BarsOut, FindingOut, RunOut, StatusOut
from data_nexus.serve.readers import ReaderPool
from data_nexus.storage.frames import FrameReader

router = APIRouter()

#: Symbols read per query while streaming ``GET /bars?symbols=…``: memory stays flat in it.
PIECE = 25

Adjust = Literal["none", "splits", "all", "provider"]
Interval = Literal["1d", "1w", "1mo", "1q", "1y"]
Format = Literal["json", "csv", "parquet", "arrow"]

FromDate = Annotated[
    dt.date | None, Query(alias="from", description="First date (YYYY-MM-DD), inclusive.")
]
ToDate = Annotated[
    dt.date | None, Query(alias="to", description="Last date (YYYY-MM-DD), inclusive.")
]
AdjustQ = Annotated[
    Adjust,
    Query(
        description="none: as traded; splits: earlier prices divided by later splits; all: "
        "splits and dividends (multiplicative back-adjustment); provider: scaled by the "
        "provider's adjusted_close."
    ),
]
IntervalQ = Annotated[Interval, Query(description="Bar length: day, week, month, quarter, year.")]
FormatQ = Annotated[Format, Query(description="Answer format (see the endpoint's description).")]
#: What :func:`data_nexus.symbols.parse_symbol` accepts (case-insensitive), as a pattern the
#: OpenAPI schema carries.
SYMBOL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_&=+\-]{0,47}\.[A-Za-z0-9]{1,16}"
EXCHANGE_PATTERN = r"^[A-Za-z0-9]{1,16}$"
SymbolPath = Annotated[
    str, Path(description="CODE.EXCHANGE, e.g. AAPL.US.", pattern=f"^{SYMBOL_PATTERN}$")
]

_BAR_CONTENT: dict[str, Any] = {
    "application/json": {},
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
    "application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}},
}


def readers_of(request: Request) -> ReaderPool:
    """The application's reader pool."""
    pool: ReaderPool = request.app.state.warehouse.readers
    return pool


def _cutoff(reader: FrameReader, symbols: list[str], end: dt.date | None) -> str | None:
    last = reader.last_dates(symbols).values()
    if not last:
        return None
    newest = max(last)
    return (min(newest, end) if end else newest).isoformat()


def _download(fmt: str, name: str) -> dict[str, str]:
    if fmt == "json":
        return {}
    return {"Content-Disposition": f'attachment; filename="{name}.{formats.EXTENSIONS[fmt]}"'}


@router.get(
    "/bars/{symbol}",
    responses={
        **SYMBOL_RESPONSES,
        200: {"model": BarsOut, "content": _BAR_CONTENT, "description": "The bars."},
    },
    response_class=Response,
    tags=["data"],
)
def bars_of_symbol(
    request: Request,
    symbol: SymbolPath,
    *,
    start: FromDate = None,
    end: ToDate = None,
    adjust: AdjustQ = "none",
    interval: IntervalQ = "1d",
    format: FormatQ = "json",
) -> Response:
    """One symbol's bars in [from, to], oldest first.

    JSON: ``{"symbol", "adjust", "interval", "bars": [{"date", "open", "high", "low",
    "close", "adjusted_close", "volume"}], "cutoff"}``, prices as numbers, missing values
    null: unadjusted daily prices on SQLite exactly as stored, otherwise float64. CSV,
    Parquet and Arrow (IPC stream) carry a ``symbol`` column as well.
    """
    return symbol_bars(readers_of(request), symbol, start, end, adjust, interval, format)


def symbol_bars(  # noqa: PLR0917 - the endpoint's parameters, in its order
    pool: ReaderPool,
    symbol: str,
    start: dt.date | None,
    end: dt.date | None,
    adjust: str,
    interval: str,
    format: str,
) -> Response:
    """The answer of ``GET /bars/{symbol}`` for parameters already checked.

    Shared by the endpoint and :mod:`data_nexus.serve.fastlane`, so both answer alike. JSON
    of the bars as stored (``adjust=none``, ``interval=1d``) is the database's own document
    where it writes one (:func:`~data_nexus.query.bars_json.get_bars_json`, SQLite: prices
    exactly as stored); everything else is encoded from Arrow (:mod:`.formats`). An
    unknown symbol is the library's :class:`~data_nexus.errors.UnknownSymbols` (404, see
    :mod:`data_nexus.serve.errors`), found by the same query that reads the bars.
    """
    name = symbol_list(symbol)[0]
    first, last = parse_range(start, end)
    as_stored = format == "json" and adjust == "none" and interval == "1d"
    with pool.reader() as reader:
        document = get_bars_json(name, first, last, store=reader) if as_stored else None
        if document is not None:
            return Response(document, media_type=formats.MEDIA_TYPES["json"])
        table = get_bars_arrow(name, first, last, adjust, interval, store=reader)
    cutoff = _cutoff_of(table, last)
    meta: dict[str, str] = {"symbol": name, "adjust": adjust, "interval": interval}
    if format != "json":
        meta["cutoff"] = cutoff or ""
    body = b"".join(
        formats.encode(format, [table], meta, with_symbol=format != "json", cutoff=cutoff)
    )
    return Response(body, media_type=formats.MEDIA_TYPES[format], headers=_download(format, name))


def _cutoff_of(table: pa.Table, end: dt.date | None) -> str | None:
    """The newest stored bar date the library read (its ``cutoff`` metadata), capped at ``end``.

    The same figure as :func:`_cutoff` without a second query.
    """
    stored = (table.schema.metadata or {}).get(b"cutoff", b"").decode()
    if not stored:
        return None
    newest = dt.date.fromisoformat(stored)
    return (min(newest, end) if end else newest).isoformat()


@router.get(
    "/bars",
    responses={
        **SYMBOL_RESPONSES,
        200: {"model": BarsOut, "content": _BAR_CONTENT, "description": "The bars, streamed."},
    },
    response_class=StreamingResponse,
    tags=["data"],
)
def bars_of_symbols(
    request: Request,
    symbols: Annotated[
        list[Annotated[str, StringConstraints(pattern=f"^{SYMBOL_PATTERN}(,{SYMBOL_PATTERN})*$")]],
        Query(
            description="Symbols (CODE.EXCHANGE), comma-separated and/or repeated.",
            min_length=1,
        ),
    ],
    *,
    start: FromDate = None,
    end: ToDate = None,
    adjust: AdjustQ = "none",
    interval: IntervalQ = "1d",
    format: FormatQ = "json",
) -> StreamingResponse:
    """Bars of several symbols, ordered by (symbol, date), streamed.

    The answer is written as it is read, :data:`PIECE` symbols at a time, so memory stays
    flat however many symbols are asked for. Shapes as for ``/bars/{symbol}``; every JSON
    bar names its ``symbol``. Unknown symbols are refused (404) before anything is sent.
    """
    names = symbol_list([s for item in symbols for s in item.split(",") if s.strip()])
    first, last = parse_range(start, end)
    pool = readers_of(request)
    with pool.reader() as reader:
        check_known(reader, names)  # refused (404) before anything is sent
        cutoff = _cutoff(reader, names, last)
    meta: dict[str, str] = {"adjust": adjust, "interval": interval}
    if format != "json":
        meta["cutoff"] = cutoff or ""

    def pieces() -> Iterator[pa.Table]:
        for i in range(0, len(names), PIECE):
            with pool.reader() as piece_reader:
                yield get_bars_arrow(
                    names[i : i + PIECE], first, last, adjust, interval, store=piece_reader
                )

    return StreamingResponse(
        formats.encode(format, pieces(), meta, cutoff=cutoff),
        media_type=formats.MEDIA_TYPES[format],
        headers=_download(format, "bars"),
    )


def instant_text(value: dt.datetime) -> str:
    """An instant as the API writes every one: ISO 8601 in UTC with ``Z``
    (``2026-03-04T05:06:07.891011Z``), as pydantic writes the response models' (``/assets``),
    so ``/status`` and ``/runs`` read the same. A naive value is taken as UTC."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return utc.isoformat().replace("+00:00", "Z")


def _value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.date().isoformat()
        return instant_text(value.to_pydatetime())
    if isinstance(value, dt.datetime):
        return instant_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # a NumPy scalar
        return _value(value.item())
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready dicts: dates as ISO text, NaN/NaT as None."""
    columns = list(frame.columns)
    return [
        {c: _value(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


@router.get(
    "/actions/{symbol}",
    responses={**SYMBOL_RESPONSES, 200: {"model": ActionsOut, "description": "The actions."}},
    response_class=JSONResponse,
    tags=["data"],
)
def actions_of_symbol(
    request: Request, symbol: SymbolPath, start: FromDate = None, end: ToDate = None
) -> JSONResponse:
    """A symbol's splits and dividends in [from, to], by ex-date.

    ``value`` is the split ratio (new/old shares) or the dividend per share adjusted for
    later splits; ``unadjusted_value`` the dividend as declared.
    """
    name = symbol_list(symbol)[0]
    first, last = parse_range(start, end)
    with readers_of(request).reader() as reader:
        frame = get_actions(name, first, last, store=reader)
    return JSONResponse({"symbol": name, "actions": records(frame)})


@router.get(
    "/status",
    responses={**ERROR_RESPONSES, 200: {"model": list[StatusOut], "description": "Per asset."}},
    response_class=JSONResponse,
    tags=["status"],
)
def status(
    request: Request,
    exchange: Annotated[
        str | None, Query(description="Only this exchange.", pattern=EXCHANGE_PATTERN)
    ] = None,
    state: Annotated[
        list[Literal["failing", "stale", "never synced", "paused", "ok"]] | None,
        Query(description="Only assets in these states (repeatable)."),
    ] = None,
) -> JSONResponse:
    """Every asset's freshness, failing and stale first (then never synced, paused, ok).

    ``rows`` counts stored bars; ``why`` is the last error of a failing asset and
    ``next_attempt_at`` when its backoff ends; ``open_findings`` counts the asset's open
    findings (listed by ``/findings``).
    """
    now = request.app.state.clock()
    with readers_of(request).reader() as reader:
        frame = get_status(now, store=reader)
    rows = records(frame)
    if exchange:
        rows = [r for r in rows if r["exchange"] == exchange.upper()]
    if state:
        rows = [r for r in rows if r["state"] in state]
    return JSONResponse(rows)


@router.get(
    "/findings",
    responses={
        **SYMBOL_RESPONSES,
        200: {
            "model": list[FindingOut],
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
            "description": "The findings.",
        },
    },
    response_class=Response,
    tags=["status"],
)
def findings(
    request: Request,
    symbols: Annotated[
        list[Annotated[str, StringConstraints(pattern=f"^{SYMBOL_PATTERN}(,{SYMBOL_PATTERN})*$")]]
        | None,
        Query(description="Only these symbols (comma-separated and/or repeated); all if absent."),
    ] = None,
    include_closed: Annotated[
        bool, Query(description="Also list findings no longer found (closed_at set).")
    ] = False,
    format: Annotated[Literal["json", "csv"], Query(description="Answer format.")] = "json",
) -> Response:
    """Rows and values judged wanting while syncing or checking, open ones unless asked.

    Ordered by symbol, date (undated first) and kind. A finding is closed, never deleted,
    once a later sync or check of its range no longer finds it. Unknown symbols are 404.
    CSV has the same columns as the JSON objects, dates and instants as ISO text.
    """
    names = None
    if symbols:
        names = symbol_list([s for item in symbols for s in item.split(",") if s.strip()])
    with readers_of(request).reader() as reader:
        frame = get_findings(names, include_closed, store=reader)
    rows = records(frame)
    if format == "json":
        return JSONResponse(rows)
    text = pd.DataFrame(rows, columns=list(frame.columns)).to_csv(index=False)
    return Response(
        text, media_type=formats.MEDIA_TYPES["csv"], headers=_download("csv", "findings")
    )


@router.get(
    "/runs",
    responses={**ERROR_RESPONSES, 200: {"model": list[RunOut], "description": "Newest first."}},
    response_class=JSONResponse,
    tags=["status"],
)
def runs(
    request: Request,
    last: Annotated[int, Query(ge=1, le=10_000, description="How many runs, newest first.")] = 50,
) -> JSONResponse:
    """The history of ``datanexus sync`` runs (the ``sync_runs`` table), newest first."""
    with readers_of(request).reader() as reader:
        frame = get_runs(last, store=reader)
    return JSONResponse(records(frame))
