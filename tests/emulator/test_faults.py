"""The body manglers always break JSON, and faults are taken in order and counted down."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.emulator.faults import FaultBook, fault_target, garble, truncate
from data_nexus.emulator.formats import dumps

rows = st.lists(
    st.fixed_dictionaries(
        {
            "date": st.dates().map(str),
            "close": st.decimals(0, 10**6, places=4),
            "name": st.text(st.characters(blacklist_characters='"\\'), max_size=8),
        }
    ),
    max_size=5,
)


def parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@given(rows, st.floats(0, 1))
def test_garbled_and_truncated_bodies_never_parse(
    value: list[dict[str, object]], at: float
) -> None:
    body = dumps(value).encode()
    assert parses(body)
    assert not parses(garble(body, at))
    assert not parses(truncate(body, at))


@pytest.mark.parametrize("body", [b"295.21", b"[]", b'"2024-01-02"', b"{}"])
def test_small_bodies_break_too(body: bytes) -> None:
    assert not parses(truncate(body)) and not parses(garble(body))


def test_faults_match_targets_and_endpoints_first_in_first_out() -> None:
    book = FaultBook()
    book.add("aapl", "500", count=2, endpoint="eod")  # bare code means US
    book.add("*", "html", count=1)
    assert book.take("AAPL.US", "div") == "html"
    assert book.take("AAPL.US", "eod") == "500"
    assert book.take("AAPL.US", "eod") == "500"
    assert book.take("AAPL.US", "eod") is None
    assert fault_target("us") == "US" and fault_target("brk-b.us") == "BRK-B.US"
