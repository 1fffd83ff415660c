"""PostgreSQL / TimescaleDB bar reads into Arrow: ``COPY`` text parsed by Arrow's CSV reader.

``COPY (SELECT …) TO STDOUT (FORMAT csv)`` through psycopg, parsed by Arrow's CSV reader
with the column types given up front (``float64`` or ``decimal256(76, 30)``: ``NUMERIC`` text
is exact); the fastest measured path (``benchmarks/read_frames.py``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_nexus.storage.bar_tables import (
    BAR_COLUMNS,
    BAR_SELECT,
    PRICE_COLUMNS,
    READ_POOL,
    bar_schema,
    price_type,
)
from data_nexus.storage.reader_connection import ReaderConnection


def _pg_copy(
    symbols: Sequence[str] | None, start: dt.date | None, end: dt.date | None
) -> tuple[str, list[Any]]:
    """The bar ``COPY`` of ``symbols`` (None: all) in [start, end] and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    if symbols is not None:
        parts.append("symbol = ANY(%s)")
        params.append(list(symbols))
    if start is not None:
        parts.append("time >= %s")
        params.append(start)
    if end is not None:
        parts.append("time <= %s")
        params.append(end)
    where = (" WHERE " + " AND ".join(parts)) if parts else ""
    return f"COPY ({BAR_SELECT}{where} ORDER BY symbol, time) TO STDOUT (FORMAT csv)", params


class PostgresFrames(ReaderConnection):
    """The PostgreSQL reads of :class:`~data_nexus.storage.frames.FrameReader`."""

    def _pg_one(self, sql: str, params: list[Any], exact: bool, few: bool) -> pa.Table | None:
        """The rows of :meth:`symbol_bars`'s SELECT as CSV, parsed as :meth:`_pg_bars` parses
        its CSV (prices float64, or text when exact).

        ``few`` (a range of about a year at most): the server makes the text ``COPY …
        (FORMAT csv)`` writes (each value's output text, NULL as an empty field) as one
        value, since ``COPY`` hands the client one message per row and for a symbol-year
        that loop cost more than the query; for longer ranges ``COPY`` (measured faster
        there: 2,823 rows, one symbol, took ~20 % longer as one value).
        """
        names = ["last_date", "time", *PRICE_COLUMNS, "volume"]
        if few:
            fields = ", ".join(f"coalesce({name}::text, '')" for name in names)
            query = (
                f"SELECT string_agg(concat_ws(',', {fields}), E'\\n' ORDER BY time) "
                f"FROM ({sql.replace('?', '%s')}) AS one"
            )
            text = self._rows(query, params)[0][0]
            data = None if text is None else pa.py_buffer(text.encode())
        else:
            buffer = self._copy_out(
                f"COPY ({sql.replace('?', '%s')}) TO STDOUT (FORMAT csv)", params
            )
            data = pa.py_buffer(buffer.getbuffer()) if buffer.tell() else None
        if data is None:
            return None
        kind = pa.string() if exact else pa.float64()
        types = {"last_date": pa.date32(), "time": pa.date32(), "volume": pa.int64()}
        types.update(dict.fromkeys(PRICE_COLUMNS, kind))
        return pacsv.read_csv(
            data,
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=exact),
        )

    def _pg_bars(
        self,
        symbols: Sequence[str] | None,
        start: dt.date | None,
        end: dt.date | None,
        exact: bool,
    ) -> pa.Table:
        return self._pg_parse([self._copy_out(*_pg_copy(symbols, start, end))], exact)

    def _pg_groups(
        self,
        groups: Sequence[Sequence[str]],
        start: dt.date | None,
        end: dt.date | None,
        exact: bool,
    ) -> list[pa.Table]:
        """:meth:`_pg_bars` of each group, the next group's ``COPY`` read by a second thread
        while this one's CSV is parsed (Arrow's parse releases the GIL): the server writes
        the next group's text meanwhile instead of waiting. The peak holds two groups' text.
        """
        parts: list[pa.Table] = []
        with ThreadPoolExecutor(1, thread_name_prefix="datanexus-copy") as pool:
            pending = pool.submit(self._copy_out, *_pg_copy(groups[0], start, end))
            for k in range(len(groups)):
                holder = [pending.result()]
                if k + 1 < len(groups):
                    pending = pool.submit(self._copy_out, *_pg_copy(groups[k + 1], start, end))
                parts.append(self._pg_parse(holder, exact))
        return parts

    @staticmethod
    def _pg_parse(holder: list[io.BytesIO], exact: bool) -> pa.Table:
        """A bar ``COPY``'s CSV (the buffer in ``holder``, at its end) as a bar table.

        Takes the buffer out of ``holder`` (so no caller keeps it alive): its text is freed
        once parsed, before the typed columns are built.
        """
        buffer = holder.pop()
        # Arrow's CSV reader has no decimal256 conversion: exact prices are read as text
        # (NULL, an empty field, as null) and cast exactly by the schema cast below
        kind = pa.string() if exact else price_type(exact)
        types = {"symbol": pa.string(), "date": pa.date32(), "volume": pa.int64()}
        types.update(dict.fromkeys(PRICE_COLUMNS, kind))
        if buffer.tell() == 0:
            return bar_schema(exact).empty_table()
        buffer.seek(0)  # parsed in place: no second copy of the CSV text
        table = pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=list(BAR_COLUMNS), use_threads=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=exact),
            memory_pool=READ_POOL,
        )
        del buffer
        symbol = pc.dictionary_encode(table.column("symbol"), memory_pool=READ_POOL)
        return table.set_column(0, "symbol", symbol).cast(bar_schema(exact))

    def _copy_out(self, query: str, params: Sequence[Any]) -> io.BytesIO:
        """The output of a ``COPY … TO STDOUT`` in one buffer (at its end).

        Run with sorts off (``SET LOCAL``: this statement only), so the planner reads the
        (symbol, time) index in order. For a group of :data:`BAR_GROUP` symbols its estimate
        otherwise picks a bitmap heap scan (analysed table) or a parallel sequential scan
        (fresh, unanalysed table) and sorts 12 MiB by (symbol, time), an external merge on
        disk at the default ``work_mem`` (EXPLAIN ANALYZE: 78-152 ms a group, 16-44 ms with the
        index). One ``COPY`` of all 500 symbols (the raw path) picks the index scan by itself.
        Measured (500 symbols x 20 years, 16 groups), the server's CPU time fell from
        1.8-1.9 s to 1.2-1.3 s, what that single ``COPY`` costs.
        """
        assert self._pg is not None
        buffer = io.BytesIO()
        write = buffer.write
        with self._pg.transaction(), self._pg.cursor() as cur:
            cur.execute("SET LOCAL enable_sort = off")
            with cur.copy(query, params) as copy:
                for block in copy:
                    write(block)
        return buffer

    def bar_texts(self, symbols: Sequence[str]) -> pa.Table | None:
        """PostgreSQL: all bars of ``symbols`` with each price as the server's exact text
        (``NUMERIC`` output: plain decimals, as many decimals as stored, ``""`` where missing)
        and each volume as text, sorted by (symbol, date); ``None`` on SQLite.

        Nothing is typed but the dates: an exact export writes the text as it is, with no
        round trip through Arrow decimals.
        """
        if self._pg is None:
            return None
        names = sorted(set(symbols))
        if not names:
            return None
        query = (
            f"COPY ({BAR_SELECT} WHERE symbol = ANY(%s) ORDER BY symbol, time) "
            "TO STDOUT (FORMAT csv)"
        )
        buffer = self._copy_out(query, [names])
        types = dict.fromkeys(BAR_COLUMNS, pa.string()) | {"date": pa.date32()}
        if buffer.tell() == 0:
            return pa.schema([(name, types[name]) for name in BAR_COLUMNS]).empty_table()
        buffer.seek(0)
        return pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=list(BAR_COLUMNS), use_threads=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
            memory_pool=READ_POOL,
        )
