"""The fast paths of ``parse_eod`` and ``parse_bulk_eod`` change nothing but the speed.

A body is read by the compact-JSON reader (``_compact``), else by the plain-row reader
(``_bars``), and any row either of them is unsure of by the careful row parser. The oracle
here is the careful parser alone, composed exactly as ``parse_eod`` and ``parse_bulk_eod``
were before the fast paths: every body must give the same records (compared by ``repr``, so
``Decimal("1.0")`` and ``Decimal("1")`` differ), the same warnings, or the same error (class,
message, symbol, field and excerpt).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_nexus.emulator import Market
from data_nexus.emulator.bulk import bulk_response
from data_nexus.emulator.formats import EOD_CSV_HEADER, Columns, csv_table, json_array
from data_nexus.emulator.messages import Request
from data_nexus.errors import BadResponse
from data_nexus.providers.eodhd import _compact, parse, parse_bulk_eod, parse_eod
from data_nexus.records import Bar, Parsed
from tests.providers.test_parse_fuzz import (
    BULK_ROW,
    EOD_KEYS,
    EOD_ROW,
    SECRET,
    csv_bodies,
    date_texts,
    json_bodies,
    number_texts,
)

S = [SECRET]
EXAMPLES = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def careful_eod(body: bytes, symbol: str, fmt: parse.Format = "json") -> Parsed[Bar]:
    """``parse_eod`` as it was before the fast paths: every row through ``Fields``."""
    rows = parse._rows(body, symbol, fmt, parse._EOD_COLUMNS, "bars", secrets=S)
    acc = parse._Acc(S)
    bars = parse._unique(
        symbol, rows, acc, lambda f, _row: parse._bar(f, symbol, acc), parse._by_date
    )
    return Parsed(bars, acc.finish(symbol), acc.findings)


def careful_bulk(body: bytes, exchange: str, fmt: parse.Format = "json") -> Parsed[Bar]:
    """``parse_bulk_eod`` as it was before the fast paths."""
    columns = ("code", "exchange_short_name", *parse._EOD_COLUMNS)
    rows = parse._rows(body, exchange, fmt, columns, "bars", secrets=S)
    acc = parse._Acc(S)
    bars = parse._unique(
        exchange,
        rows,
        acc,
        lambda f, _row: parse._bar(f, parse._bulk_symbol(f, exchange, "exchange_short_name"), acc),
        parse._by_date_symbol,
    )
    return Parsed(bars, acc.finish(f"bulk {exchange}"), acc.findings)


def outcome(run: Callable[[], Parsed[Bar]]) -> tuple[Any, ...]:
    """Everything a caller can observe of one parse."""
    try:
        parsed = run()
    except BadResponse as error:
        return ("error", type(error), str(error), error.symbol, error.field, error.excerpt)
    return ("parsed", [repr(bar) for bar in parsed.records], parsed.warnings, parsed.findings)


def same_eod(body: bytes, fmt: parse.Format = "json") -> None:
    fast = outcome(lambda: parse_eod(body, "X.US", fmt=fmt, secrets=S))
    assert fast == outcome(lambda: careful_eod(body, "X.US", fmt))


def same_bulk(body: bytes, fmt: parse.Format = "json") -> None:
    fast = outcome(lambda: parse_bulk_eod(body, "US", fmt=fmt, secrets=S))
    assert fast == outcome(lambda: careful_bulk(body, "US", fmt))


# --- bodies in EODHD's compact shape, mostly good values and some hostile ones ----------------

hostile_numbers = st.one_of(
    number_texts,
    st.integers(0, 10**17).map(str),
    st.sampled_from(
        [
            "0",
            "0.000",
            "00",
            "01.5",
            "1.",
            ".5",
            "0.0000001",
            "9999999999999999",
            "9999999999999999.9",
            "10000000000000000",
            "1." + "0" * 28 + "1",
            "1." + "0" * 29 + "1",
            "0." + "0" * 28 + "1",
            "0." + "0" * 30 + "1",
            "null",
            '"12.5"',
            "NaN",
            "Infinity",
            "true",
        ]
    ),
)
good_numbers = st.one_of(
    st.decimals(min_value=0, max_value=10**5, places=2).map(str),
    st.decimals(min_value=0, max_value=10**3, places=4).map(str).map(lambda t: t.rstrip("0")),
    st.integers(0, 10**6).map(str),
    st.sampled_from(["0", "0.0"]),
)
numbers = st.one_of(good_numbers, good_numbers, good_numbers, good_numbers, hostile_numbers)
volumes = st.one_of(st.integers(0, 10**9).map(str), st.just("null"), numbers)
good_dates = st.dates(dt.date(2000, 1, 1), dt.date(2000, 3, 1)).map(dt.date.isoformat)
dates = st.one_of(
    good_dates,
    good_dates,
    good_dates,
    date_texts,
    st.sampled_from(["2022-02-29", "0000-01-01", "2022-13-01", "２０２２-01-03", " 2022-01-03"]),
)
good_codes = st.sampled_from(["AAPL", "BRK-B", "BF.B", "0700", "MSFT", "X_Y", "A&B", "Q'T"])
codes = st.one_of(
    good_codes,
    good_codes,
    good_codes,
    st.sampled_from(["A B", "***", "x=y", "a:b", "", "Z" * 41, SECRET, "é", 'a"b', "a\\b"]),
)
suffixes = st.sampled_from(["US", "US", "US", "", "LSE", "U S", f"X{SECRET}", "***"])


def compact_row(bulk: bool, good: bool) -> st.SearchStrategy[str]:
    """One row written as EODHD writes it (bulk rows with code and exchange first); a good
    row has only values the fast paths read, another any value at all."""
    number, day, code = (good_numbers, good_dates, good_codes) if good else (numbers, dates, codes)
    head = (
        st.tuples(code, suffixes if not good else st.sampled_from(["US", ""])).map(
            lambda p: f'"code":{json.dumps(p[0])},"exchange_short_name":{json.dumps(p[1])},'
        )
        if bulk
        else st.just("")
    )
    volume = st.integers(0, 10**9).map(str) if good else volumes

    def render(parts: tuple[str, str, tuple[str, ...], str]) -> str:
        prefix, day, (o, h, lo, c, a), v = parts
        return (
            f'{{{prefix}"date":{json.dumps(day)},"open":{o},"high":{h},"low":{lo},'
            f'"close":{c},"adjusted_close":{a},"volume":{v}}}'
        )

    return st.tuples(head, day, st.tuples(*[number] * 5), volume).map(render)


def compact_bodies(bulk: bool) -> st.SearchStrategy[bytes]:
    good = compact_row(bulk, good=True)
    rows = st.lists(st.one_of(good, good, good, compact_row(bulk, good=False)), max_size=8)
    framing = st.sampled_from(["[{}]"] * 6 + ["\ufeff[{}]", " [{}]", "[{}]\n", "[{},]"])
    return st.builds(lambda r, f: f.replace("{}", ",".join(r)).encode(), rows, framing)


@EXAMPLES
@given(compact_bodies(bulk=False))
def test_compact_eod_bodies(body: bytes) -> None:
    same_eod(body)


@EXAMPLES
@given(compact_bodies(bulk=True))
def test_compact_bulk_bodies(body: bytes) -> None:
    same_bulk(body)


# --- other JSON and CSV: the plain-row reader and the careful fallback --------------------------

values = st.one_of(
    numbers.map(lambda text: ("raw", text)),
    numbers.map(lambda text: ("raw", text)),
    st.one_of(numbers, st.sampled_from(["", "  7 ", "1e3"])).map(lambda text: ("str", text)),
    st.just(("raw", "null")),
)


good_values = st.one_of(
    good_numbers.map(lambda text: ("raw", text)),
    good_numbers.map(lambda text: ("raw", text)),
    good_numbers.map(lambda text: ("str", text)),
)


def loose_row(keys: list[str], good: bool) -> st.SearchStrategy[str]:
    """A row with JSON spacing and any key order: every key, values as numbers, strings or
    null. A good row has plain values; another may have any value, a key dropped, a
    ``warning`` or an unknown key added."""

    def render(items: list[tuple[str, tuple[str, str]]]) -> str:
        cells = [
            f"{json.dumps(k)}: {text if kind == 'raw' else json.dumps(text)}"
            for k, (kind, text) in items
        ]
        return "{" + ", ".join(cells) + "}"

    def cells(
        keys_: list[str], day: str, vals: list[tuple[str, str]], code: str, drop: int
    ) -> list[tuple[str, tuple[str, str]]]:
        out = [("date", ("str", day)), *zip(keys_, vals, strict=False)]
        names = {"code": code, "exchange_short_name": "US"}
        out = [(k, ("str", names[k])) if k in names and good else (k, v) for k, v in out]
        return [cell for i, cell in enumerate(out) if i != drop]

    extra = st.lists(st.sampled_from(["extra"] if good else ["warning", "extra"]), max_size=1)
    return st.builds(
        lambda ks, day, vals, code, drop, more: render(cells(ks + more, day, vals, code, drop)),
        st.permutations(keys),
        good_dates if good else dates,
        st.lists(good_values if good else values, min_size=len(keys) + 1, max_size=len(keys) + 1),
        good_codes,
        st.just(-1) if good else st.integers(-1, len(keys)),
        extra,
    )


def loose_bodies(keys: list[str]) -> st.SearchStrategy[bytes]:
    good = loose_row(keys, good=True)
    rows = st.lists(st.one_of(good, good, good, loose_row(keys, good=False)), max_size=6)
    return rows.map(lambda r: f"[{', '.join(r)}]".encode())


@EXAMPLES
@given(loose_bodies(EOD_KEYS[1:]))
def test_loose_json_eod_bodies(body: bytes) -> None:
    same_eod(body)


BULK_KEYS = ["code", "exchange_short_name", *EOD_KEYS[1:]]


@EXAMPLES
@given(loose_bodies(BULK_KEYS))
def test_loose_json_bulk_bodies(body: bytes) -> None:
    same_bulk(body)


def csv_line(good: bool) -> st.SearchStrategy[str]:
    """A CSV line of a plain row, or of any values (blank cells, text, spaces)."""
    number = good_numbers if good else st.one_of(numbers, st.sampled_from(["", " 1.5", "1e3"]))
    volume = st.integers(0, 10**9).map(str) if good else st.one_of(volumes, st.just(""))
    cells = st.tuples(good_dates if good else dates, *[number] * 5, volume)
    return cells.map(",".join)


def csv_eod_bodies() -> st.SearchStrategy[bytes]:
    good = csv_line(good=True)
    lines = st.lists(st.one_of(good, good, good, csv_line(good=False)), max_size=8)
    header = "Date,Open,High,Low,Close,Adjusted_close,Volume"
    return lines.map(lambda rows: "\n".join([header, *rows, ""]).encode())


@EXAMPLES
@given(csv_eod_bodies())
def test_csv_eod_bodies(body: bytes) -> None:
    same_eod(body, "csv")


@EXAMPLES
@given(json_bodies(EOD_ROW))
def test_fuzzed_eod_json(body: bytes) -> None:
    same_eod(body)


@EXAMPLES
@given(csv_bodies(EOD_KEYS, EOD_ROW))
def test_fuzzed_eod_csv(body: bytes) -> None:
    same_eod(body, "csv")


@EXAMPLES
@given(json_bodies(BULK_ROW))
def test_fuzzed_bulk_json(body: bytes) -> None:
    same_bulk(body)


# --- the emulator's bodies take the compact path, with the same result --------------------------

TODAY = dt.date(2024, 6, 28)


def test_emulator_bodies_take_the_compact_path_and_agree() -> None:
    market = Market(today=TODAY, symbols=30, start=dt.date(2019, 1, 1))
    symbol = market.traded_on("US", TODAY)[0].symbol
    columns = Columns.of(market.view(symbol))
    eod_json = json_array(columns.json_rows()).encode()
    eod_csv = csv_table(EOD_CSV_HEADER, columns.csv_rows()).encode()
    request = Request.from_target("GET", "/api/eod-bulk-last-day/US?fmt=json", "x")
    bulk = bulk_response(market, "US", request)[0].body

    assert _compact.compact_eod(eod_json, symbol, zero_rows=[], secrets=()) is not None
    assert _compact.compact_bulk(bulk, "US", zero_rows=[], secrets=()) is not None
    fast = parse_eod(eod_json, symbol, secrets=S)
    assert outcome(lambda: fast) == outcome(lambda: careful_eod(eod_json, symbol))
    assert len(fast.records) == len(columns) > 1000
    assert all(type(price) is Decimal for bar in fast.records for price in (bar.close, bar.open))
    csv_outcome = outcome(lambda: parse_eod(eod_csv, symbol, fmt="csv", secrets=S))
    assert csv_outcome == outcome(lambda: careful_eod(eod_csv, symbol, "csv"))
    assert csv_outcome[1] == outcome(lambda: fast)[1]
    same_bulk(bulk)


def test_a_row_the_fast_paths_cannot_read_gets_the_careful_judgement() -> None:
    rows = [f'{{"date":"2022-01-{d:02d}","close":1.5,"volume":100}}' for d in range(3, 9)]
    rows[4] = '{"date":"2022-01-07","close":-1.5,"volume":100}'  # negative: legitimate
    rows[2] = '{"date":"2022-01-05","close":null,"volume":100}'  # no close: a finding
    body = ("[" + ",".join(rows) + "]").encode()
    same_eod(body)
    parsed = parse_eod(body, "X.US")
    assert [(b.date.day, b.close) for b in parsed.records] == [
        (3, Decimal("1.5")), (4, Decimal("1.5")), (6, Decimal("1.5")), (7, Decimal("-1.5")),
        (8, Decimal("1.5")),
    ]  # fmt: skip
    assert [(f.date, f.kind) for f in parsed.findings] == [(dt.date(2022, 1, 5), "no_prices")]
