"""A clean import CSV file read by Arrow and judged a column at a time
(:func:`parse_columns`), and :func:`read_file`, which picks that or the row-by-row parse.

Pure: no database. The judgement is the store's
(:func:`~data_nexus.storage.text_columns.judge_columns`), so a file read either way yields
the same bars.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_nexus.query.import_rows import ParsedFile, header_columns, parse_file
from data_nexus.storage.text_columns import judge_columns


def read_file(path: Path, symbol: str, today: dt.date) -> ParsedFile:
    """Parse one CSV file: column-wise when it is clean (:func:`parse_columns`), else row by
    row (:func:`parse_file`), which reports each refused row."""
    fast = parse_columns(path, symbol, today)
    return fast if fast is not None else parse_file(path, symbol)


#: Columns that make a row carry a corporate action.
ACTION_CELLS = ("dividend", "dividend_adjusted", "split")


def parse_columns(path: Path, symbol: str, today: dt.date) -> ParsedFile | None:
    """A clean file read by Arrow and judged a column at a time; ``None`` when it is not
    clean (then :func:`parse_file` reads it and says what is wrong, row by row).

    Clean: every line one row of the header's width (no quoted line breaks, no blank
    lines), every bar clean by :func:`~data_nexus.storage.text_columns.judge_columns` (so
    none would be a finding), and the rows with a dividend or split read without a problem
    by :func:`parse_file` (only those rows are read row by row).
    """
    data = path.read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    lines = data[start:].decode("utf-8").splitlines()
    if len(lines) < 2:
        return None
    names = next(csv.reader(lines[:1]))
    columns = header_columns(names)
    if "date" not in columns or "close" not in columns:
        return None
    auto = [f"c{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data[start:]),
            read_options=pacsv.ReadOptions(column_names=auto, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(auto, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(lines) - 1:
        return None

    def column(name: str) -> pa.Array | None:
        i = columns.get(name)
        return None if i is None else table.column(i).combine_chunks()

    parsed = ParsedFile(symbol)
    cells = [c for c in map(column, ACTION_CELLS) if c is not None]
    close = column("close")
    bar_rows = None
    if cells:
        has_action = pc.not_equal(cells[0], "")
        for more in cells[1:]:
            has_action = pc.or_(has_action, pc.not_equal(more, ""))
        picked = pc.indices_nonzero(has_action).to_pylist()
        if picked:
            rows = parse_file(
                path, symbol, [lines[0], *(lines[i + 1] for i in picked)], [i + 2 for i in picked]
            )
            if rows.problems or any(bar.close is None for bar in rows.bars):
                return None
            parsed.actions = rows.actions
            bar_rows = pc.invert(pc.and_(has_action, pc.equal(close, "")))
    names_ = ("open", "high", "low", "close", "adjusted_close")
    prices, dates, volumes = [column(n) for n in names_], column("date"), column("volume")
    if bar_rows is not None:
        prices = [None if p is None else p.filter(bar_rows) for p in prices]
        dates = dates.filter(bar_rows) if dates is not None else None
        volumes = volumes.filter(bar_rows) if volumes is not None else None
    if dates is None:  # pragma: no cover - checked with the header
        return None
    judged = judge_columns(dates, prices, volumes, today=today)
    if judged is None:
        return None
    parsed.rows = judged
    return parsed
