"""``get_bars_json`` (SQLite writes the JSON of one symbol's bars itself) answers what the
Arrow path answers: same keys in the same order, same rows in date order, null where
missing, dates ``YYYY-MM-DD``, numbers equal as decimals; and the stored text exactly where
a float64 cannot hold it.

A hand-made warehouse holds what the demo does not: tiny crypto prices (``0.00000123``),
volumes near 2^63, negative prices, missing adjusted closes and volumes, 20-digit prices,
rows inserted out of date order, and an asset without bars.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from data_nexus.errors import UnknownSymbols, UsageError
from data_nexus.models import Asset, MarketData
from data_nexus.query.bars import get_bars_arrow
from data_nexus.query.bars_json import get_bars_json
from data_nexus.storage import json_bars
from data_nexus.storage.engine import open_engine
from data_nexus.storage.frames import FrameReader, open_reader
from data_nexus.storage.migrate import upgrade_db
from tests.conftest import make_settings

D = Decimal
DAY = dt.date(2024, 1, 2)
#: symbol → the prices (open, high, low, close, adjusted_close) and volume of its bars.
BARS: dict[str, list[tuple[Any, ...]]] = {
    "TINY.CC": [
        (D("0.00000123"), D("0.00000125"), D("0.00000001"), D("0.0000012"), None, 9_000_000_000_000_000_000),
        (D("0.00000124"), D("0.00000130"), D("0.00000120"), D("0.00000129"), None, None),
        (D("1E-12"), D("2E-12"), D("1E-12"), D("1.5E-12"), D("1.5E-12"), 0),
    ],
    "NEG.US": [
        (D("-37.63"), D("-1.5"), D("-40"), D("-37.5"), D("-37.5"), 12),
        (None, None, None, D("-0.25"), None, None),
        (D("0"), D("0"), D("0"), D("0"), D("0"), 1),
    ],
    "BIG.US": [
        (D("123456789.12345"), D("999999999999999"), D("1"), D("330"), D("177.83"), 123_456_789_012),
        (D("177.8300"), D("180.5"), D("170.25"), D("179"), D("178.999"), 82_488_700),
    ],
}  # fmt: skip
#: More digits than a float64 holds: only the JSON path writes it exactly.
LONG = D("123456789.123456789123")
BARE = "BARE.US"
RANGES = [
    (None, None),
    (DAY, DAY + dt.timedelta(days=1)),
    (DAY + dt.timedelta(days=1), None),
    (None, DAY),
    (dt.date(2030, 1, 1), None),  # after the data
    (dt.date(2020, 1, 1), dt.date(2020, 12, 31)),  # before it
]


def _rows(symbol: str, bars: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    rows = []
    for i, (o, h, lo, c, ac, v) in enumerate(bars):
        rows.append({
            "symbol": symbol, "time": DAY + dt.timedelta(days=i), "open": o, "high": h,
            "low": lo, "close": c, "adjusted_close": ac, "volume": v,
        })  # fmt: skip
    return rows[::-1]  # newest first: the rowid order is not the date order


def edge_warehouse(url: str) -> None:
    """Upgrade the SQLite file of ``url`` and fill it with :data:`BARS`, ``LONG.US`` and
    :data:`BARE` (also used by ``tests/serve/test_json_as_stored.py``)."""
    upgrade_db(make_settings(url))
    engine = open_engine(url)
    symbols = [*BARS, "LONG.US", BARE]
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Asset),
                [
                    {
                        "symbol": s,
                        "code": s.split(".")[0],
                        "exchange": s.split(".")[1],
                        "last_date": None if s == BARE else DAY + dt.timedelta(days=2),
                    }
                    for s in symbols
                ],
            )
            rows = [r for s, bars in BARS.items() for r in _rows(s, bars)]
            rows += _rows("LONG.US", [(LONG, LONG, LONG, LONG, LONG, 1)])
            conn.execute(sa.insert(MarketData), rows)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('json') / 'w.db'}"
    edge_warehouse(url)
    return url


@pytest.fixture(scope="module")
def reader(url: str) -> Iterator[FrameReader]:
    with open_reader(url) as opened:
        yield opened


def arrow_document(table: pa.Table, symbol: str, end: dt.date | None) -> dict[str, Any]:
    """What the Arrow path answers (``datanexus serve``'s encoder), parsed with decimals."""
    formats = pytest.importorskip("data_nexus.serve.formats")
    from data_nexus.serve.data import _cutoff_of

    meta = {"symbol": symbol, "adjust": "none", "interval": "1d"}
    cutoff = _cutoff_of(table, end)
    body = b"".join(formats.encode_json([table], meta, with_symbol=False, cutoff=cutoff))
    return parse(body)


def parse(body: bytes) -> Any:
    """JSON with numbers as decimals and objects as lists of pairs (key order counts)."""
    return json.loads(body, parse_float=Decimal, object_pairs_hook=list)


@pytest.mark.parametrize("symbol", [*BARS, BARE])
@pytest.mark.parametrize(("start", "end"), RANGES)
def test_same_document_as_the_arrow_path(
    reader: FrameReader, symbol: str, start: dt.date | None, end: dt.date | None
) -> None:
    body = get_bars_json(symbol, start, end, store=reader)
    assert body is not None
    table = get_bars_arrow(symbol, start, end, store=reader)
    assert parse(body) == arrow_document(table, symbol, end)
    assert b" " not in body  # as tight as the Arrow path's


def test_numbers_are_the_stored_text(reader: FrameReader) -> None:
    document = json.loads(get_bars_json("TINY.CC", store=reader) or b"", parse_float=str)
    bars = document["bars"]
    assert [b["date"] for b in bars] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert bars[0] == {
        "date": "2024-01-02",
        "open": "0.00000123",
        "high": "0.00000125",
        "low": "0.00000001",
        "close": "0.0000012",
        "adjusted_close": None,
        "volume": 9_000_000_000_000_000_000,
    }
    assert bars[1]["volume"] is None
    assert bars[2]["close"] == "0.0000000000015"
    assert document["cutoff"] == "2024-01-04"
    negative = json.loads(get_bars_json("NEG.US", store=reader) or b"", parse_float=str)["bars"]
    assert negative[1] == {
        "date": "2024-01-03",
        "open": None,
        "high": None,
        "low": None,
        "close": "-0.25",
        "adjusted_close": None,
        "volume": None,
    }
    assert negative[2]["close"] == 0  # stored "0": a JSON integer, as the Arrow path writes it


def test_more_digits_than_a_float_keeps_them(reader: FrameReader) -> None:
    """The Arrow path rounds through float64; the JSON path writes the stored decimal."""
    exact = parse(get_bars_json("LONG.US", store=reader) or b"")
    bar = dict(dict(exact)["bars"][0])
    assert bar["close"] == LONG
    rounded = dict(
        dict(arrow_document(get_bars_arrow("LONG.US", store=reader), "LONG.US", None))["bars"][0]
    )
    assert rounded["close"] == Decimal("123456789.12345679") != LONG


def test_unknown_symbol_and_bad_range_raise_as_the_arrow_path(reader: FrameReader) -> None:
    with pytest.raises(UnknownSymbols) as raised:
        get_bars_json("NOPE.US", store=reader)
    assert raised.value.symbols == ("NOPE.US",)
    with pytest.raises(UsageError):
        get_bars_json("TINY.CC", DAY, DAY - dt.timedelta(days=1), store=reader)
    with pytest.raises(UsageError):
        get_bars_json("not a symbol", store=reader)


def test_bare_asset_and_empty_range(reader: FrameReader) -> None:
    assert get_bars_json(BARE, store=reader) == (
        b'{"symbol":"BARE.US","adjust":"none","interval":"1d","bars":[],"cutoff":null}'
    )
    empty = get_bars_json("NEG.US", dt.date(2030, 1, 1), dt.date(2030, 12, 31), store=reader)
    assert empty == (
        b'{"symbol":"NEG.US","adjust":"none","interval":"1d","bars":[],"cutoff":"2024-01-04"}'
    )
    capped = parse(get_bars_json("NEG.US", None, DAY, store=reader) or b"")
    assert dict(capped)["cutoff"] == "2024-01-02"


def test_both_statements_agree(url: str) -> None:
    """The checked statement (SQLite < 3.44) and, where SQLite has it, the aggregate's own
    ORDER BY give the same rows in date order."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        checked = json_bars.sqlite_json_bars(conn, "TINY.CC", None, None, ordered_aggregates=False)
        assert checked is not None
        assert checked.known
        assert checked.count == 3
        assert checked.rows.index("2024-01-02") < checked.rows.index("2024-01-04")
        if sqlite3.sqlite_version_info >= (3, 44):
            ordered = json_bars.sqlite_json_bars(
                conn, "TINY.CC", None, None, ordered_aggregates=True
            )
            assert ordered == checked
        unknown = json_bars.sqlite_json_bars(conn, "NOPE.US", None, None)
        assert unknown is not None
        assert not unknown.known
    finally:
        conn.close()


def test_rows_out_of_order_are_not_vouched_for() -> None:
    assert json_bars._increasing("2024-01-022024-01-03", 2)
    assert not json_bars._increasing("2024-01-032024-01-02", 2)
    assert not json_bars._increasing("2024-01-022024-01-02", 2)
    assert not json_bars._increasing("2024-01-02", 2)


def test_none_when_the_database_cannot_vouch(
    reader: FrameReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_bars, "_increasing", lambda _times, _count: False)
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 40, 1))
    assert get_bars_json("TINY.CC", store=reader) is None


def test_ordered_statement_on_a_newer_sqlite(url: str) -> None:
    """The statement for SQLite >= 3.44 (the aggregate's own ORDER BY), run by the newer
    SQLite that the ADBC driver bundles, gives what the checked statement gives here."""
    adbc = pytest.importorskip("adbc_driver_sqlite.dbapi")
    path = url.removeprefix("sqlite:///")
    with adbc.connect(path) as conn, conn.cursor() as cur:
        cur.execute("SELECT sqlite_version()")
        version = tuple(int(part) for part in cur.fetchone()[0].split("."))
        if version < (3, 44):
            pytest.skip(f"the ADBC driver's SQLite is {version}")
        positional = (
            json_bars.ORDERED_SQL.replace(":symbol", "?1")
            .replace(":start", "?2")
            .replace(":end", "?3")
        )
        for symbol in [*BARS, BARE]:
            cur.execute(positional, (symbol, "0000-00-00", "9999-99-99"))
            last, count, rows = cur.fetchone()
            mine = sqlite3.connect(path)
            try:
                checked = json_bars.sqlite_json_bars(
                    mine, symbol, None, None, ordered_aggregates=False
                )
            finally:
                mine.close()
            assert checked is not None
            assert (count, rows or "") == (checked.count, checked.rows)
            assert (last or None) == (checked.last_date.isoformat() if checked.last_date else None)
