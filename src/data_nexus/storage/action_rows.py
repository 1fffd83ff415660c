"""Corporate actions judged at the write boundary: the ``corporate_actions`` rows to store.

Pure functions over :class:`~data_nexus.records.Split` and :class:`~data_nexus.records.Dividend`:
an impossible split ratio → ``bad_split``; a dividend with a missing or negative amount or an
unstorable text → ``bad_action``; the same action twice → stored once and a
``duplicate_action``; two different dividends on one ex-date are both kept (``seq``), two
different splits are both kept and a ``conflicting_splits`` finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from data_nexus.models import ACTION_TYPES
from data_nexus.records import Dividend, Finding, Split
from data_nexus.storage.values import VALUE_LIMIT, Skip, caller_bug, decimal_text
from data_nexus.types import AMOUNT_SCALE

_ZERO = Decimal(0)
#: Longest texts of the ``corporate_actions`` columns (PostgreSQL would raise on more).
TEXT_LIMITS = {"currency": 8, "period": 32}

#: Columns of ``corporate_actions`` in the order of an action row; the first four are the key.
ACTION_COLUMNS = (
    "symbol",
    "date",
    "action_type",
    "seq",
    "value",
    "numerator",
    "denominator",
    "unadjusted_value",
    "currency",
    "declaration_date",
    "record_date",
    "payment_date",
    "period",
)
ACTION_KEY = ACTION_COLUMNS[:4]
ACTION_VALUES = ACTION_COLUMNS[4:]


def split_value(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to 12 places, computed exactly."""
    scaled = Fraction(numerator) / Fraction(denominator) * 10**AMOUNT_SCALE
    return Decimal(round(scaled)).scaleb(-AMOUNT_SCALE)


def _amount(value: object, symbol: str, day: object, field: str, kind: str) -> Decimal:
    try:
        text = decimal_text(value, symbol=symbol, day=day, field=field)
    except Skip as skip:
        raise Skip(kind, skip.detail) from None
    number = Decimal(text)
    if number < _ZERO:
        raise Skip(kind, f"{field}: {value} is negative")
    return number


def action_row(symbol: str, action: Split | Dividend) -> dict[str, Any]:
    """Judge one corporate action and map it to a ``corporate_actions`` row (``seq`` 0).

    Raises :class:`Skip` for an action that cannot be stored, :class:`DataValidationError`
    for a bug of the caller.
    """
    day = action.date
    if type(day) is not dt.date:
        raise caller_bug(symbol, day, "date", f"{day!r} is not a date")
    if action.symbol != symbol:
        raise caller_bug(symbol, day, "symbol", f"the action belongs to {action.symbol!r}")
    if action.action_type not in ACTION_TYPES:
        kind = action.action_type
        raise caller_bug(symbol, day, "action_type", f"{kind!r} is not one of {ACTION_TYPES}")
    row: dict[str, Any] = dict.fromkeys(ACTION_COLUMNS)
    row.update(symbol=symbol, date=day, action_type=action.action_type, seq=0)
    if isinstance(action, Split):
        numerator = _amount(action.numerator, symbol, day, "numerator", "bad_split")
        denominator = _amount(action.denominator, symbol, day, "denominator", "bad_split")
        ratio = f"{action.numerator}/{action.denominator}"  # as sent
        if numerator == 0 or denominator == 0:
            raise Skip("bad_split", f"split: {ratio} is not a ratio")
        value = split_value(numerator, denominator)
        if value == 0 or value >= VALUE_LIMIT:
            raise Skip("bad_split", f"split: {ratio} is outside any sane ratio")
        row.update(numerator=numerator, denominator=denominator, value=value)
        return row
    if action.value is None:
        raise Skip("bad_action", "value: missing amount")
    row["value"] = _amount(action.value, symbol, day, "value", "bad_action")
    if action.unadjusted_value is not None:
        row["unadjusted_value"] = _amount(
            action.unadjusted_value, symbol, day, "unadjusted_value", "bad_action"
        )
    for name in ("declaration_date", "record_date", "payment_date"):
        when = getattr(action, name)
        if when is not None and type(when) is not dt.date:
            raise caller_bug(symbol, day, name, f"{when!r} is not a date")
        row[name] = when
    for name, limit in TEXT_LIMITS.items():
        text = getattr(action, name)
        if text is not None and len(text) > limit:
            raise Skip("bad_action", f"{name}: {text!r} is longer than {limit} characters")
        row[name] = text
    return row


def _sort_key(row: dict[str, Any]) -> tuple[str, ...]:
    """A stable order of the actions of one (date, type): by their values as text."""
    return tuple("" if row[c] is None else str(row[c]) for c in ACTION_VALUES)


def judge_actions(
    symbol: str, actions: Sequence[Split | Dividend]
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Judge ``symbol``'s corporate actions: the rows to store and the findings.

    Exact duplicates are stored once (a ``duplicate_action`` finding); different actions of
    one type on one ex-date are all stored, numbered ``seq`` 0, 1, … in the order of their
    values (so the numbering does not depend on the provider's order), and two different
    splits on one day are also a ``conflicting_splits`` finding.
    """
    findings: list[Finding] = []
    groups: dict[tuple[dt.date, str], dict[tuple[str, ...], dict[str, Any]]] = {}
    for action in actions:
        try:
            row = action_row(symbol, action)
        except Skip as skip:
            findings.append(Finding(symbol, action.date, skip.kind, skip.detail))
            continue
        group = groups.setdefault((row["date"], row["action_type"]), {})
        key = _sort_key(row)
        if key in group:
            detail = f"{row['action_type']} sent twice: stored once"
            findings.append(Finding(symbol, row["date"], "duplicate_action", detail))
            continue
        group[key] = row
    rows: list[dict[str, Any]] = []
    for (day, kind), group in sorted(groups.items()):
        ordered = [group[key] for key in sorted(group)]
        for seq, row in enumerate(ordered):
            row["seq"] = seq
            rows.append(row)
        if kind == "split" and len(ordered) > 1:
            ratios = ", ".join(f"{r['numerator']}/{r['denominator']}" for r in ordered)
            detail = f"{len(ordered)} different splits on one ex-date, all stored: {ratios}"
            findings.append(Finding(symbol, day, "conflicting_splits", detail))
    return rows, findings


def validate_actions(symbol: str, actions: Sequence[Split | Dividend]) -> list[dict[str, Any]]:
    """The rows :func:`judge_actions` would store (findings dropped)."""
    return judge_actions(symbol, actions)[0]
