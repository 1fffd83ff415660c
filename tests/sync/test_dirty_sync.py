"""Issue 9, kinds 5–8 on the sync side: the real client against the emulator's dirt.

Each kind's example from the issue, and at least one more input of each, asserting the
stored values and the findings recorded in the asset's transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets, list_assets
from data_nexus.cli.errors import exit_code_of
from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS
from data_nexus.records import Bar, Dividend
from data_nexus.storage.findings import StoredFinding, list_findings
from data_nexus.storage.store import AssetUpdate, Store
from data_nexus.sync.events import AssetSynced, Notice, SyncEvent
from data_nexus.sync.plan import BulkMode, FetchMode
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, mismatches, settings_for, symbols_of

TODAY = dt.date(2026, 11, 20)  # a Friday: advancing 3 days makes Monday 2026-11-23 today
MONDAY = dt.date(2026, 11, 23)
START = dt.date(2024, 6, 3)
AGAIN = SyncOptions(max_age=dt.timedelta(0))  # every asset is due again

Start = Callable[..., EmulatorServer]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def findings_of(url: str, symbol: str, *, closed: bool = False) -> list[StoredFinding]:
    with Store.open(url) as store, store.connection() as conn:
        return list_findings(conn, [symbol], include_closed=closed)


def inject(emu: EmulatorServer, kind: str, *, where: Callable[[str], bool] = lambda s: True) -> str:
    """Put ``kind`` on the first symbol that can carry it (and satisfies ``where``)."""
    for symbol in symbols_of(emu):
        if emu.service.dirt.kind_of(symbol) is None and where(symbol):
            try:
                emu.add_dirt(symbol, kind)
            except ValueError:
                continue
            return symbol
    raise AssertionError(f"no symbol can carry {kind}")


def bar_on(url: str, symbol: str, day: dt.date) -> Bar:
    with Store.open(url) as store:
        [bar] = store.read_bars([symbol], day, day)
    return bar


def lease_of(url: str, symbol: str) -> tuple[str | None, str | None]:
    with Store.open(url) as store, store.connection() as conn:
        row = conn.execute(
            sa.select(ASSETS.c.lease_owner, ASSETS.c.last_error).where(ASSETS.c.symbol == symbol)
        ).one()
    return row[0], row[1]


# --- kind 5: bars after today, and any unexpected error ------------------------------------


def test_future_bars_are_skipped_with_findings_and_later_runs_work(
    url: str, start_emulator: Start
) -> None:
    """The issue's example: rows dated after the exchange's today are not stored; the next
    runs (which died with "start … is after end …") sync normally."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    settings = settings_for(url, emu)
    symbols = symbols_of(emu)
    target = inject(emu, "future_bars")
    future = sorted(i.date for i in emu.truth() if i.date is not None)
    assert future and all(day > TODAY for day in future)
    add_assets(settings, symbols)

    first = run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    assert (first.synced, first.failed, exit_code_of(first)) == (6, {}, 0)
    assert first.findings == 2
    info = {a.symbol: a for a in list_assets(settings)}
    assert info[target].last_date == emu.market.bars(target)[-1].date <= TODAY
    found = findings_of(url, target)
    assert [(f.date, f.kind) for f in found] == [(day, "future_bar") for day in future]
    assert mismatches(url, emu, symbols) == []

    again = run_sync(settings, AGAIN, clock=clock_at(TODAY))
    assert (again.synced, again.failed, again.rows_written) == (6, {}, 0)
    emu.advance(3)
    later = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (later.synced, later.failed, exit_code_of(later)) == (6, {}, 0)
    assert mismatches(url, emu, symbols) == []


def test_a_future_bar_stored_by_an_older_version_is_removed(
    sqlite_url: str, start_emulator: Start
) -> None:
    """A database written before the fix holds a bar after today (``last_date`` in the
    future): the sync plans its window up to today, and the bar goes."""
    emu = start_emulator(seed=3, symbols=3, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbol = symbols_of(emu)[0]
    add_assets(settings, [symbol])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    last = emu.market.bars(symbol)[-1]
    stray = Bar(symbol, dt.date(2026, 12, 31), None, None, None, last.close, last.close, 1)
    with Store.open(sqlite_url) as store:  # as the old writer did: no check of today
        store.write_asset(AssetUpdate(symbol, [stray]))
    assert {a.symbol: a for a in list_assets(settings)}[symbol].last_date == stray.date

    summary = run_sync(settings, AGAIN, clock=clock_at(TODAY))
    assert (summary.synced, summary.failed, summary.rows_deleted) == (1, {}, 1)
    assert {a.symbol: a for a in list_assets(settings)}[symbol].last_date == last.date
    assert mismatches(sqlite_url, emu, [symbol]) == []


class Exploding(httpx.AsyncBaseTransport):
    """The real transport, except that requests for ``symbol`` raise an unforeseen error
    whose text carries the request URL (and so the token)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.symbol in request.url.path:
            raise RuntimeError(f"unforeseen trouble with {request.url}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_unexpected_error_fails_one_asset_never_the_run(
    sqlite_url: str, start_emulator: Start
) -> None:
    """Whatever the cause, one asset fails (redacted error kept, backoff, lease released)
    and the others sync."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbols = symbols_of(emu)
    broken = symbols[2]
    add_assets(settings, symbols)

    summary = run_sync(
        settings, SyncOptions(concurrency=2), clock=clock_at(TODAY), transport=Exploding(broken)
    )
    assert (summary.synced, list(summary.failed), exit_code_of(summary)) == (5, [broken], 1)
    assert summary.status == "partial"
    assert "RuntimeError: unforeseen trouble" in summary.failed[broken]
    assert emu.token not in summary.failed[broken]
    owner, error = lease_of(sqlite_url, broken)
    assert owner is None and error is not None
    assert "RuntimeError" in error and emu.token not in error
    info = {a.symbol: a for a in list_assets(settings)}[broken]
    assert info.fail_count == 1 and info.last_date is None
    assert info.next_attempt_at == clock_at(TODAY)() + dt.timedelta(minutes=15)
    assert mismatches(sqlite_url, emu, [s for s in symbols if s != broken]) == []

    retry = run_sync(settings, SyncOptions(symbols=(broken,)), clock=clock_at(TODAY))
    assert (retry.synced, retry.failed) == (1, {})
    assert mismatches(sqlite_url, emu, symbols) == []


def test_an_unexpected_error_in_a_bulk_request_falls_back_to_per_symbol(
    sqlite_url: str, start_emulator: Start
) -> None:
    """The bulk request of an exchange is no asset: an unforeseen error there is told as a
    notice (redacted) and every asset syncs symbol by symbol."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbols = symbols_of(emu)
    add_assets(settings, symbols)
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    monday = emu.advance(3)
    events: list[SyncEvent] = []
    summary = run_sync(
        settings,
        SyncOptions(bulk=BulkMode.ALWAYS),
        clock=clock_at(monday),
        transport=Exploding("eod-bulk-last-day"),
        on_event=events.append,
    )
    assert (summary.synced, summary.failed, exit_code_of(summary)) == (6, {}, 0)
    assert summary.bulk_used == []
    [notice] = [e for e in events if isinstance(e, Notice) and "bulk US failed" in e.text]
    assert "RuntimeError: unforeseen trouble" in notice.text and emu.token not in notice.text
    assert mismatches(sqlite_url, emu, symbols) == []


# --- kind 6: a retracted action ------------------------------------------------------------


def test_a_retracted_split_is_removed_even_when_the_list_is_empty(
    url: str, start_emulator: Start
) -> None:
    """The issue's example: the only split of a symbol is withdrawn; the fetched (empty)
    list is the truth, so the split goes and the adjusted history is refreshed."""
    emu = start_emulator(seed=3, symbols=10, start=START, today=TODAY)
    settings = settings_for(url, emu, actions_every_days=1)
    target = inject(emu, "retracted_split", where=lambda s: not emu.market.splits(s))
    [served] = emu.truth()
    add_assets(settings, [target])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    with Store.open(url) as store:
        [split] = [a for a in store.read_actions([target]) if a.action_type == "split"]
    assert split.date == served.date
    before = bar_on(url, target, emu.market.bars(target)[0].date)

    emu.advance(3)
    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (summary.synced, exit_code_of(summary), summary.findings) == (1, 0, 1)
    assert summary.full_refreshes == 1 and summary.actions_changed >= 1
    with Store.open(url) as store:
        assert [a for a in store.read_actions([target]) if a.action_type == "split"] == []
    assert mismatches(url, emu, [target]) == []  # adjusted closes and volumes too
    after = bar_on(url, target, before.date)
    assert after.volume is not None and before.volume == 2 * after.volume
    [finding] = findings_of(url, target)
    assert (finding.date, finding.kind) == (served.date, "action_retracted")
    assert "split 2/1" in finding.detail


def test_a_retracted_dividend_among_others_is_removed(
    sqlite_url: str, start_emulator: Start
) -> None:
    """Another input: a dividend stored earlier that the provider's list no longer has
    (the others stay) is removed with a finding, and the adjusted closes are the provider's."""
    emu = start_emulator(seed=3, symbols=10, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu, actions_every_days=1)
    symbol = next(s for s in symbols_of(emu) if len(emu.market.dividends(s)) >= 2)
    add_assets(settings, [symbol])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    bogus = Dividend(symbol, emu.market.bars(symbol)[-40].date, Decimal("0.25"), Decimal("0.25"))
    with Store.open(sqlite_url) as store:
        store.write_asset(AssetUpdate(symbol, actions=[bogus]))

    emu.advance(3)
    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (summary.synced, exit_code_of(summary)) == (1, 0)
    assert mismatches(sqlite_url, emu, [symbol]) == []
    [finding] = findings_of(sqlite_url, symbol)
    assert (finding.date, finding.kind) == (bogus.date, "action_retracted")


# --- kind 7: an answer that covers less history than stored --------------------------------


def plan_limited_setup(url: str, emu: EmulatorServer) -> tuple[str, dict[dt.date, Bar]]:
    settings = settings_for(url, emu)
    target = inject(emu, "plan_limited")
    add_assets(settings, [target])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    with Store.open(url) as store:
        old = {b.date: b for b in store.read_bars([target])}
    return target, old


def test_a_plan_limited_answer_after_a_split_rescales_the_older_rows(
    url: str, start_emulator: Start
) -> None:
    """The issue's example: a 4:1 split on 2026-11-23 and a one-year answer with the plan's
    warning; 2025-11-03 (outside the answer) gets a quarter of its adjusted close and four
    times its volume, exactly the provider's back-adjustment, and a finding."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    target, old = plan_limited_setup(url, emu)
    assert emu.advance(3) == MONDAY
    [item] = emu.truth()
    assert (item.date, item.finding) == (MONDAY, True)
    settings = settings_for(url, emu)

    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (summary.synced, exit_code_of(summary), summary.findings) == (1, 0, 1)
    right = {b.date: b for b in emu.market.bars(target)}
    day = dt.date(2025, 11, 3)
    stored = bar_on(url, target, day)
    assert stored == right[day]
    assert old[day].adjusted_close is not None and stored.adjusted_close is not None
    assert stored.adjusted_close == pytest.approx(old[day].adjusted_close / 4, abs=Decimal("1e-4"))
    assert old[day].volume is not None and stored.volume == old[day].volume * 4
    assert stored.close == old[day].close  # raw prices are as traded
    assert mismatches(url, emu, [target]) == []  # every row, inside and outside
    [finding] = findings_of(url, target)
    assert (finding.date, finding.kind) == (MONDAY, "history_rescaled")
    assert "4/1" in finding.detail and "provider's back-adjustment" in finding.detail

    again = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (again.rows_written, again.rows_deleted, again.actions_changed) == (0, 0, 0)
    assert findings_of(url, target) == [finding]  # recorded once, still open


def test_a_plan_limited_answer_after_a_split_and_a_dividend_on_one_day(
    sqlite_url: str, start_emulator: Start
) -> None:
    """Another input: a dividend on the split's ex-date (declared per new share, so the
    previous close counts in post-split shares); the older rows follow the provider exactly."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    target, old = plan_limited_setup(sqlite_url, emu)
    emu.advance(3, dividends={target: "0.4"})
    assert {(a.date, a.action_type) for a in emu.market.splits(target)} >= {(MONDAY, "split")}
    settings = settings_for(sqlite_url, emu)
    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (summary.synced, exit_code_of(summary)) == (1, 0)
    assert mismatches(sqlite_url, emu, [target]) == []
    first = emu.market.bars(target)[0]
    assert first.date < MONDAY - dt.timedelta(days=365)  # outside the one-year answer
    volume = old[first.date].volume
    assert volume is not None and bar_on(sqlite_url, target, first.date).volume == volume * 4
    [finding] = findings_of(sqlite_url, target)
    assert (finding.date, finding.kind) == (MONDAY, "history_rescaled")
    assert "dividends on 2026-11-23" in finding.detail


class OtherDigits(httpx.AsyncBaseTransport):
    """The real transport, but ``/eod`` answers of ``symbol`` carry one more digit on every
    adjusted close: a provider whose back-adjustment we cannot reproduce."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith(f"/eod/{self.symbol}"):
            return response
        body = (await response.aread()).decode()
        body = re.sub(r'("adjusted_close":-?[0-9]+\.[0-9]+)', r"\g<1>7", body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, text=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_older_rows_that_cannot_be_rescaled_are_flagged_stale(
    sqlite_url: str, start_emulator: Start
) -> None:
    """Another input: a split and a dividend, and adjusted closes the provider's documented
    back-adjustment does not reproduce: the older rows keep their values (nothing is
    guessed) and a ``stale_history`` finding says so."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    target, old = plan_limited_setup(sqlite_url, emu)
    emu.advance(3, dividends={target: "0.4"})
    settings = settings_for(sqlite_url, emu)
    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY), transport=OtherDigits(target))
    assert (summary.synced, exit_code_of(summary), summary.findings) == (1, 0, 1)
    with Store.open(sqlite_url) as store:
        stored = store.read_bars([target])
    first = min(b.date for b in emu.market.bars(target) if b.date > MONDAY - dt.timedelta(365))
    assert [b for b in stored if b.date < first] == [b for d, b in sorted(old.items()) if d < first]
    [finding] = findings_of(sqlite_url, target)
    assert (finding.date, finding.kind) == (first, "stale_history")
    assert "keep the old adjustment" in finding.detail


# --- kind 8: a ticker reused by another company ---------------------------------------------


def test_a_reused_ticker_replaces_the_whole_history(url: str, start_emulator: Start) -> None:
    """The issue's example: every re-fetched session's raw close is ~15× the stored one and
    no split explains it: the whole history is fetched again and replaces the old company's
    (it said "3 revised" before), with a finding; exit 0."""
    emu = start_emulator(seed=3, symbols=6, start=START, today=TODAY)
    settings = settings_for(url, emu)
    target = inject(emu, "reused_ticker")
    add_assets(settings, symbols_of(emu))
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    emu.advance(3)
    [item] = emu.truth()
    assert item.finding

    events: list[SyncEvent] = []
    summary = run_sync(settings, AGAIN, clock=clock_at(MONDAY), on_event=events.append)
    assert (summary.synced, exit_code_of(summary), summary.findings) == (6, 0, 1)
    assert summary.as_dict()["findings"] == 1  # sync --json
    assert summary.full_refreshes == 1
    [synced] = [e for e in events if isinstance(e, AssetSynced) and e.symbol == target]
    assert (synced.mode, synced.findings) == (FetchMode.HISTORY_REPLACED, 1)
    assert summary.rows_revised >= len(emu.market.bars(target)) - 5
    assert mismatches(url, emu, symbols_of(emu)) == []
    [finding] = findings_of(url, target)
    assert (finding.date, finding.kind) == (item.date, "history_replaced")

    again = run_sync(settings, AGAIN, clock=clock_at(MONDAY))
    assert (again.rows_written, again.rows_deleted, again.findings) == (0, 0, 0)


@pytest.mark.parametrize("options", [AGAIN, SyncOptions(full=True)], ids=["due", "full"])
def test_a_reused_ticker_drops_the_old_companys_older_rows(
    sqlite_url: str, start_emulator: Start, options: SyncOptions
) -> None:
    """Another input: the old company's history is longer than the new one's; after the
    replacement (found by a daily run or by ``--full``) nothing of it is left."""
    emu = start_emulator(seed=3, symbols=3, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbol = symbols_of(emu)[0]
    add_assets(settings, [symbol])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    clean = emu.market.bars(symbol)
    older = [
        Bar(symbol, day, None, None, None, Decimal("3.21"), Decimal("3.21"), 1000)
        for day in (dt.date(2019, 3, 4), dt.date(2019, 3, 5), dt.date(2019, 3, 6))
    ]
    old_company = [
        Bar(symbol, b.date, None, None, None, b.close / 20, b.close / 20, 7) for b in clean
    ]
    with Store.open(sqlite_url) as store:
        store.write_asset(AssetUpdate(symbol, [*older, *old_company]))

    summary = run_sync(settings, options, clock=clock_at(TODAY))
    assert (summary.synced, exit_code_of(summary), summary.rows_deleted) == (1, 0, 3)
    assert mismatches(sqlite_url, emu, [symbol]) == []
    [finding] = findings_of(sqlite_url, symbol)
    assert (finding.date, finding.kind) == (older[0].date, "history_replaced")


def test_a_corrected_print_is_a_revision_not_a_replacement(
    sqlite_url: str, start_emulator: Start
) -> None:
    """The counter-example: one stored session's close differs (a bad print the provider
    corrected); it is overwritten and nothing else is refetched or found."""
    emu = start_emulator(seed=3, symbols=3, start=START, today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbol = symbols_of(emu)[0]
    add_assets(settings, [symbol])
    assert exit_code_of(run_sync(settings, SyncOptions(), clock=clock_at(TODAY))) == 0
    last = emu.market.bars(symbol)[-1]
    wrong = Bar(symbol, last.date, last.open, last.high, last.low, last.close * 15, None, 1)
    with Store.open(sqlite_url) as store:
        store.write_asset(AssetUpdate(symbol, [wrong]))
    summary = run_sync(settings, AGAIN, clock=clock_at(TODAY))
    assert (summary.rows_revised, summary.full_refreshes, summary.findings) == (1, 0, 0)
    assert mismatches(sqlite_url, emu, [symbol]) == []
