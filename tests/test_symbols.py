"""Symbol lists: every command and library call that takes several symbols takes commas."""

from __future__ import annotations

import pytest

from data_nexus.errors import UsageError
from data_nexus.query.arguments import symbol_list
from data_nexus.symbols import parse_symbols, split_symbols


def test_commas_and_separate_items_are_the_same_list() -> None:
    assert split_symbols(["AAPL.US,msft.us", " SPY.US "]) == ["AAPL.US", "msft.us", " SPY.US "]
    parsed = [str(s) for s in parse_symbols(["aapl.us, MSFT.US", "AAPL.US"])]
    assert parsed == ["AAPL.US", "MSFT.US"]
    assert symbol_list("aapl.us,msft.us") == ["AAPL.US", "MSFT.US"]
    assert symbol_list(["AAPL.US", "aapl.us , spy.us"]) == ["AAPL.US", "SPY.US"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["A.US,,B.US"], "invalid symbol list 'A.US,,B.US': an empty name between commas"),
        (["A.US,"], "invalid symbol list 'A.US,': an empty name between commas"),
        ([","], "invalid symbol list ',': an empty name between commas"),
        ([""], "invalid symbol '': expected CODE.EXCHANGE, e.g. 'AAPL.US'"),
        (["  "], "invalid symbol '  ': expected CODE.EXCHANGE, e.g. 'AAPL.US'"),
        ([], "no symbols given: name at least one, e.g. AAPL.US"),
    ],
)
def test_empty_names_are_refused(items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        symbol_list(items)
    assert str(caught.value) == message
