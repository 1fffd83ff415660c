"""The EODHD parsers over fixtures written from ``eodhd-api.md``: one per documented body shape,
plus the rejections the reference calls for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from data_nexus.errors import BadResponse
from data_nexus.providers.eodhd import (
    MalformedBody,
    parse_bulk_dividends,
    parse_bulk_eod,
    parse_bulk_splits,
    parse_dividends,
    parse_eod,
    parse_splits,
)

FIXTURES = Path(__file__).parent / "fixtures"
D = dt.date


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- end-of-day ------------------------------------------------------------------------------


def test_eod_json_exact_decimals_and_dates() -> None:
    parsed = parse_eod(body("eod.json"), "AAPL.US")
    assert [b.date for b in parsed.records] == [D(2022, 1, 3), D(2022, 1, 4), D(2022, 1, 5)]
    first = parsed.records[0]
    assert first.symbol == "AAPL.US"
    assert first.open == Decimal("177.83")
    assert first.adjusted_close == Decimal("179.2736")
    assert str(first.adjusted_close) == "179.2736"  # from the text, not through float
    assert first.volume == 104487900
    assert parsed.warnings == []


def test_eod_whole_numbers_without_decimal_point() -> None:
    parsed = parse_eod(body("eod_whole_numbers.json"), "NFLX.US")
    bar = parsed.records[1]
    assert (bar.open, bar.high, bar.close) == (Decimal(330), Decimal(1267), Decimal("1112.17"))
    assert parsed.records[2].volume == 0  # a zero-volume day is data, not an all-zero row


def test_eod_csv_with_and_without_trailing_line() -> None:
    plain = parse_eod(body("eod.csv"), "AAPL.US", fmt="csv")
    footer = parse_eod(body("eod_footer.csv"), "AAPL.US", fmt="csv")
    assert plain.records == footer.records == parse_eod(body("eod.json"), "AAPL.US").records


def test_eod_csv_blank_lines_and_empty_volume() -> None:
    text = b"Date,Open,High,Low,Close,Adjusted_close,Volume\n\n2022-01-03,1,2,0.5,1.5,1.4,\n\n"
    (bar,) = parse_eod(text, "EURUSD.FOREX", fmt="csv").records
    assert bar.volume is None


@pytest.mark.parametrize("name", ["eod_free_warning_element.json", "eod_free_warning_key.json"])
def test_free_plan_warning_both_variants(name: str) -> None:
    parsed = parse_eod(body(name), "AAPL.US")
    assert [b.date for b in parsed.records] == [D(2025, 1, 2), D(2025, 1, 3)]
    (warning,) = parsed.warnings
    assert "AAPL.US" in warning
    assert "Data is limited by one year as you have free subscription." in warning


def test_sorted_by_date_even_when_sent_descending() -> None:
    text = b'[{"date":"2022-01-04","close":2,"open":2},{"date":"2022-01-03","close":1,"open":1}]'
    assert [b.date for b in parse_eod(text, "X.US").records] == [D(2022, 1, 3), D(2022, 1, 4)]


def test_empty_range_is_an_empty_list() -> None:
    assert parse_eod(b"[]", "AAPL.US").records == []
    assert parse_eod(b"", "AAPL.US", fmt="csv").records == []


def test_all_zero_rows_are_skipped_with_one_counting_warning() -> None:
    text = (
        b'[{"date":"2022-01-03","open":0,"high":0,"low":0,"close":0,"adjusted_close":0,'
        b'"volume":0},{"date":"2022-01-04","open":0,"high":0,"low":0,"close":0,'
        b'"adjusted_close":0,"volume":0},{"date":"2022-01-05","open":1,"high":1,"low":1,'
        b'"close":1,"adjusted_close":1,"volume":5}]'
    )
    parsed = parse_eod(text, "THIN.US")
    assert [b.date for b in parsed.records] == [D(2022, 1, 5)]
    (warning,) = parsed.warnings
    assert "skipped 2 all-zero row(s)" in warning
    assert "THIN.US 2022-01-03" in warning


def test_fractional_volume_rounds_half_even_with_a_warning() -> None:
    text = (
        b'[{"date":"2022-01-03","close":1,"volume":530131.5},'
        b'{"date":"2022-01-04","close":1,"volume":530132.5},'
        b'{"date":"2022-01-05","close":1,"volume":"17.7"}]'
    )
    parsed = parse_eod(text, "X.US")
    assert [b.volume for b in parsed.records] == [530132, 530132, 18]
    assert len(parsed.warnings) == 3
    assert parsed.warnings[0] == "X.US 2022-01-03: fractional volume 530131.5 rounded to 530132"


def test_null_and_missing_optional_fields() -> None:
    text = b'[{"date":"2022-01-03","open":null,"high":"","close":"12.5","volume":null}]'
    (bar,) = parse_eod(text, "GSPC.INDX").records
    assert (bar.open, bar.high, bar.low, bar.adjusted_close, bar.volume) == (None,) * 5
    assert bar.close == Decimal("12.5")


GOOD = b'{"date":"2022-01-04","open":2,"high":3,"low":1,"close":2.5,"volume":10}'


@pytest.mark.parametrize(
    ("row", "day", "kind", "detail"),
    [
        (b'{"date":"2022-01-03","close":"abc"}', D(2022, 1, 3), "bad_bar",
         'close: unparseable number on 2022-01-03, sent "close":"abc"'),
        (b'{"date":"2022-01-03","close":true}', D(2022, 1, 3), "bad_bar",
         'close: unparseable number on 2022-01-03, sent "close":true'),
        (b'{"date":"2022-01-03","close":NaN}', D(2022, 1, 3), "bad_bar",
         'close: unparseable number on 2022-01-03, sent "close":NaN'),
        (b'{"date":"2022-01-03","open":1}', D(2022, 1, 3), "no_prices",
         'close: missing close on 2022-01-03, sent "close":null'),
        (b'{"date":"2022-01-03","close":null}', D(2022, 1, 3), "no_prices",
         'close: missing close on 2022-01-03, sent "close":null'),
        (b'{"close":1}', None, "bad_bar", 'date: missing date, sent "date":null'),
        (b'{"date":"","close":1}', None, "bad_bar", 'date: missing date, sent "date":""'),
        (b'{"date":null,"close":1}', None, "bad_bar", 'date: missing date, sent "date":null'),
        (b'{"date":"0000-00-00","close":1}', None, "bad_bar",
         'date: invalid date, sent "date":"0000-00-00"'),
        (b'{"date":"2022-02-30","close":1}', None, "bad_bar",
         'date: invalid date, sent "date":"2022-02-30"'),
        (b'{"date":"20220103","close":1}', None, "bad_bar",
         'date: invalid date, sent "date":"20220103"'),
        (b'{"date":"2022-01-03","close":1,"volume":-5}', D(2022, 1, 3), "bad_bar",
         'volume: negative volume on 2022-01-03, sent "volume":-5'),
        (b'{"date":"2022-01-03","close":1,"volume":1e30}', D(2022, 1, 3), "out_of_range",
         'volume: number out of range on 2022-01-03, sent "volume":1E+30'),
        (b'{"date":"2022-01-03","close":1e99}', D(2022, 1, 3), "out_of_range",
         'close: number out of range on 2022-01-03, sent "close":1E+99'),
        (b'{"date":"2022-01-03","close":1e-31}', D(2022, 1, 3), "out_of_range",
         'close: number out of range on 2022-01-03, sent "close":1E-31'),
    ],
)  # fmt: skip
def test_a_bad_row_is_skipped_with_a_finding_and_the_rest_parsed(
    row: bytes, day: dt.date | None, kind: str, detail: str
) -> None:
    """One bad row never costs the body: the good row is parsed, the bad one is a finding."""
    parsed = parse_eod(b"[" + row + b"," + GOOD + b"]", "AAPL.US")
    assert [(b.date, b.close) for b in parsed.records] == [(D(2022, 1, 4), Decimal("2.5"))]
    assert [(f.symbol, f.date, f.kind, f.detail) for f in parsed.findings] == [
        ("AAPL.US", day, kind, detail)
    ]


def test_the_issue_s_row_with_no_prices_among_good_rows() -> None:
    """Kind 1: the good rows parsed, 2026-11-26 skipped with a finding."""
    text = (
        b'[{"date":"2026-11-25","open":10,"high":11,"low":9,"close":10.5,'
        b'"adjusted_close":10.5,"volume":100},'
        b'{"date":"2026-11-26","open":null,"high":null,"low":null,"close":null,'
        b'"adjusted_close":null,"volume":0},'
        b'{"date":"2026-11-27","open":10.5,"high":12,"low":10,"close":11.75,'
        b'"adjusted_close":11.75,"volume":120}]'
    )
    for fmt_body in (text,):
        parsed = parse_eod(fmt_body, "AAPL.US")
        assert [b.date for b in parsed.records] == [D(2026, 11, 25), D(2026, 11, 27)]
        assert [(f.date, f.kind) for f in parsed.findings] == [(D(2026, 11, 26), "no_prices")]
    csv = b"Date,Open,High,Low,Close,Adjusted_close,Volume\n2026-11-25,10,11,9,10.5,10.5,100\n2026-11-26,,,,,,0\n"
    parsed = parse_eod(csv, "AAPL.US", fmt="csv")
    assert [b.date for b in parsed.records] == [D(2026, 11, 25)]
    assert [(f.date, f.kind) for f in parsed.findings] == [(D(2026, 11, 26), "no_prices")]


@pytest.mark.parametrize(
    ("row", "low", "close"),
    [
        # Kind 3: WTI crude settled at -37.63 on 2020-04-20.
        (b'{"date":"2020-04-20","open":17.73,"high":17.85,"low":-40.32,"close":-37.63,'
         b'"adjusted_close":-37.63,"volume":247947}', "-40.32", "-37.63"),
        (b'{"date":"2020-04-20","open":"-1.5","high":"0","low":"-2.25","close":"-0.125",'
         b'"adjusted_close":"-0.125","volume":"10"}', "-2.25", "-0.125"),
        # Kind 4: SHIB-USD.CC closed at 8.4401e-06; tokens trade far lower.
        (b'{"date":"2020-04-20","open":8.4e-06,"high":8.5e-06,"low":8.3e-06,'
         b'"close":8.4401e-06,"adjusted_close":8.4401e-06,"volume":1e17}', "0.0000083",
         "0.0000084401"),
        (b'{"date":"2020-04-20","low":1e-12,"close":"0.000000000000000000000000000001"}',
         "1E-12", "1E-30"),
    ],
)  # fmt: skip
def test_negative_and_tiny_prices_are_parsed_exactly(row: bytes, low: str, close: str) -> None:
    (bar,) = parse_eod(b"[" + row + b"]", "X.CC").records
    assert bar.low is not None and str(bar.low.normalize()) == str(Decimal(low).normalize())
    assert str(bar.close.normalize()) == str(Decimal(close).normalize())
    assert bar.close == Decimal(close) and bar.low == Decimal(low)


def test_volumes_up_to_bigint_are_accepted() -> None:
    text = b'[{"date":"2022-01-03","close":1,"volume":9223372036854775807},' \
        b'{"date":"2022-01-04","close":1,"volume":1e16}]'  # fmt: skip
    assert [b.volume for b in parse_eod(text, "X.CC").records] == [2**63 - 1, 10**16]
    over = parse_eod(b'[{"date":"2022-01-03","close":1,"volume":9223372036854775808}]', "X.CC")
    assert over.records == [] and [f.kind for f in over.findings] == ["bad_bar"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"date":"2022-01-03"}', "expected a JSON array of bars, got an object"),
        (b'"Ticker Not Found."', "got a string"),
        (b"295.21", "got a number"),
        (b"[1, 2]", "expected each bar to be a JSON object"),
    ],
)
def test_wrong_json_shape_is_a_bad_response(text: bytes, message: str) -> None:
    with pytest.raises(BadResponse, match=message) as info:
        parse_eod(text, "AAPL.US")
    assert not isinstance(info.value, MalformedBody)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"<html><body>Bad Gateway</body></html>", "HTML where JSON was expected"),
        (b"Unauthenticated", "plain text where JSON was expected"),
        (b'[{"date":"2022-01-03","close":1', "invalid JSON"),
        (b'[{"date":"2022-01-03","clo\x00se":1}]', "invalid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"", "empty body"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_bodies_that_are_not_json_are_malformed(text: bytes, message: str) -> None:
    with pytest.raises(MalformedBody, match=message) as info:
        parse_eod(text, "AAPL.US")
    assert info.value.symbol == "AAPL.US"


def test_excerpts_are_redacted_and_short() -> None:
    text = b"<html>" + b"x" * 30 + b" api_token=SECRET123456 and SECRET123456 again</html>"
    with pytest.raises(MalformedBody) as info:
        parse_eod(text, "AAPL.US", secrets=["SECRET123456"])
    assert "SECRET" not in str(info.value)
    assert info.value.excerpt is not None and len(info.value.excerpt) <= 60


def test_csv_rejects_html_json_and_truncated_rows() -> None:
    with pytest.raises(MalformedBody, match="HTML where CSV"):
        parse_eod(b"<html></html>", "X.US", fmt="csv")
    with pytest.raises(MalformedBody, match="JSON where CSV"):
        parse_eod(b"[]", "X.US", fmt="csv")
    truncated = b"Date,Open,High,Low,Close,Adjusted_close,Volume\n2022-01-03,1,2,0.5,1.5"
    with pytest.raises(MalformedBody, match="truncated"):
        parse_eod(truncated, "X.US", fmt="csv")
    parsed = parse_eod(b"Date,Close\n2022-13-45,1\n2022-01-03,2\n", "X.US", fmt="csv")
    assert [b.close for b in parsed.records] == [Decimal(2)]
    assert [(f.date, f.kind) for f in parsed.findings] == [(None, "bad_bar")]


# --- splits and dividends ---------------------------------------------------------------------


def test_splits_keep_ratio_sides_exactly() -> None:
    parsed = parse_splits(body("splits.json"), "AAPL.US")
    last = parsed.records[-1]
    assert (last.date, last.numerator, last.denominator) == (
        D(2020, 8, 31),
        Decimal("4.000000"),
        Decimal("1.000000"),
    )
    assert last.ratio == 4
    assert [s.ratio for s in parsed.records] == [2, 2, 7, 4]


def test_reverse_and_odd_splits() -> None:
    odd, reverse = parse_splits(body("splits_reverse_odd.json"), "X.US").records  # sorted
    assert reverse.ratio == Fraction(1, 20)
    assert odd.denominator == Decimal("12.589830")
    assert odd.ratio == Fraction(1_000_000, 12_589_830)


@pytest.mark.parametrize(
    "csv_text",
    [
        b"Date,Stock Splits\n2020-08-31,4.000000/1.000000\n",
        b"Date,Split\n2020-08-31,4.000000/1.000000\n\n",
        b"Date,Splits\n2020-08-31,4/1\nData provided by EODHD\n",
        b"2020-08-31,4.000000/1.000000\n",
    ],
)
def test_split_csv_header_variants(csv_text: bytes) -> None:
    (split,) = parse_splits(csv_text, "AAPL.US", fmt="csv").records
    assert split.ratio == 4


@pytest.mark.parametrize(
    "ratio",
    ['"1.000000/0.000000"', '"0/1"', '"1/0"', '"-2/1"', '"2/-1"', '""', '"four"', '"4.0/"',
     "null", "[]", '"0.000000/0.000000"'],
)  # fmt: skip
def test_impossible_split_ratios_are_findings(ratio: str) -> None:
    """Kind 2: the impossible split is skipped with a finding; the other splits parsed."""
    text = (
        b'[{"date":"2020-08-31","split":' + ratio.encode() + b"},"
        b'{"date":"2014-06-09","split":"7.000000/1.000000"}]'
    )
    parsed = parse_splits(text, "AAPL.US")
    assert [(s.date, s.ratio) for s in parsed.records] == [(D(2014, 6, 9), 7)]
    (finding,) = parsed.findings
    assert (finding.symbol, finding.date, finding.kind) == ("AAPL.US", D(2020, 8, 31), "bad_split")
    assert finding.detail.startswith("split: ")


def test_a_split_dated_with_zeros_is_a_finding() -> None:
    text = b'[{"date":"0000-00-00","split":"2/1"},{"date":"2020-08-31","split":"4/1"}]'
    parsed = parse_splits(text, "AAPL.US")
    assert [s.date for s in parsed.records] == [D(2020, 8, 31)]
    assert [(f.date, f.kind) for f in parsed.findings] == [(None, "bad_split")]


def test_dividends_old_rows_with_nulls_absent_keys_and_strings() -> None:
    parsed = parse_dividends(body("div.json"), "AAPL.US")
    old, nulls, strings, new = parsed.records
    assert old.value == Decimal("0.00054") and old.unadjusted_value == Decimal("0.12096")
    assert old.declaration_date is None and old.period is None and old.currency == "USD"
    assert nulls.record_date is None and nulls.payment_date is None
    assert strings.value == Decimal("0.00107") and strings.period is None
    assert strings.declaration_date is None
    assert new.declaration_date == D(2024, 8, 1)
    assert new.payment_date == D(2024, 8, 15)
    assert new.period == "Quarterly"


def test_dividends_csv_two_columns() -> None:
    parsed = parse_dividends(body("div.csv"), "AAPL.US", fmt="csv")
    assert [(d.date, d.value) for d in parsed.records] == [
        (D(1987, 5, 11), Decimal("0.00054")),
        (D(2024, 8, 12), Decimal("0.25")),
    ]


@pytest.mark.parametrize(
    ("row", "day", "detail"),
    [
        (b'{"date":"2024-01-02","currency":"USD"}', D(2024, 1, 2),
         'value: missing value on 2024-01-02, sent "value":null'),
        (b'{"date":"2024-01-02","value":""}', D(2024, 1, 2),
         'value: missing value on 2024-01-02, sent "value":""'),
        (b'{"date":"2024-01-02","value":"-0.1"}', D(2024, 1, 2),
         'value: negative amount on 2024-01-02, sent "value":"-0.1"'),
        (b'{"date":"0000-00-00","value":0.24}', None,
         'date: invalid date, sent "date":"0000-00-00"'),
        (b'{"date":"2024-01-02","value":1,"paymentDate":"soon"}', D(2024, 1, 2),
         'paymentDate: invalid date on 2024-01-02, sent "paymentDate":"soon"'),
    ],
)  # fmt: skip
def test_a_dividend_that_cannot_be_read_is_a_finding(
    row: bytes, day: dt.date | None, detail: str
) -> None:
    """Kind 2: dates written as zeros, missing amounts: skipped with findings."""
    parsed = parse_dividends(b"[" + row + b',{"date":"2024-05-10","value":0.25}]', "X.US")
    assert [(d.date, d.value) for d in parsed.records] == [(D(2024, 5, 10), Decimal("0.25"))]
    assert [(f.date, f.kind, f.detail) for f in parsed.findings] == [(day, "bad_action", detail)]


def test_two_dividends_on_one_ex_date_are_both_returned() -> None:
    """A regular and a special dividend, and an exact duplicate: judged at the write."""
    text = (
        b'[{"date":"2024-05-10","value":0.25},{"date":"2024-05-10","value":1.00},'
        b'{"date":"2024-05-10","value":0.25}]'
    )
    parsed = parse_dividends(text, "X.US")
    assert [d.value for d in parsed.records] == [Decimal("0.25"), Decimal("1.00"), Decimal("0.25")]
    assert parsed.findings == []


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_prices() -> None:
    parsed = parse_bulk_eod(body("bulk_eod.json"), "US")
    assert [b.symbol for b in parsed.records] == ["AAPL.US", "BRK-B.US", "MSFT.US", "ZZZZ.US"]
    brk = parsed.records[1]
    assert brk.volume == 530132 and brk.open == Decimal(459)
    assert parsed.records[3].volume is None
    assert any("BRK-B.US 2024-09-05: fractional volume 530131.7" in w for w in parsed.warnings)
    assert any("skipped 1 all-zero row(s)" in w and "AACT-WS.US" in w for w in parsed.warnings)


def test_bulk_prices_csv_plain_and_extended() -> None:
    plain = parse_bulk_eod(body("bulk_eod.csv"), "US", fmt="csv")
    assert [b.symbol for b in plain.records] == ["AAPL.US", "MSFT.US"]
    assert plain.records == [
        b
        for b in parse_bulk_eod(body("bulk_eod.json"), "US").records
        if b.symbol in {"AAPL.US", "MSFT.US"}
    ]
    (extended,) = parse_bulk_eod(body("bulk_eod_extended.csv"), "US", fmt="csv").records
    assert extended == plain.records[0]


def test_bulk_row_without_exchange_uses_the_queried_one() -> None:
    text = b'[{"code":"AAPL","date":"2024-09-05","close":222.38}]'
    assert parse_bulk_eod(text, "NASDAQ").records[0].symbol == "AAPL.NASDAQ"


def test_bulk_duplicate_symbol_is_rejected() -> None:
    text = (
        b'[{"code":"AAPL","exchange_short_name":"US","date":"2024-09-05","close":1},'
        b'{"code":"AAPL","exchange_short_name":"US","date":"2024-09-05","close":2}]'
    )
    with pytest.raises(BadResponse, match="duplicate") as info:
        parse_bulk_eod(text, "US")
    assert info.value.symbol == "AAPL.US"


def test_bulk_splits() -> None:
    parsed = parse_bulk_splits(body("bulk_splits.json"), "US")
    assert [(s.symbol, s.ratio) for s in parsed.records] == [
        ("NFLX.US", 10),
        ("XYZQ.US", Fraction(1_000_000, 12_589_830)),
    ]


def test_bulk_dividends_string_amounts_null_and_empty_dates() -> None:
    parsed = parse_bulk_dividends(body("bulk_dividends.json"), "US")
    ko, oapi, tiny = parsed.records
    assert ko.symbol == "KO.US" and ko.value == Decimal("0.48500")
    assert ko.unadjusted_value == Decimal("0.4850000000")
    assert ko.payment_date == D(2024, 10, 1)
    assert tiny.value == Decimal("0.27000") and tiny.record_date is None
    assert oapi.value == Decimal("0.1") and oapi.declaration_date is None and oapi.period is None
