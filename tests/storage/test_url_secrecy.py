"""A database password never leaks into an error, even with unencoded reserved characters.

Passwords that hold ``@``, ``:``, ``/``, ``#`` or ``?`` without percent-encoding: an ``@``
makes the URL ambiguous and is refused before anything connects; the others parse, and the
connection error shows the URL with the password masked. No fragment of the password may
appear in any message.
"""

from __future__ import annotations

import re

import pytest

from data_nexus.errors import ConfigError, DatabaseUnavailable
from data_nexus.redact import redact
from data_nexus.storage.engine import ENCODE_HINT
from data_nexus.storage.store import Store

# Nothing listens on port 1 of the loopback interface: the connection is refused at once.
WHERE = "127.0.0.1:1/dn"

WITH_AT = ["s3cr@tail", "ab:cd@efgh", "pa@ss/wo#rd?x", "x@y@zzzz"]
PARSEABLE = ["ab:cdxyz", "ab/cdxyz", "ab#cdxyz", "ab?cdxyz", "a:b/c#d?eee"]


def fragments(password: str) -> list[str]:
    """The parts of the password between reserved characters (3 or more characters)."""
    return [part for part in re.split(r"[@:/#?]", password) if len(part) >= 3]


def assert_hidden(message: str, password: str) -> None:
    assert password not in message
    for part in fragments(password):
        assert part not in message, (part, message)


@pytest.mark.parametrize("password", WITH_AT)
def test_an_unencoded_at_is_refused_with_the_password_masked(password: str) -> None:
    """One line: the URL with ``***`` for the whole password, and how to encode it."""
    with pytest.raises(ConfigError) as info:
        Store.open(f"postgresql://dn:{password}@{WHERE}")
    message = str(info.value)
    assert message == (
        f"invalid database URL 'postgresql://dn:***@{WHERE}': more than one '@'; {ENCODE_HINT}"
    )
    assert_hidden(message, password)


@pytest.mark.parametrize("password", PARSEABLE)
def test_a_connection_error_masks_the_password(password: str) -> None:
    """``cannot open database URL: reason (hint)``, the URL's password masked."""
    with pytest.raises(DatabaseUnavailable) as info:
        Store.open(f"postgresql://dn:{password}@{WHERE}")
    message = str(info.value)
    assert re.fullmatch(
        rf"cannot open database postgresql(\+psycopg)?://dn:\*\*\*@{re.escape(WHERE)}: "
        r".+ \(check the host, port, user, password and database name, "
        r"and that the server runs\)",
        message,
    ), message
    assert "\n" not in message
    assert_hidden(message, password)


@pytest.mark.parametrize("password", WITH_AT + PARSEABLE)
def test_redact_masks_the_password_up_to_the_last_at(password: str) -> None:
    """In free text (quoted or not) the whole password becomes ``***``."""
    url = f"postgresql://dn:{password}@{WHERE}"
    for text, expected in (
        (f"failed: {url} (retry)", f"failed: postgresql://dn:***@{WHERE} (retry)"),
        (f"url='{url}', next", f"url='postgresql://dn:***@{WHERE}', next"),
    ):
        assert redact(text) == expected


#: (URL, its display form): the password masked wherever it is, every other part kept,
#: ``&`` separators included.
SHAPES = [
    (
        "postgresql+psycopg://u:hunter2pw@h/db",
        "postgresql+psycopg://u:***@h/db",
    ),
    (
        "postgresql+psycopg://u@h/db?password=hunter2pw&sslmode=require",
        "postgresql+psycopg://u@h/db?password=***&sslmode=require",
    ),
    (
        "postgresql+psycopg://u@h/db?sslmode=require&password=hunter2pw",
        "postgresql+psycopg://u@h/db?sslmode=require&password=***",
    ),
    (
        "postgresql+psycopg://u:hunter2pw@h/db?password=hunter2pw&sslmode=require&x=1",
        "postgresql+psycopg://u:***@h/db?password=***&sslmode=require&x=1",
    ),
    (
        "postgresql+psycopg://u:hun%40ter2%26pw@h/db?password=hun%26ter2pw&sslmode=require",
        "postgresql+psycopg://u:***@h/db?password=***&sslmode=require",
    ),
]


@pytest.mark.parametrize(("url", "shown"), SHAPES)
def test_redact_masks_every_password_shape_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(f"cannot open '{url}' now") == f"cannot open '{shown}' now"


@pytest.mark.parametrize(("url", "shown"), SHAPES)
def test_the_parsed_url_is_displayed_without_any_password(url: str, shown: str) -> None:
    """``safe_display`` of a parsed URL (SQLAlchemy's own rendering masks only user:pass@;
    it may reorder the query parameters, so the check is on the parts)."""
    from data_nexus.storage.engine import parse_database_url, safe_display

    text = safe_display(parse_database_url(url))
    assert "hunter2" not in text and "ter2" not in text
    base, _, query = text.partition("?")
    assert base == shown.partition("?")[0]
    assert sorted(query.split("&")) == sorted(shown.partition("?")[2].split("&"))


def test_a_query_string_password_is_masked_in_a_connection_error() -> None:
    """``?password=…&sslmode=disable``: masked, and the parameters after it still shown."""
    with pytest.raises(DatabaseUnavailable) as info:
        Store.open(f"postgresql://dn@{WHERE}?password=hunter2pw&sslmode=disable")
    message = str(info.value)
    assert message.startswith(
        f"cannot open database postgresql://dn@{WHERE}?password=***&sslmode=disable: "
    ), message
    assert "hunter2" not in message
