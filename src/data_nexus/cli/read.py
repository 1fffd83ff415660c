"""``datanexus bars | actions | status | runs``: read the warehouse (read-only, never upgrades).

Each command calls one function of :mod:`data_nexus.query` and renders its DataFrame.

``bars`` output: ``table`` and ``csv`` are the data alone; ``json`` is an object with the
frame's metadata (``adjust``, ``interval``, ``cutoff``: the last stored bar date, ``source``;
the ``from``/``to`` asked for) and the rows under ``bars``; ``parquet`` holds the same
metadata as file key-value metadata (as ``export`` writes it). Adjusted prices (any
``--adjust`` but ``none``) are products of ratios: text output rounds them to
:data:`SIGNIFICANT_DIGITS` significant digits (``123.45``, not ``123.45000000000002``);
Parquet and the library's DataFrame keep the full float64.

``-o FILE`` without ``--format`` takes the format from the file's extension (``.csv``,
``.json``, ``.parquet``; ``.txt`` or none: the table); any other extension, or a
``--format`` that contradicts the extension (``--format csv -o x.parquet``), is a usage
error (exit 2) before anything is read or written.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from data_nexus.cli.common import DatabaseUrl, JsonFlag, settings_for
from data_nexus.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

Symbols = Annotated[
    list[str],
    typer.Argument(
        metavar="SYMBOL",
        help="Symbols as CODE.EXCHANGE, e.g. AAPL.US; several separated by spaces or commas.",
    ),
]
FORMATS = ("table", "csv", "json", "parquet")
#: Significant digits of adjusted prices in text output (table, CSV, JSON).
SIGNIFICANT_DIGITS = 12
#: The price columns an adjust mode multiplies (``adjusted_close`` is the stored one).
ADJUSTED_COLUMNS = ("open", "high", "low", "close")

Start = Annotated[
    str | None, typer.Option("--from", metavar="DATE", help="First date (YYYY-MM-DD).")
]
End = Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last date (YYYY-MM-DD).")]


def _url(database_url: str | None) -> str:
    return settings_for(database_url).database_url


def check_format(fmt: str, choices: tuple[str, ...] = FORMATS) -> str:
    """``fmt`` in lower case if it is one of ``choices``, else a one-line usage error."""
    name = fmt.strip().lower()
    if name not in choices:
        raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(choices)}")
    return name


#: The format a file extension of ``-o`` stands for (lower case; ``""`` is no extension).
EXTENSIONS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table", "": "table"}


def output_format(fmt: str | None, output: Path | None) -> str:
    """The format to write: ``fmt`` checked, else the one ``output``'s extension stands for
    (:data:`EXTENSIONS`), else ``table``. A one-line :class:`UsageError` when the extension
    is unknown and no ``fmt`` is given, or when ``fmt`` contradicts a known extension."""
    checked = None if fmt is None else check_format(fmt)
    if output is None:
        return checked or "table"
    implied = EXTENSIONS.get(output.suffix.lower())
    if checked is None:
        if implied is None:
            raise UsageError(
                f"cannot tell the format of {str(output)!r} from its extension: name it .csv, "
                ".json, .parquet or .txt, or pass --format"
            )
        return implied
    if implied is not None and implied != checked:
        raise UsageError(
            f"--format {checked} contradicts -o {str(output)!r} (a {implied} file name): "
            "drop --format or change the extension"
        )
    return checked


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return plain.to_dict(orient="records")  # type: ignore[return-value]


def emit(
    frame: pd.DataFrame,
    fmt: str,
    output: Path | None,
    *,
    envelope: dict[str, object] | None = None,
) -> None:
    """Write ``frame`` as a table, CSV, JSON records or Parquet, to ``output`` or stdout.

    ``envelope``: JSON is this object with the records under ``"bars"``, and Parquet carries
    its keys as file key-value metadata (text values)."""
    fmt = check_format(fmt)
    if fmt == "parquet":
        if output is None:
            raise UsageError("--format parquet needs -o FILE")
        import pyarrow as pa  # noqa: PLC0415 - lazy: start-up time
        import pyarrow.parquet as pq  # noqa: PLC0415

        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        for key, value in (envelope or {}).items():
            meta[key.encode()] = ("" if value is None else str(value)).encode()
        pq.write_table(table.replace_schema_metadata(meta), output)
        return
    if fmt == "table":
        text = frame.to_string(index=False) if len(frame) else "(no rows)"
        text += "\n"
    elif fmt == "csv":
        text = frame.to_csv(index=False, date_format="%Y-%m-%d")
    elif envelope is not None:
        text = json.dumps({**envelope, "bars": _records(frame)}, indent=2, default=str) + "\n"
    else:
        text = json.dumps(_records(frame), indent=2, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


#: The widest a free-text column (an error, a message) is in a table; --json has it whole.
WHY_WIDTH = 60


def _clip(text: Any) -> Any:
    """The first line of ``text``, at most :data:`WHY_WIDTH` characters (``…`` marks a cut);
    anything else as it is."""
    if not isinstance(text, str):
        return text
    line = text.strip().split("\n", 1)[0]
    cut = len(line) > WHY_WIDTH or "\n" in text.strip()
    return line[: WHY_WIDTH - 1] + "…" if len(line) > WHY_WIDTH else line + ("…" if cut else "")


def _utc_seconds(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with the instants in ``columns`` as ``YYYY-MM-DD HH:MM:SS`` in UTC (the
    table says once that times are UTC); a missing one stays missing."""
    import pandas as pd  # noqa: PLC0415 - lazy: start-up time

    def text(value: Any) -> str | None:
        if value is None or pd.isna(value):
            return None
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return stamp.strftime("%Y-%m-%d %H:%M:%S")

    out = frame.copy()
    for name in columns:
        out[name] = [text(value) for value in out[name]]
    return out


def significant(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with ``columns`` rounded to :data:`SIGNIFICANT_DIGITS` significant digits,
    for text output: the float noise of adjustment factors goes, the value stays float64
    (so it prints shortest: ``123.45``). NaN stays NaN."""
    import numpy as np  # noqa: PLC0415 - lazy: start-up time

    spec = f".{SIGNIFICANT_DIGITS}g"
    rounded = {
        name: np.array(
            [float(format(v, spec)) for v in frame[name].to_numpy(dtype=float)], dtype=float
        )
        for name in columns
        if name in frame.columns
    }
    return frame.assign(**rounded)


def _why_empty(cutoff: str, start: str | None) -> str:
    """The one line that says why ``bars`` found nothing."""
    if not cutoff:
        return "no bars: none are stored for these symbols yet (datanexus sync SYMBOL …)"
    if start is not None:
        from data_nexus.query.arguments import parse_day  # noqa: PLC0415 - lazy: start-up

        first = parse_day(start, "start date")
        if first is not None and first.isoformat() > cutoff:
            return f"no bars: --from {first} is after the last stored bar ({cutoff})"
    return f"no bars in this range (the last stored bar is {cutoff})"


def register(app: typer.Typer) -> None:
    """Add the read commands to ``app``."""

    @app.command("bars")
    def bars(
        symbols: Symbols,
        start: Start = None,
        end: End = None,
        adjust: Annotated[
            str, typer.Option(metavar="[none|splits|all|provider]", help="Price adjustment.")
        ] = "none",
        interval: Annotated[
            str, typer.Option(metavar="[1d|1w|1mo|1q|1y]", help="Bar length.")
        ] = "1d",
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                metavar="[table|csv|json|parquet]",
                help="Output (default: from the -o extension, else table).",
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option(
                "-o",
                "--output",
                metavar="FILE",
                help="Write to FILE (.csv, .json, .parquet, .txt: its format; "
                "a contradicting --format is an error).",
            ),
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Daily (or weekly, monthly …) bars of SYMBOLS, adjusted as asked.

        Any case is accepted for --adjust, --interval and --format. No bars in the range
        is not an error: exit 0, the data empty, and one note on stderr saying why (e.g.
        the range starts after the last stored bar). --from after --to is an error (exit 2).
        """
        from data_nexus.query.bars import get_bars  # noqa: PLC0415 - lazy: start-up time

        fmt = output_format(fmt, output)
        frame = get_bars(symbols, start, end, adjust, interval, url=_url(database_url))
        from data_nexus.query.arguments import parse_range  # noqa: PLC0415 - checked above

        first, last = parse_range(start, end)
        envelope: dict[str, object] = {str(k): v for k, v in frame.attrs.items()}
        envelope.update({"from": first and first.isoformat(), "to": last and last.isoformat()})
        if fmt != "parquet":
            frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
            if frame.attrs.get("adjust") != "none":
                frame = significant(frame, ADJUSTED_COLUMNS)
        if len(frame) == 0:
            sys.stderr.write(f"note: {_why_empty(frame.attrs.get('cutoff', ''), start)}\n")
            if fmt == "table":
                return
        emit(frame, fmt, output, envelope=envelope)

    @app.command("actions")
    def actions(
        symbols: Symbols,
        start: Annotated[
            str | None, typer.Option("--from", metavar="DATE", help="First ex-date (YYYY-MM-DD).")
        ] = None,
        end: Annotated[
            str | None, typer.Option("--to", metavar="DATE", help="Last ex-date (YYYY-MM-DD).")
        ] = None,
        fmt: Annotated[
            str, typer.Option("--format", metavar="[table|csv|json]", help="Output.")
        ] = "table",
        database_url: DatabaseUrl = None,
    ) -> None:
        """Splits and dividends of SYMBOLS (an unknown symbol is an error, exit 2, as for
        bars)."""
        from data_nexus.query.status import get_actions  # noqa: PLC0415 - lazy: start-up time

        fmt = check_format(fmt, FORMATS[:3])
        frame = get_actions(symbols, start, end, url=_url(database_url))
        frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
        if fmt == "table":
            frame = frame.dropna(axis=1, how="all")
        emit(frame, fmt, None)

    @app.command("status")
    def status(
        stale: Annotated[bool, typer.Option("--stale", help="Only stale assets.")] = False,
        failing: Annotated[bool, typer.Option("--failing", help="Only failing assets.")] = False,
        paused: Annotated[bool, typer.Option("--paused", help="Only paused assets.")] = False,
        as_json: JsonFlag = False,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Per asset: state (failing and stale first, with why and the next attempt), coverage,
        rows, how far back its history was asked (history_from; 'all': the whole history),
        last sync (UTC, to the second) and open findings. --json has every value whole."""
        from data_nexus.query.status import get_status  # noqa: PLC0415 - lazy: start-up time

        frame = get_status(dt.datetime.now(dt.UTC), url=_url(database_url))
        wanted = [s for s, on in (("stale", stale), ("failing", failing), ("paused", paused)) if on]
        if wanted:
            frame = frame[frame["state"].isin(wanted)]
        if as_json:
            emit(frame, "json", None)
            return
        shown = frame.drop(columns=["paused"]).astype(object)
        shown["why"] = [_clip(why) for why in shown["why"]]
        shown["history_from"] = [
            "all" if day == dt.date.min else day for day in shown["history_from"]
        ]
        shown = _utc_seconds(shown, ("last_synced", "next_attempt_at"))
        # An unset value (NaT, NaN, None) is '-' in the table; JSON above keeps null.
        emit(shown.where(shown.notna(), "-"), "table", None)
        if len(shown):
            sys.stdout.write(f"(times in UTC; why: first {WHY_WIDTH} characters, --json has all)\n")

    @app.command("runs")
    def runs(
        last: Annotated[int, typer.Option("--last", min=1, help="Show the last N runs.")] = 10,
        as_json: JsonFlag = False,
        database_url: DatabaseUrl = None,
    ) -> None:
        """The history of sync runs, newest first."""
        from data_nexus.query.status import get_runs  # noqa: PLC0415 - lazy: start-up time

        frame = get_runs(last, url=_url(database_url))
        if as_json:
            emit(frame, "json", None)
            return
        columns = ["id", "started_at", "status", "assets_synced", "assets_failed", "rows_written"]
        shown = frame[[*columns, "calls_spent", "message"]].astype(object)
        shown["message"] = [_clip(message) for message in shown["message"]]
        shown = _utc_seconds(shown, ("started_at",))
        emit(shown.where(shown.notna(), ""), "table", None)
        if len(shown):
            sys.stdout.write("(times in UTC)\n")
