"""Bars judged from the provider's text give exactly what the ``Decimal`` path gives.

A compact ``/eod`` body becomes :class:`~data_nexus.bar_columns.BarColumns` (the texts, no
``Decimal``), which the validator judges column-wise on the text
(:func:`~data_nexus.storage.clean_chunks.by_texts`). The reference is the same bars read as
``Bar`` s (``Decimal(text)``) and judged by the validator as before: the rows stored, the
dates seen, the findings, the non-positive flags and the errors must be the same, chunk
after chunk, for SQLite's canonical text and for PostgreSQL's.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_nexus.bar_columns import BarColumns
from data_nexus.errors import BadResponse, DataValidationError
from data_nexus.providers.eodhd import parse_eod
from data_nexus.records import Bar
from data_nexus.storage.bar_rows import ColumnRows
from data_nexus.storage.clean_chunks import by_texts
from data_nexus.storage.validate import BarValidator
from tests.providers.test_parse_paths import careful_eod

SYMBOL = "X.US"
DAY = dt.date(2024, 1, 2)

#: Texts a provider sends for a price, as JSON number tokens: plain ones the text path
#: takes, and every awkward spelling the careful path judges (exponents, signs, zeros,
#: trailing zeros, values at and beyond the bounds, below 1E-6, too many decimals).
AWKWARD = [
    "8.4401e-06", "8.4401E-06", "1e-12", "1E-7", "1E+3", "-0.0", "-0", "0", "0.0", "0.000",
    "1.50", "2.0", "100", "100.0", "0.000001", "0.0000010", "0.0000001", "0.00000015",
    "999999999999999", "999999999999999.99", "1000000000000000", "9999999999999999.5",
    "-37.63", "1." + "0" * 28 + "1", "0." + "0" * 28 + "1", "1." + "0" * 29 + "1",
    "1." + "0" * 30,
]  # fmt: skip
plain = st.one_of(
    st.integers(1, 10**9).map(lambda i: str(Decimal(i).scaleb(-2))),  # 1.50, 10.00 …
    st.integers(1, 10**7).map(lambda i: str(Decimal(i).scaleb(-4)).rstrip("0").rstrip(".")),
    st.integers(1, 10**6).map(str),
)
price_text = st.one_of(plain, plain, plain, st.sampled_from(AWKWARD))
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def columns(draw: st.DrawFn, start: int = 0) -> BarColumns:
    """A BarColumns of up to 12 bars (strictly increasing dates, maybe a future one)."""
    offsets = sorted(draw(st.sets(st.integers(0, 60), max_size=12)))
    isos = tuple((DAY + dt.timedelta(days=start + o)).isoformat() for o in offsets)
    n = len(isos)
    clean = draw(st.booleans())  # plain values only (the text path), or anything
    text = plain if clean else price_text
    prices = [tuple(draw(st.lists(text, min_size=n, max_size=n))) for _ in range(5)]
    volume = st.one_of(st.integers(0, 10**9), st.sampled_from([2**63 - 1, 2**63, -1, None]))
    volumes = draw(st.lists(st.integers(0, 10**9) if clean else volume, min_size=n, max_size=n))
    symbol = draw(st.sampled_from([SYMBOL] * 19 + ["Y.US"]))
    return BarColumns(
        symbol, isos, (prices[0], prices[1], prices[2], prices[3], prices[4]), volumes
    )


def judged(validator: BarValidator, bars: BarColumns | list[Bar]) -> object:
    """Everything observable of judging one chunk (the rows as plain tuples)."""
    try:
        chunk = validator.chunk(bars)
    except DataValidationError as error:
        return ("raised", str(error))
    return (list(chunk.rows), chunk.first, chunk.last)


def state(validator: BarValidator) -> object:
    return (sorted(validator.dates), validator.findings, validator.non_positive("common stock"))


@EXAMPLES
@given(
    st.lists(st.integers(0, 40).flatmap(columns), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from([None, DAY + dt.timedelta(days=45)]),
)
def test_text_columns_are_judged_as_their_bars(
    chunks: list[BarColumns], canonical: bool, today: dt.date | None
) -> None:
    """Chunk after chunk (dates may repeat across chunks), BarColumns judged on their text
    give what the same bars give through the Decimal path."""
    fast = BarValidator(SYMBOL, canonical=canonical, today=today)
    slow = BarValidator(SYMBOL, canonical=canonical, today=today)
    for bars in chunks:
        reference = list(BarColumns(bars.symbol, bars.isos, bars.prices, bars.volumes))
        got, want = judged(fast, bars), judged(slow, reference)
        assert got == want
        assert state(fast) == state(slow)
        if got[0] == "raised":
            break


def test_plain_text_takes_the_text_path_with_trailing_zeros_stripped_for_sqlite() -> None:
    isos = ("2024-01-02", "2024-01-03")
    prices = (("1.50", "2"), ("2.0", "3.25"), ("1", "1.125"), ("1.5", "100"), ("0.000001", "7"))
    bars = BarColumns(SYMBOL, isos, prices, [10, 20])
    for canonical, first in (
        (True, "1.5\t2\t1\t1.5\t0.000001"),
        (False, "1.50\t2.0\t1\t1.5\t0.000001"),
    ):
        dates: set[str] = set()
        chunk = by_texts(bars, SYMBOL, dates, "9999-12-31", canonical=canonical)
        assert chunk is not None and isinstance(chunk.rows, ColumnRows)
        assert list(chunk.rows) == [
            ("2024-01-02", first, 10),
            ("2024-01-03", "2\t3.25\t1.125\t100\t7", 20),
        ]
        assert dates == set(isos)
    assert bars._bars is None  # judged without building a single Decimal or Bar


@pytest.mark.parametrize("text", ["1E-7", "0.0000001", "1000000000000000", "0", "0.0", "-1"])
def test_text_the_text_path_cannot_prove_goes_to_the_bars(text: str) -> None:
    bars = BarColumns(SYMBOL, ("2024-01-02",), (("1",), ("1",), ("1",), (text,), ("1",)), [1])
    assert by_texts(bars, SYMBOL, set(), "9999-12-31", canonical=True) is None


def test_bar_columns_read_as_the_bars_of_their_texts() -> None:
    bars = BarColumns(SYMBOL, ("2024-01-02", "2024-01-03"), (("1.50", "2"),) * 5, [1, None])
    assert bars == [
        Bar(SYMBOL, DAY, *[Decimal("1.50")] * 5, 1),  # type: ignore[arg-type]
        Bar(SYMBOL, DAY + dt.timedelta(days=1), *[Decimal(2)] * 5, None),  # type: ignore[arg-type]
    ]
    assert bars[1:].isos == ("2024-01-03",) and len(bars[1:]) == 1 and bars[-1].volume is None
    with pytest.raises(ValueError, match="strictly increasing"):
        BarColumns(SYMBOL, ("2024-01-03", "2024-01-03"), (("1", "1"),) * 5, [1, 1])
    with pytest.raises(ValueError):
        BarColumns(SYMBOL, ("2023-02-29",), (("1",),) * 5, [1])  # not a real day


# --- end to end: a body through the text-first parser and the validator, against the careful
# parser (every value a Decimal through Fields) and the same validator -------------------------

#: JSON values of a price field: numbers plain and awkward, and what is not a number at all.
json_value = st.one_of(
    plain, plain, plain, st.sampled_from([*AWKWARD, "null", '"NA"', '""', '"1.5"', '" 2 "'])
)
volume_value = st.one_of(
    st.integers(0, 10**9).map(str), st.sampled_from(["null", "1.5", "-1", '""', '"NA"', "1e3"])
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A body in EODHD's compact shape, mostly plain rows, some with awkward values."""
    clean = draw(st.booleans())  # plain rows in date order (the text path), or anything
    if clean:
        offsets = sorted(draw(st.sets(st.integers(0, 50), max_size=10)))
    else:
        offsets = draw(st.lists(st.integers(0, 50), max_size=10))  # repeats, disorder
    rows = []
    for offset in offsets:
        o, h, lo, c, a = (draw(plain if clean else json_value) for _ in range(5))
        volume = draw(st.integers(0, 10**9).map(str) if clean else volume_value)
        day = (DAY + dt.timedelta(days=offset)).isoformat()
        rows.append(
            f'{{"date":{json.dumps(day)},"open":{o},"high":{h},"low":{lo},"close":{c},'
            f'"adjusted_close":{a},"volume":{volume}}}'
        )
    return ("[" + ",".join(rows) + "]").encode()


def end_to_end(parse: object, body: bytes, canonical: bool) -> object:
    try:
        parsed = parse(body)  # type: ignore[operator]
    except BadResponse as error:
        return ("bad response", str(error))
    validator = BarValidator(SYMBOL, canonical=canonical, today=DAY + dt.timedelta(days=40))
    return (judged(validator, parsed.records), state(validator), parsed.warnings, parsed.findings)


@EXAMPLES
@given(bodies(), st.booleans())
def test_a_body_stores_the_same_rows_and_findings_text_first_or_through_decimals(
    body: bytes, canonical: bool
) -> None:
    fast = end_to_end(lambda b: parse_eod(b, SYMBOL), body, canonical)
    careful = end_to_end(lambda b: careful_eod(b, SYMBOL), body, canonical)
    assert fast == careful


def test_an_emulator_like_body_is_parsed_to_text_columns() -> None:
    rows = [
        f'{{"date":"2024-01-{d:02d}","open":1.5,"high":2.25,"low":1,"close":2.0,'
        f'"adjusted_close":0.75,"volume":{d}}}'
        for d in range(2, 9)
    ]
    records = parse_eod(("[" + ",".join(rows) + "]").encode(), SYMBOL).records
    assert isinstance(records, BarColumns) and records._bars is None
    chunk = BarValidator(SYMBOL).chunk(records)
    assert chunk.rows[0] == ("2024-01-02", "1.5\t2.25\t1\t2\t0.75", 2)
    assert records._bars is None
