"""``datanexus check``: open findings and the checks of whole histories (never writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from data_nexus.cli.common import (
    DatabaseUrl,
    JsonFlag,
    console,
    counted,
    parse_duration,
    print_json,
    settings_for,
)
from data_nexus.clock import utcnow

if TYPE_CHECKING:
    from data_nexus.quality.run import CheckReport

# The checks (calendars, numpy) load only when the command runs: start-up stays light.

#: Lines shown per asset and kind in the readable report (``--json`` lists every finding).
SHOWN_PER_KIND = 10


def render(report: CheckReport, shown: int = SHOWN_PER_KIND) -> list[str]:
    """The readable report: one block per asset, its findings grouped by kind (at most
    ``shown`` lines per kind, then how many more)."""
    lines = []
    for symbol, found in report.by_asset().items():
        lines.append(f"{symbol}: {len(found)} open")
        kinds: dict[str, list[str]] = {}
        for f in found:
            when = "" if f.date is None else f"{f.date} "
            mark = "" if f.source == "check" else " [recorded]"
            kinds.setdefault(f.kind, []).append(f"{when}{f.detail}{mark}")
        for kind, details in kinds.items():
            lines.append(f"  {kind} ({len(details)})")
            lines.extend(f"    {detail}" for detail in details[:shown])
            if len(details) > shown:
                lines.append(f"    … {len(details) - shown} more (--json lists them all)")
    lines.extend(f"note: {note}" for note in report.notes)
    counts = ", ".join(f"{n} {kind}" for kind, n in report.by_kind().items())
    total = counted(len(report.findings), "open finding")
    summary = f"{total} in {counted(report.assets, 'asset')} checked"
    lines.append(f"{summary}: {counts}" if counts else summary)
    return lines


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""

    @app.command("check")
    def check(
        symbols: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="SYMBOL", help="Symbols as CODE.EXCHANGE (default: every registered asset)."
            ),
        ] = None,
        as_json: JsonFlag = False,
        strict: Annotated[
            bool, typer.Option("--strict", help="Exit 1 when any finding is open.")
        ] = False,
        stale_after: Annotated[
            str | None,
            typer.Option(
                metavar="DURATION",
                help="Call an asset stale when its last sync is older than this, e.g. 4d, 36h "
                "(default: $DATANEXUS_STALE_AFTER_DAYS, else 4d).",
                show_default=False,
            ),
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """List open findings and check stored histories: gaps against the exchange's
        sessions, bars on days it was closed, unexplained price steps, OHLC, zero closes,
        adjustment, stale assets.

        Reads only; exit 0, or 1 with --strict when anything is open.
        """
        age = parse_duration(stale_after, "--stale-after") if stale_after else None
        from data_nexus.quality.run import run_checks  # noqa: PLC0415

        report = run_checks(
            settings_for(database_url), symbols or None, now=utcnow(), stale_after=age
        )
        if as_json:
            print_json(report.as_dict())
        else:
            out = console()
            for line in render(report):
                out.print(line, markup=False)
        raise typer.Exit(1 if strict and not report.is_clean else 0)
