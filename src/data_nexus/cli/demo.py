"""``datanexus demo``: the offline tour against the built-in emulator."""

from __future__ import annotations

from typing import Annotated

import typer

from data_nexus.cli.common import console, counted
from data_nexus.cli.errors import ExitCode, exit_code_of

#: Where the demo puts its data by default (kept in step with ``data_nexus.demo``; a test
#: checks it, so the demo's heavy imports wait until the command runs).
DEMO_DATABASE_URL = "sqlite:///data_nexus_demo.db"


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""

    @app.command("demo")
    def demo(
        database_url: Annotated[
            str | None,
            typer.Option(
                "--database-url",
                "-d",
                metavar="URL",
                help=f"Where to put the demo's synthetic data (default {DEMO_DATABASE_URL}; "
                "never your DATANEXUS_DATABASE_URL).",
            ),
        ] = None,
        symbols: Annotated[int, typer.Option(help="Symbols in the synthetic US market.")] = 12,
        years: Annotated[int, typer.Option(help="Years of daily history per symbol.")] = 10,
    ) -> None:
        """Sync a synthetic market from the built-in EODHD emulator: no key, no network.

        Everything goes into a database of the demo's own, so synthetic prices never mix
        with real data. Run it twice to see an incremental sync with nothing to fetch.
        Ctrl-C (or SIGTERM) stops it (exit 130); what was synced stays, and the next run
        resumes.
        """
        from data_nexus.cli.render import SyncRenderer  # noqa: PLC0415 - lazy: start-up time
        from data_nexus.demo import check_demo_options, run_demo  # noqa: PLC0415
        from data_nexus.records import Split  # noqa: PLC0415
        from data_nexus.sync.status import RunStatus  # noqa: PLC0415

        check_demo_options(symbols, years)  # before the banner: an error is the only line
        out = console()
        out.print(
            "Data Nexus demo: offline, against the built-in EODHD emulator (synthetic prices)"
        )
        renderer = SyncRenderer()
        try:
            # handle_signals: Ctrl-C or SIGTERM during the sync stops it the way it stops
            # `datanexus sync`, and the run's row says so (KeyboardInterrupt: before or after)
            result = run_demo(
                database_url=database_url,
                symbols=symbols,
                years=years,
                on_event=renderer.handle,
                handle_signals=True,
            )
        except KeyboardInterrupt:
            result = None
        finally:
            renderer.close()
        if result is None or result.summary.status is RunStatus.INTERRUPTED:
            db = (database_url or DEMO_DATABASE_URL).removeprefix("sqlite:///")
            console(stderr=True).print(
                f"interrupted; the demo database {db} keeps the assets synced so far "
                "(each is whole or untouched): run datanexus demo again to finish",
                markup=False,
            )
            raise typer.Exit(ExitCode.INTERRUPTED)
        summary = result.summary
        out.print(
            f"synced {summary.synced} of {counted(len(result.symbols), 'asset')} in "
            f"{result.seconds:.1f}s: {counted(summary.rows_inserted, 'new bar')}, "
            f"{counted(summary.calls_spent, 'API call')} "
            f"({summary.skipped.get('fresh', 0)} already fresh)",
            markup=False,
        )
        out.print(
            f"database {result.database}: {counted(result.total_bars, 'bar')} and "
            f"{counted(result.total_actions, 'corporate action')} in all",
            markup=False,
        )
        if result.bars:
            symbol = result.bars[0].symbol
            out.print(f"\nlatest sessions of {symbol} (raw prices; adjusted close last):")
            out.print(
                f"{'date':<11}{'open':>11}{'high':>11}{'low':>11}{'close':>11}"
                f"{'volume':>13}{'adj close':>12}"
            )
            for bar in result.bars:
                out.print(
                    f"{bar.date!s:<11}{bar.open!s:>11}{bar.high!s:>11}{bar.low!s:>11}"
                    f"{bar.close!s:>11}{bar.volume!s:>13}{bar.adjusted_close!s:>12}",
                    markup=False,
                )
        for action in result.actions:
            if isinstance(action, Split):
                what = f"split {action.numerator.normalize()}:{action.denominator.normalize()}"
            else:
                what = f"dividend {action.value}"
            out.print(f"  {action.date} {what}", markup=False)
        if result.injected:
            kinds = sorted({i.kind for i in result.injected})
            out.print(
                f"\nthe emulator served real-world dirt ({', '.join(kinds)}) on "
                f"{counted(len({i.symbol for i in result.injected}), 'symbol')}: "
                f"{counted(result.findings, 'finding')} recorded, the rest stored exactly",
                markup=False,
            )
        db = result.database.removeprefix("sqlite:///")
        out.print(
            "\nnext:\n"
            f"  datanexus check --database-url {db}   # findings, gaps, steps, staleness\n"
            f"  datanexus assets list -d {db}   # coverage and sync state\n"
            f"  datanexus db info -d {db}       # backend, sizes, row counts\n"
            "  datanexus demo   # again: an incremental sync with nothing to fetch\n"
            "  export EODHD_API_TOKEN=your-key; datanexus sync AAPL.US MSFT.US   # real data\n"
            "  pip install -e '.[serve]'   # once: the optional web server (FastAPI, uvicorn)\n"
            f"  datanexus serve --database-url {db}   # browse it at http://127.0.0.1:8000/",
            markup=False,
        )
        raise typer.Exit(exit_code_of(summary))
