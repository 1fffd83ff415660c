"""Bars given as text columns (a CSV file read by Arrow), judged column by column.

A CSV import holds each price as the text the file has. Turning every cell into a
:class:`~decimal.Decimal` and every row into a :class:`~data_nexus.records.Bar`, only for
the validator to turn them back into text, costs about 20 µs a bar in Python; PostgreSQL's
own ``COPY`` of the same file costs about 5. Most files are clean, so they are judged here a
column at a time, in Arrow's C++ kernels, on the text itself (nothing passes through a
binary float): :func:`judge_columns` returns the rows as
:class:`~data_nexus.storage.validate.JudgedRows` when *every* row is clean by the rules of
:mod:`data_nexus.storage.validate`, so that no row of the file would be a finding:

- the date is ``YYYY-MM-DD``, a real date, not after ``today``, and no date comes twice;
- the close is present, and every price present is a plain decimal ``> 0`` with at most 15
  digits before the point and 30 after it (trailing zeros are dropped, as the validator
  does: ``177.8300`` is stored as ``177.83``);
- the volume is empty or a whole number of at most 18 digits (below ``2^63``).

Otherwise it returns ``None`` and the caller judges the file row by row, which reports each
refused row with its reason (a negative price is stored but is a finding, a price of 0
too, a future bar is skipped, …).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from data_nexus.storage.validate import MISSING, JudgedRows

_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: A canonical positive price: at most 15 digits before the point, 30 after, no trailing 0.
_POSITIVE = r"^(?:[1-9][0-9]{0,14}(?:\.[0-9]{0,29}[1-9])?|0\.[0-9]{0,29}[1-9])$"
_VOLUME = r"^(?:0|[1-9][0-9]{0,17})$"


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask, skip_nulls=False).as_py())


def _price(text: pa.Array, *, required: bool) -> pa.Array | None:
    """The canonical text of a price column (:data:`MISSING` where empty), or ``None``
    when a cell is not a clean positive price."""
    dotted = pc.match_substring(text, ".")
    trimmed = pc.if_else(
        dotted, pc.utf8_rtrim(pc.utf8_rtrim(text, characters="0"), characters="."), text
    )
    ok = pc.match_substring_regex(trimmed, _POSITIVE)
    if not required:
        ok = pc.or_(ok, pc.equal(text, ""))
    if not _all(ok):
        return None
    return trimmed if required else pc.if_else(pc.equal(text, ""), MISSING, trimmed)


def judge_columns(
    dates: pa.Array,
    prices: list[pa.Array | None],
    volumes: pa.Array | None,
    *,
    today: dt.date | None,
) -> JudgedRows | None:
    """The rows of these text columns if every one is clean (see the module), else ``None``.

    ``prices`` are the open, high, low, close and adjusted close columns in that order,
    ``None`` for a column the file does not have (the close must be there). Columns are
    strings without nulls (an empty cell is ``""``).
    """
    if len(prices) != 5 or prices[3] is None:
        raise ValueError("judge_columns needs five price columns, the close among them")
    n = len(dates)
    if n == 0:
        return JudgedRows([])
    if not _all(pc.match_substring_regex(dates, _DATE)) or pc.min(dates).as_py() < "0001":
        return None  # (Arrow has a year 0, Python and PostgreSQL do not)
    try:
        days = dates.cast(pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if today is not None and pc.max(days).as_py() > today:
        return None
    if pc.count_distinct(days).as_py() != n:
        return None
    texts = []
    for i, column in enumerate(prices):
        if column is None:
            texts.append(pa.array([MISSING] * n, pa.string()))
            continue
        text = _price(column, required=i == 3)
        if text is None:
            return None
        texts.append(text)
    joined = pc.binary_join_element_wise(*texts, "\t")
    if volumes is None:
        amounts: list[int | None] = [None] * n
    else:
        present = pc.not_equal(volumes, "")
        if not _all(pc.or_(pc.match_substring_regex(volumes, _VOLUME), pc.invert(present))):
            return None
        amounts = pc.if_else(present, volumes, None).cast(pa.int64()).to_pylist()
    return JudgedRows(list(zip(dates.to_pylist(), joined.to_pylist(), amounts, strict=True)))
