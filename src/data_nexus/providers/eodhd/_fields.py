"""Field-level coercion shared by the EODHD parsers (pure, no I/O).

Every function here either returns a typed value or raises :class:`BadResponse` naming the
symbol, the field and a short redacted excerpt. Values are accepted leniently per field, as
EODHD sends them (whole numbers without a decimal point, amounts as strings, ``null`` or
``""`` for missing values) and rejected when they are wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from data_nexus.errors import BadResponse
from data_nexus.redact import redact

#: Longest excerpt of provider text that goes into an error message.
EXCERPT_LEN = 60
#: Numbers at or above 10**16 are not prices, amounts or ratios; they are garbage.
_MAX_ADJUSTED_EXPONENT = 15
#: Share counts go up to BIGINT's 2**63-1 (about 9.2E18).
_MAX_VOLUME_EXPONENT = 18
#: More than 30 decimal places is garbage too (and would blow up plain-text rendering).
_MIN_EXPONENT = -30
#: ``market_data.volume`` is a BIGINT.
MAX_VOLUME = 2**63 - 1

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SPACE = re.compile(r"\s+")


class MalformedBody(BadResponse):
    """The body is not the format that was asked for: truncated or garbled JSON, an HTML page,
    plain text, bytes that are not UTF-8.

    Unlike a well-formed body with bad values, this looks like transport corruption, so the
    client retries it a couple of times before giving up.
    """


def excerpt(text: str, secrets: Iterable[str] = ()) -> str:
    """A one-line, redacted piece of ``text`` of at most :data:`EXCERPT_LEN` characters.

    Redaction runs on the whole text before truncation, so a secret cut in half by the
    truncation cannot survive as a recognisable prefix.
    """
    one_line = _SPACE.sub(" ", redact(text, secrets)).strip()
    if len(one_line) > EXCERPT_LEN:
        one_line = one_line[: EXCERPT_LEN - 1] + "…"
    return one_line


def value_text(value: Any, limit: int = 4 * EXCERPT_LEN) -> str:
    """The JSON-like text of a parsed value, for excerpts; stops soon after ``limit`` chars.

    Bounded so that quoting a 6 MB object costs nothing.
    """
    out: list[str] = []
    _render(value, out, [limit])
    return "".join(out)


def _render(value: Any, out: list[str], budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if budget[0] <= 0:
                break
            out.append(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            _render(item, out, budget)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if budget[0] <= 0:
                break
            out.append("," if i else "")
            _render(item, out, budget)
        out.append("]")
    else:
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value[: budget[0] + 2], ensure_ascii=False)
        else:
            text = str(value)[: budget[0] + 2]
        out.append(text)
        budget[0] -= len(text)


def field_excerpt(key: str, value: Any, secrets: Iterable[str] = ()) -> str:
    """``"key":value`` as an excerpt."""
    return excerpt(f'"{key}":{value_text(value)}', secrets)


def load_json(body: bytes, *, symbol: str | None, secrets: Iterable[str] = ()) -> Any:
    """Decode a JSON body with exact numbers: floats and ints become :class:`Decimal`.

    Raises :class:`MalformedBody` for an empty body, bytes that are not UTF-8, an HTML page,
    plain text, or truncated/garbled JSON.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        near = body[max(0, exc.start - 20) : exc.start + 40].decode("utf-8", "replace")
        raise MalformedBody(
            "body is not UTF-8 text", symbol=symbol, excerpt=excerpt(near, secrets)
        ) from None
    stripped = text.strip()
    if not stripped:
        raise MalformedBody("empty body where JSON was expected", symbol=symbol, excerpt="")
    if stripped.startswith("<"):
        raise MalformedBody(
            "HTML where JSON was expected", symbol=symbol, excerpt=excerpt(stripped, secrets)
        )
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        if stripped[0] not in '[{"-0123456789tfnNI':
            what = "plain text where JSON was expected"
            near = stripped
        else:
            what = "invalid JSON (truncated or garbled body)"
            near = text[max(0, exc.pos - 20) : exc.pos + 40]
        raise MalformedBody(what, symbol=symbol, excerpt=excerpt(near, secrets)) from None
    except (ValueError, RecursionError):
        raise MalformedBody(
            "invalid JSON (nested too deeply or garbled)",
            symbol=symbol,
            excerpt=excerpt(stripped, secrets),
        ) from None


def expect_list(data: Any, *, symbol: str | None, what: str, secrets: Iterable[str]) -> list[Any]:
    """``data`` if it is a JSON array, else :class:`BadResponse` describing the shape."""
    if isinstance(data, list):
        return data
    raise BadResponse(
        f"expected a JSON array of {what}, got {_shape(data)}",
        symbol=symbol,
        excerpt=excerpt(value_text(data), secrets),
    )


def expect_object(row: Any, *, symbol: str | None, what: str, secrets: Iterable[str]) -> None:
    """Raise :class:`BadResponse` unless ``row`` is a JSON object."""
    if not isinstance(row, dict):
        raise BadResponse(
            f"expected each {what} to be a JSON object, got {_shape(row)}",
            symbol=symbol,
            excerpt=excerpt(value_text(row), secrets),
        )


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def duplicate(symbol: str, row: Mapping[str, Any], secrets: Iterable[str]) -> BadResponse:
    """The error for a second row of ``symbol`` on the same date in one body."""
    return BadResponse(
        f"duplicate date {row.get('date')} in one body",
        symbol=symbol,
        field="date",
        excerpt=field_excerpt("date", row.get("date"), secrets),
    )


def is_missing(value: Any) -> bool:
    """``None`` or a blank string: the provider's ways of saying "no value"."""
    return value is None or (isinstance(value, str) and not value.strip())


class Fields:
    """Reads typed fields out of one row, raising errors that name symbol, field and row."""

    __slots__ = ("day", "row", "secrets", "symbol", "when")

    def __init__(
        self, row: Mapping[str, Any], *, symbol: str | None, secrets: Iterable[str] = ()
    ) -> None:
        self.row = row
        self.symbol = symbol
        self.secrets = tuple(secrets)
        self.when = ""
        #: The row's date once :meth:`date` read it (for a finding about the row).
        self.day: dt.date | None = None

    def fail(self, message: str, key: str, value: Any) -> BadResponse:
        """A :class:`BadResponse` for ``key`` of this row."""
        return BadResponse(
            message + self.when,
            symbol=self.symbol,
            field=key,
            excerpt=field_excerpt(key, value, self.secrets),
        )

    def date(self, key: str = "date") -> dt.date:
        """A required ``YYYY-MM-DD`` date; also remembered for later messages."""
        value = self.row.get(key)
        if is_missing(value):
            raise self.fail("missing date", key, value)
        parsed = self._date(key, value)
        self.when = f" on {parsed.isoformat()}"
        self.day = parsed
        return parsed

    def optional_date(self, key: str) -> dt.date | None:
        """A date that may be ``null``, ``""``, absent or MySQL's ``0000-00-00``."""
        value = self.row.get(key)
        if is_missing(value) or value == "0000-00-00":
            return None
        return self._date(key, value)

    def _date(self, key: str, value: Any) -> dt.date:
        match = _DATE.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.fail("invalid date", key, value)
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise self.fail("invalid date", key, value) from None

    def number(self, key: str, *, max_exponent: int = _MAX_ADJUSTED_EXPONENT) -> Decimal | None:
        """An exact finite number from a JSON number or numeric string; ``None`` if missing.

        Numbers of ``10**(max_exponent + 1)`` or more, or with more than 30 decimal places,
        are "out of range".
        """
        value = self.row.get(key)
        if is_missing(value):
            return None
        if isinstance(value, str):
            text = value.strip()
            if _NUMBER.fullmatch(text) is None:
                raise self.fail("unparseable number", key, value)
            number = Decimal(text)
        elif isinstance(value, Decimal):
            number = value
        else:  # bool, list, object
            raise self.fail("unparseable number", key, value)
        if not number.is_finite():
            raise self.fail("unparseable number", key, value)
        if number.is_zero():
            return Decimal(0)  # no "-0", no "0E+99"
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if number.adjusted() > max_exponent or exponent < _MIN_EXPONENT:
            raise self.fail("number out of range", key, value)
        return number

    def non_negative(self, key: str, what: str = "price") -> Decimal | None:
        """A number that must not be negative (prices, amounts)."""
        number = self.number(key)
        if number is not None and number < 0:
            raise self.fail(f"negative {what}", key, self.row.get(key))
        return number

    def required(self, key: str, what: str = "price") -> Decimal:
        """A non-negative number that must be present."""
        number = self.non_negative(key, what)
        if number is None:
            raise self.fail(f"missing {key}", key, self.row.get(key))
        return number

    def volume(self, key: str = "volume") -> tuple[int | None, Decimal | None]:
        """A share count: ``(volume, fraction_seen)``.

        Fractional volumes are rounded half-even to a whole share (the column is a BIGINT);
        the second item is the original value when that happened, for the caller's warning.
        """
        number = self.number(key, max_exponent=_MAX_VOLUME_EXPONENT)
        if number is None:
            return None, None
        if number < 0:
            raise self.fail("negative volume", key, self.row.get(key))
        if number.adjusted() > _MAX_VOLUME_EXPONENT:
            raise self.fail("volume out of range", key, self.row.get(key))
        whole = number.to_integral_value(rounding=ROUND_HALF_EVEN)
        volume = int(whole)
        if volume > MAX_VOLUME:
            raise self.fail("volume out of range", key, self.row.get(key))
        return volume, (number if whole != number else None)

    def text(self, key: str) -> str | None:
        """A stripped string (numbers accepted by their text); ``None`` if missing."""
        value = self.row.get(key)
        if is_missing(value):
            return None
        if isinstance(value, str):
            return self._clean(value.strip())
        if isinstance(value, Decimal) and value.is_finite():
            return str(value)
        raise self.fail("expected text", key, value)

    def _clean(self, text: str) -> str:
        """Provider text goes into records and messages: never let a secret through."""
        if "api_token" in text.lower() or any(s in text for s in self.secrets if s):
            return redact(text, self.secrets)
        return text

    def code(self, key: str) -> str:
        """A ticker or exchange code: non-blank, no spaces or control characters."""
        value = self.row.get(key)
        code = self.required_text(key)
        if len(code) > 40 or not code.isprintable() or " " in code or "***" in code:
            raise self.fail(f"implausible {key}", key, value)
        return code

    def required_text(self, key: str) -> str:
        """A non-blank string."""
        text = self.text(key)
        if text is None:
            raise self.fail(f"missing {key}", key, self.row.get(key))
        return text

    def integer(self, key: str, default: int | None = None) -> int:
        """A non-negative whole number (counters such as ``apiRequests``)."""
        number = self.number(key)
        if number is None:
            if default is None:
                raise self.fail(f"missing {key}", key, self.row.get(key))
            return default
        if number < 0 or number != number.to_integral_value() or number.adjusted() > 18:
            raise self.fail("expected a whole non-negative number", key, self.row.get(key))
        return int(number)
