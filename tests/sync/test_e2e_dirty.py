"""Issue 9 end to end: 200 symbols with every kind of real-world dirt on (``dirty=all``).

The real client syncs from the emulator over a socket into SQLite and PostgreSQL. The run ends with exit 0
(no asset fails: each bad row or action is skipped with a finding), every clean bar is
stored exactly as the emulator's clean market has it, there is one open finding per
injected fault that calls for one (``/_admin/truth`` entries with ``finding: true``; those
with ``source: check`` found by ``run_checks``, the others recorded by the sync) and
none for legitimate data, and a second run changes nothing. Then the market advances, which
turns on the kinds that change over time (a retracted split, a plan-limited answer after a
real split, a reused ticker), and the same holds again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest

from data_nexus.assets import register_listing
from data_nexus.cli.errors import exit_code_of
from data_nexus.emulator import EmulatorServer
from data_nexus.emulator.dirt import Injected
from data_nexus.quality.run import run_checks
from data_nexus.records import Bar
from data_nexus.storage.findings import StoredFinding, list_findings
from data_nexus.storage.store import Store
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions, SyncSummary
from tests.sync.helpers import clock_at, mismatches, settings_for

TODAY = dt.date(2026, 11, 20)  # a Friday; three days on is Monday 2026-11-23
START = dt.date(2023, 6, 1)
EXCHANGES = ("US", "CC", "COMM")
AGAIN = SyncOptions(max_age=dt.timedelta(0))
#: Kinds whose dirt leaves the stored bars and actions equal to the clean market's (the
#: bad rows are skipped), in the phase they are in.
CLEAN_AFTER_SKIPPING = {"null_prices", "future_bars", "plan_limited", "symbol_spelling"}
#: Kinds whose dirt rewrote the served history until the market advances.
ONLY_BEFORE = {"retracted_split", "reused_ticker"}


def open_findings(url: str) -> list[StoredFinding]:
    with Store.open(url) as store, store.connection() as conn:
        return list_findings(conn)


def expected(truth: list[Injected]) -> Counter[tuple[str, dt.date | None]]:
    """The findings the sync records (``off_session_bar`` is for ``check`` to find)."""
    return Counter((i.symbol, i.date) for i in truth if i.finding and i.source == "recorded")


def checked_off_session(url: str, now: dt.datetime) -> Counter[tuple[str, dt.date | None]]:
    report = run_checks(url, now=now)
    return Counter((f.symbol, f.date) for f in report.findings if f.kind == "off_session_bar")


def expected_off_session(truth: list[Injected]) -> Counter[tuple[str, dt.date | None]]:
    return Counter((i.symbol, i.date) for i in truth if i.finding and i.source == "check")


def found(url: str) -> Counter[tuple[str, dt.date | None]]:
    return Counter((f.symbol, f.date) for f in open_findings(url))


def raw(bar: Bar) -> tuple[object, ...]:
    return (bar.date, bar.open, bar.high, bar.low, bar.close)


def bar_problems(url: str, emu: EmulatorServer, symbols: list[str]) -> list[str]:
    """Symbols whose stored bars differ from the clean market where the dirt left them clean."""
    kinds = {s: emu.service.dirt.kind_of(s) for s in symbols}
    after = {i.symbol for i in emu.truth() if i.phase == "after"}
    exact = [
        s
        for s, kind in kinds.items()
        if kind is None or kind in CLEAN_AFTER_SKIPPING or (kind in ONLY_BEFORE and s in after)
    ]
    problems = [f"{s}: not exact" for s in mismatches(url, emu, exact)]
    truth = {(i.symbol, i.variant): i for i in emu.truth()}
    with Store.open(url) as store:
        for symbol, kind in kinds.items():
            if symbol in exact:
                continue
            stored = store.read_bars([symbol])
            clean = emu.market.bars(symbol)
            if kind == "negative_prices":  # one bar rewritten, stored as sent
                day = truth[(symbol, "negative_close")].date
                ok = [b for b in stored if b.date != day] == [b for b in clean if b.date != day]
                ok = ok and next(b for b in stored if b.date == day).close < 0
            elif kind == "tiny_prices":  # digits shifted, nothing rounded
                match = re.search(r"1e-(\d+)", truth[(symbol, "tiny")].detail)
                assert match is not None
                shift = -int(match.group(1))
                ok = [b.close for b in stored] == [b.close.scaleb(shift) for b in clean]
                ok = ok and min(b.close for b in stored) < Decimal("1e-8")
                ok = ok and stored[-1].volume == 2**63 - 1
            elif kind == "bad_actions":  # adjusted closes follow the special dividend too
                ok = [(*raw(b), b.volume) for b in stored] == [(*raw(b), b.volume) for b in clean]
            elif kind == "off_session_bar":  # the clean bars, and the extra ones as sent
                extra = {i.date for (sym, _), i in truth.items() if sym == symbol}
                ok = [b for b in stored if b.date not in extra] == clean
                ok = ok and {b.date for b in stored} == {b.date for b in clean} | extra
            else:  # retracted split or reused ticker, before the advance: as served
                ok = [b.date for b in stored] == [b.date for b in clean]
            if not ok:
                problems.append(f"{symbol} ({kind}): stored bars differ")
    return problems


def unchanged(summary: SyncSummary) -> tuple[int, int, int, int, dict[str, str]]:
    return (
        summary.rows_written,
        summary.rows_deleted,
        summary.actions_changed,
        summary.full_refreshes,
        summary.failed,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.mark.slow
def test_200_dirty_symbols_end_to_end(
    url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    emu = start_emulator(
        seed=9, exchanges=EXCHANGES, symbols=67, start=START, today=TODAY, dirty=("all",)
    )
    settings = settings_for(url, emu, actions_every_days=1)
    dirty = {i.symbol for i in emu.truth()}
    assert {emu.service.dirt.kind_of(s) for s in dirty} >= {
        "null_prices", "bad_actions", "negative_prices", "tiny_prices", "future_bars",
        "retracted_split", "plan_limited", "reused_ticker", "symbol_spelling",
        "off_session_bar",
    }  # fmt: skip
    listed = {ex: emu.market.symbols(ex) for ex in EXCHANGES}
    clean = [item.symbol for ex in EXCHANGES for item in listed[ex] if item.symbol not in dirty]
    chosen = sorted(dirty) + clean[: 200 - len(dirty)]
    for ex in EXCHANGES:  # registered as discovery would (with their types), canonical names
        register_listing(settings, ex, [i for i in listed[ex] if i.symbol in chosen])
    assert len(chosen) == 200

    first = run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    assert (first.synced, first.failed, exit_code_of(first), first.status) == (200, {}, 0, "ok")
    assert bar_problems(url, emu, chosen) == []
    assert found(url) == expected(emu.truth())
    assert first.findings == sum(expected(emu.truth()).values())
    off_session = expected_off_session(emu.truth())
    assert off_session and checked_off_session(url, clock_at(TODAY)()) == off_session
    before = open_findings(url)

    second = run_sync(settings, AGAIN, clock=clock_at(TODAY))
    assert second.synced == 200 and exit_code_of(second) == 0
    assert unchanged(second) == (0, 0, 0, 0, {})
    assert [(f.id, f.symbol, f.date, f.kind, f.detail, f.first_seen) for f in before] == [
        (f.id, f.symbol, f.date, f.kind, f.detail, f.first_seen) for f in open_findings(url)
    ]  # the same findings, seen again (last_seen moves), none new, none closed

    monday = emu.advance(3)
    phases = {i.kind: i for i in emu.truth() if i.phase == "after"}
    assert set(phases) == {"retracted_split", "plan_limited", "reused_ticker"}
    assert all(i.finding for i in phases.values())
    third = run_sync(settings, AGAIN, clock=clock_at(monday))
    assert (third.synced, third.failed, exit_code_of(third)) == (200, {}, 0)
    assert bar_problems(url, emu, chosen) == []
    assert found(url) == expected(emu.truth())
    assert checked_off_session(url, clock_at(monday)()) == off_session
    kinds = {(f.symbol, f.kind) for f in open_findings(url)}
    assert {
        (phases["retracted_split"].symbol, "action_retracted"),
        (phases["plan_limited"].symbol, "history_rescaled"),
        (phases["reused_ticker"].symbol, "history_replaced"),
    } <= kinds
    after = open_findings(url)

    fourth = run_sync(settings, AGAIN, clock=clock_at(monday))
    assert unchanged(fourth) == (0, 0, 0, 0, {})
    assert [(f.id, f.date, f.kind) for f in open_findings(url)] == [
        (f.id, f.date, f.kind) for f in after
    ]
