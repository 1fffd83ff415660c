"""Error hints only ever suggest a spelling that is accepted; dates say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.errors import UsageError
from data_nexus.symbols import parse_symbol, symbol_hint
from tests.cli.test_db_cli import run_cli

#: Characters people type in and around tickers, plus some that never belong there.
ALPHABET = st.sampled_from(list("ABCZabz0189.^/ -_&=+;:'\"\\,*$#\t"))


@settings(max_examples=2000, deadline=None)
@given(st.text(ALPHABET, max_size=12))
def test_every_hint_is_accepted_by_parse_symbol(text: str) -> None:
    hint = symbol_hint(text)
    if hint is None:
        return
    assert str(parse_symbol(hint)) == hint  # accepted, and already canonical
    with pytest.raises(UsageError) as raised:
        parse_symbol(text)
    assert f"'{hint}'" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("BRK.B", "BRK-B.US"),
        ("^GSPC", "GSPC.INDX"),
        ("aapl", "AAPL.US"),
        ("A;DROP", None),
        ("../x", None),
        ("AAPL.US", None),
        ("0.. 0", "0-.0"),  # found by the property above: the hint is given canonical
    ],
)
def test_known_hints(text: str, hint: str | None) -> None:
    assert symbol_hint(text) == hint


def test_cli_messages_suggest_nothing_refused(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    assert run_cli("db", "upgrade", "-d", str(db), cwd=tmp_path).returncode == 0
    for bad in ("A;DROP", "../x"):
        result = run_cli("bars", bad, "-d", str(db), cwd=tmp_path)
        assert result.returncode == 2
        assert "use '" not in result.stderr and "DROP.US" not in result.stderr, result.stderr
    date = run_cli("bars", "AAA.US", "--from", "2024-02-30", "-d", str(db), cwd=tmp_path)
    assert date.returncode == 2
    assert date.stderr.strip() == (
        "error: invalid start date '2024-02-30': not a real date "
        "(the month has no such day, or there is no such month)"
    )
