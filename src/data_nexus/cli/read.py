"""``datanexus bars | actions | status | runs``: read the warehouse (read-only, never upgrades).

Each command calls one function of :mod:`data_nexus.query` and renders its DataFrame.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from data_nexus.cli.common import DatabaseUrl, JsonFlag, settings_for
from data_nexus.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

Symbols = Annotated[
    list[str], typer.Argument(metavar="SYMBOL", help="Symbols as CODE.EXCHANGE, e.g. AAPL.US.")
]
FORMATS = ("table", "csv", "json", "parquet")


def _url(database_url: str | None) -> str:
    return settings_for(database_url).database_url


def emit(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Write ``frame`` as a table, CSV, JSON records or Parquet, to ``output`` or stdout."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if output is None:
            raise UsageError("--format parquet needs -o FILE")
        frame.to_parquet(output, index=False)
        return
    if fmt == "table":
        text = frame.to_string(index=False) if len(frame) else "(no rows)"
        text += "\n"
    elif fmt == "csv":
        text = frame.to_csv(index=False, date_format="%Y-%m-%d")
    else:
        plain = frame.astype(object).where(frame.notna(), None)
        text = json.dumps(plain.to_dict(orient="records"), indent=2, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def register(app: typer.Typer) -> None:
    """Add the read commands to ``app``."""

    @app.command("bars")
    def bars(
        symbols: Symbols,
        start: Annotated[
            str | None, typer.Option("--from", help="First date (YYYY-MM-DD).")
        ] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
        adjust: Annotated[str, typer.Option(help="none, splits, all or provider.")] = "none",
        interval: Annotated[str, typer.Option(help="1d, 1w, 1mo, 1q or 1y.")] = "1d",
        fmt: Annotated[
            str, typer.Option("--format", help="table, csv, json or parquet.")
        ] = "table",
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="Write to FILE.")
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Daily (or weekly, monthly …) bars of SYMBOLS, adjusted as asked."""
        from data_nexus.query.bars import get_bars  # noqa: PLC0415 - lazy: start-up time

        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        frame = get_bars(symbols, start, end, adjust, interval, url=_url(database_url))
        if fmt != "parquet":
            frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
        emit(frame, fmt, output)

    @app.command("actions")
    def actions(
        symbols: Symbols,
        start: Annotated[
            str | None, typer.Option("--from", help="First ex-date (YYYY-MM-DD).")
        ] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last ex-date (YYYY-MM-DD).")] = None,
        fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
        database_url: DatabaseUrl = None,
    ) -> None:
        """Splits and dividends of SYMBOLS (an unknown symbol is an error, exit 2, as for
        bars)."""
        from data_nexus.query.status import get_actions  # noqa: PLC0415 - lazy: start-up time

        if fmt not in FORMATS[:3]:
            raise UsageError(f"unknown format {fmt!r}: use one of table, csv, json")
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
        rows, last sync and open findings."""
        from data_nexus.query.status import get_status  # noqa: PLC0415 - lazy: start-up time

        frame = get_status(dt.datetime.now(dt.UTC), url=_url(database_url))
        wanted = [s for s, on in (("stale", stale), ("failing", failing), ("paused", paused)) if on]
        if wanted:
            frame = frame[frame["state"].isin(wanted)]
        if as_json:
            emit(frame, "json", None)
            return
        shown = frame.drop(columns=["paused"])
        # An unset value (NaT, NaN, None) is '-' in the table; JSON above keeps null.
        emit(shown.astype(object).where(shown.notna(), "-"), "table", None)

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
        emit(frame[[*columns, "calls_spent", "message"]].fillna(""), "table", None)
