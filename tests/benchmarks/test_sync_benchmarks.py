"""Smoke runs of the sync benchmarks (CI runs these; they assert shapes and counts, never
timings: a loaded machine would break any threshold)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import sync_cpu, sync_throughput


def test_sync_cpu_quick_run_on_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "sync_cpu.json"
    assert sync_cpu.main(["--quick", "--backends", "sqlite", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["sqlite"]
    ours, raw = figures["ours"], figures["raw"]
    assert ours["bars"] == raw["bars"] > 1000  # 4 symbols x 2 years, the same rows both sides
    assert ours["requests"] >= 3 * 4  # bars, splits and dividends per symbol
    assert ours["cpu_s"] > 0 and raw["cpu_s"] > 0
    assert figures["ratio"] == round(ours["cpu_us_per_bar"] / raw["cpu_us_per_bar"], 3)
    assert figures["raw_other"]["text"]["bars"] == raw["bars"]


def test_sync_throughput_full_depth_smoke_run(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    argv = ["--full-depth", "--symbols", "3", "--rate", "6000", "--latency-ms", "0"]
    assert sync_throughput.main([*argv, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["mode"] == "full depth"
    assert figures["synced"] == 3 and figures["failed"] == 0
    assert figures["requests"] == 3 * 3  # bars, splits and dividends per symbol
    assert figures["bars"] > 3 * 5000  # histories from 2000: decades, not months
    assert figures["status_429"] == 0


def test_sync_throughput_full_depth_warm_smoke_run(tmp_path: Path) -> None:
    """``--warm``: the emulator child renders every history before it listens; the sync
    stores the same bars as with a cold one."""
    out = tmp_path / "warm.json"
    argv = ["--full-depth", "--warm", "--symbols", "3", "--rate", "6000", "--latency-ms", "0"]
    assert sync_throughput.main([*argv, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["mode"] == "full depth, emulator warm"
    assert figures["synced"] == 3 and figures["failed"] == 0
    assert figures["bars"] > 3 * 5000 and figures["status_429"] == 0
