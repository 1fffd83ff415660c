"""``datanexus fake-eodhd``: run the EODHD-compatible emulator in the foreground."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from data_nexus.cli.errors import ExitCode
from data_nexus.errors import UsageError

if TYPE_CHECKING:
    from data_nexus.emulator import EmulatorServer

# The emulator (and numpy) load only when this command runs; its help needs these facts
# before that, so they are repeated here and a test keeps them equal to the emulator's.
#: The exchanges the emulator serves (``data_nexus.emulator.EXCHANGES``).
EXCHANGE_CODES = ("US", "LSE", "XETRA", "TO", "FOREX", "CC", "COMM")
#: The emulator's default token (``data_nexus.emulator.DEFAULT_TOKEN``).
DEFAULT_TOKEN = "test-token"  # noqa: S105 - a documented test key, not a secret
#: The kinds of dirty data it can serve (``data_nexus.emulator.dirt.DIRT_KINDS``).
DIRT_KINDS = (
    "null_prices",
    "bad_actions",
    "negative_prices",
    "tiny_prices",
    "future_bars",
    "retracted_split",
    "plan_limited",
    "reused_ticker",
    "symbol_spelling",
    "off_session_bar",
)

_KNOWN = ", ".join(EXCHANGE_CODES)
_DIRT = ", ".join(DIRT_KINDS)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"invalid {option} {text!r}: expected a date like 2024-06-28") from None


def _announce(server: EmulatorServer) -> None:
    config, market = server.config, server.market
    typer.echo(
        f"fake-eodhd: {config.symbols} symbols per exchange on {', '.join(config.exchanges)}, "
        f"seed {config.seed}, history {config.start} to {market.today}"
    )
    typer.echo(f"base URL: {server.base_url}")
    typer.echo(f"export EODHD_BASE_URL={server.base_url} EODHD_API_TOKEN={server.token}")
    if config.dirty:
        typer.echo(f"dirt: {', '.join(config.dirty)}; injected: {server.url}/_admin/truth")
    typer.echo(f"admin: {server.url}/_admin/stats   (Ctrl-C to stop)")
    sys.stdout.flush()  # scripts wait for these lines on a pipe


def register(app: typer.Typer) -> None:
    """Add the ``fake-eodhd`` command to ``app``."""

    @app.command("fake-eodhd")
    def fake_eodhd(
        *,
        seed: Annotated[int, typer.Option(help="Seed of the synthetic market.")] = 42,
        symbols: Annotated[
            int, typer.Option(help="Active symbols per exchange (plus ~5% delisted ones).")
        ] = 20,
        exchanges: Annotated[
            str, typer.Option(metavar="CODES", help=f"Comma-separated exchange codes ({_KNOWN}).")
        ] = "US",
        start: Annotated[
            str, typer.Option(metavar="DATE", help="First day of history, YYYY-MM-DD.")
        ] = "2000-01-03",
        today: Annotated[
            str | None,
            typer.Option(
                metavar="DATE",
                help="The emulated today, YYYY-MM-DD (default: the UTC date now).",
                show_default=False,
            ),
        ] = None,
        host: Annotated[
            str, typer.Option(metavar="ADDRESS", help="Address to listen on.")
        ] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(metavar="PORT", help="Port to listen on (0 picks a free one).")
        ] = 0,
        token: Annotated[
            str,
            typer.Option(
                metavar="TOKEN", help="API token to accept (demo is always accepted, restricted)."
            ),
        ] = DEFAULT_TOKEN,
        no_bulk: Annotated[
            bool,
            typer.Option("--no-bulk", help="Refuse the bulk endpoint, as plans without it do."),
        ] = False,
        bulk_status: Annotated[
            int,
            typer.Option(metavar="STATUS", help="Status of the refused bulk endpoint: 403 or 404."),
        ] = 403,
        latency_ms: Annotated[
            float,
            typer.Option(metavar="MS", help="Delay added to every API response, in milliseconds."),
        ] = 0.0,
        rate_limit: Annotated[
            int | None,
            typer.Option(
                help="Requests allowed per --rate-window; over it: 429 + Retry-After.",
                show_default="unlimited",
            ),
        ] = None,
        rate_window: Annotated[
            float,
            typer.Option(metavar="SECONDS", help="Length of the rate-limit window, in seconds."),
        ] = 60.0,
        no_retry_after: Annotated[
            bool,
            typer.Option("--no-retry-after", help="Send 429 without a Retry-After header."),
        ] = False,
        daily_limit: Annotated[
            int | None,
            typer.Option(help="API calls allowed per day; over it: 402.", show_default="unlimited"),
        ] = None,
        fail_rate: Annotated[
            float,
            typer.Option(
                metavar="FRACTION", help="Fraction of requests answered 500/502/503 (0 to 1)."
            ),
        ] = 0.0,
        malformed_rate: Annotated[
            float,
            typer.Option(
                metavar="FRACTION", help="Fraction of JSON bodies truncated or garbled (0 to 1)."
            ),
        ] = 0.0,
        dirty: Annotated[
            str | None,
            typer.Option(
                metavar="KINDS",
                help=f"Serve real-world bad data: comma-separated kinds or 'all' ({_DIRT}).",
                show_default=False,
            ),
        ] = None,
        warm: Annotated[
            bool,
            typer.Option(
                "--warm",
                help="Render every symbol's history before listening and keep it all, as a "
                "real API serves stored data (more memory, no CPU per first request).",
            ),
        ] = False,
    ) -> None:
        """Run an EODHD-compatible HTTP server with deterministic synthetic data.

        It serves /api/eod, /splits, /div, /eod-bulk-last-day, /exchange-symbol-list,
        /exchanges-list and /user like the real API (formats, status codes, call costs),
        for tests, benchmarks and offline demos. Point Data Nexus at it with the printed
        export line. /_admin/stats counts requests; Ctrl-C (or SIGTERM) stops it (exit 130).
        """
        from data_nexus.emulator import EmulatorConfig  # noqa: PLC0415 - lazy: start-up time
        from data_nexus.emulator.server import serve  # noqa: PLC0415

        config = EmulatorConfig(
            seed=seed,
            exchanges=tuple(e for e in exchanges.split(",") if e.strip()),
            symbols=symbols,
            start=_date(start, "--start") or dt.date(2000, 1, 3),
            today=_date(today, "--today"),
            host=host,
            port=port,
            token=token,
            bulk_enabled=not no_bulk,
            bulk_status=bulk_status,
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            rate_window=rate_window,
            retry_after=not no_retry_after,
            daily_limit=daily_limit,
            fail_rate=fail_rate,
            malformed_rate=malformed_rate,
            dirty=tuple((dirty or "").split(",")),
            warm=warm,
        )
        if config.today is None and config.start > config.resolved_today():
            # an empty history: every symbol would answer 404 (with --today, the config
            # itself refuses a start after it)
            raise UsageError(
                f"invalid --start {config.start}: after today ({config.resolved_today()}); "
                "give an earlier date (or a --today after it)"
            )
        previous = {}
        received: list[int] = []

        def interrupt(signum: int, frame: FrameType | None) -> None:
            received.append(signum)
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            # Ctrl-C and SIGTERM both stop the server cleanly (even where SIGINT was ignored).
            previous = {sig: signal.signal(sig, interrupt) for sig in _STOP_SIGNALS}
        try:
            serve(config, on_ready=_announce)
        except KeyboardInterrupt:  # before the server was up (serve handles it after)
            received.append(signal.SIGINT)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        typer.echo("fake-eodhd: stopped")
        # stopped by a signal, like every command: 130 (documented in ExitCode)
        raise typer.Exit(ExitCode.INTERRUPTED if received else ExitCode.OK)
