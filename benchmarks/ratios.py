"""The headline ratios (ours divided by the baseline) with their targets, and the tables.

Each ratio in the JSON says which way is better: for throughput and compression higher
is better, for times and memory lower is better. ``met`` is ``None`` where no target was
set (the SQLite and extra figures are informational).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.report import table


@dataclass(frozen=True, slots=True)
class Target:
    """A bound on a ratio: ``low <= value <= high`` (either side open)."""

    text: str
    low: float | None = None
    high: float | None = None

    def met(self, value: float) -> bool:
        """Whether ``value`` is within the bound."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


AT_LEAST_05 = Target(">= 0.5", low=0.5)
AT_LEAST_08 = Target(">= 0.8", low=0.8)
AT_LEAST_1 = Target(">= 1", low=1.0)
AT_LEAST_4 = Target(">= 4", low=4.0)
AT_LEAST_8 = Target(">= 8", low=8.0)
AT_MOST_15 = Target("<= 1.5", high=1.5)
AT_MOST_2 = Target("<= 2", high=2.0)
WITHIN_20 = Target("0.8 - 1.2", low=0.8, high=1.2)
ZERO = Target("= 0", low=0, high=0)


def _entry(
    value: float | None,
    *,
    ours: str,
    baseline: str,
    better: str,
    target: Target | None,
    description: str,
) -> dict[str, Any]:
    return {
        "value": None if value is None else round(value, 3),
        "ours": ours,
        "baseline": baseline,
        "better": better,
        "target": None if target is None else target.text,
        "met": None if target is None or value is None else target.met(value),
        "description": description,
    }


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f} rows/s"


def _ms(x: float) -> str:
    return f"{x:.2f} ms p50"


def _write_ratios(prefix: str, w: dict[str, Any], targets: bool) -> dict[str, Any]:
    raw = w["raw"]["rows_per_s"]
    raw_name = "copy" if prefix == "" else "executemany"

    def target(bound: Target) -> Target | None:
        return bound if targets else None

    def versus_raw(key: str, bound: Target | None, description: str) -> dict[str, Any]:
        ours = w[key]["rows_per_s"]
        return _entry(
            ours / raw if ours and raw else None,
            ours=_rate(ours),
            baseline=_rate(raw),
            better="higher",
            target=bound,
            description=description,
        )

    what = w["raw"]["what"]
    out = {
        f"{prefix}write_vs_{raw_name}": versus_raw(
            "ours_empty", target(AT_LEAST_08), f"upsert into an empty table vs {what}"
        ),
        f"{prefix}resync_vs_{raw_name}": versus_raw(
            "resync_unchanged",
            target(AT_LEAST_1),
            f"re-sync where nothing changed vs {what} into an empty table",
        ),
        f"{prefix}resync_1pct_vs_{raw_name}": versus_raw(
            "resync_1pct", None, f"re-sync with 1% of adjusted closes revised vs {what}"
        ),
    }
    rewritten = _rewritten(w["resync_unchanged"])
    out[f"{prefix}resync_rows_rewritten"] = _entry(
        rewritten,
        ours=f"{rewritten:,} rows",
        baseline="0 rows",
        better="lower",
        target=ZERO,
        description="rows rewritten by the nothing-changed re-sync (a count, not a ratio)",
    )
    orm = w["orm"]
    for key, name, bound, how in (
        ("ours_rows_per_s", "write_vs_orm", target(AT_LEAST_8), "write_assets batches"),
        ("ours_single_rows_per_s", "write_single_vs_orm", None, "write_asset per symbol"),
    ):
        out[prefix + name] = _entry(
            orm[key] / orm["rows_per_s"] if orm["rows_per_s"] else None,
            ours=_rate(orm[key]),
            baseline=_rate(orm["rows_per_s"]),
            better="higher",
            target=bound,
            description=(
                f"upsert ({how}) vs one ORM object per bar + add_all "
                f"({orm['rows']:,} rows into an empty table)"
            ),
        )
    return out


def _rewritten(resync: dict[str, Any]) -> int:
    database = resync.get("database")
    if database is not None:
        return int(database["rows_rewritten"])
    return int(resync.get("updated", 0)) + int(resync.get("inserted", 0))


def _read_ratios(prefix: str, r: dict[str, Any], years: int, targets: bool) -> dict[str, Any]:
    spec: dict[str, tuple[str, Target, str]] = {
        "year": ("read_year_vs_sql", AT_MOST_15, "one symbol x one year"),
        "history": ("read_history_vs_sql", AT_MOST_15, f"one symbol x {years} years"),
        "cross_section": ("read_cross_section_vs_sql", AT_MOST_2, "one date x all symbols"),
    }
    out = {}
    for kind, (name, bound, what) in spec.items():
        figures = r[kind]
        out[prefix + name] = _entry(
            figures["p50_ratio"],
            ours=_ms(figures["ours"]["p50_ms"]),
            baseline=_ms(figures["sql"]["p50_ms"]),
            better="lower",
            target=bound if targets else None,
            description=(
                f"{what}: our API vs the same SELECT through the raw driver, p50 latency "
                f"(p95 ratio {figures['p95_ratio']})"
            ),
        )
    return out


def _rss_ratio(name: str, rss: dict[str, Any], targets: bool) -> dict[str, Any]:
    runs = list(rss["runs"].values())
    first, last = runs[0], runs[1]
    entry = _entry(
        rss["peak_ratio"],
        ours=f"{last['peak_kib'] / 1024:.0f} MiB",
        baseline=f"{first['peak_kib'] / 1024:.0f} MiB",
        better="lower",
        target=WITHIN_20 if targets else None,
        description=(
            f"peak RSS writing {last['symbols']} symbols x {last['years']} years vs "
            f"x {first['years']} year, bars streamed (growth above the process's "
            f"baseline: {rss['growth_ratio']}x)"
        ),
    )
    return {name: entry}


def _import_export_ratios(io: dict[str, Any]) -> dict[str, Any]:
    rows = io["rows"]
    return {
        "import_csv_vs_copy": _entry(
            io["raw_import_s"] / io["import_s"],
            ours=f"{io['import_s']:.2f} s",
            baseline=f"{io['raw_import_s']:.2f} s",
            better="higher",
            target=AT_LEAST_05,
            description=f"raw COPY FROM over datanexus import csv, {rows:,} bars",
        ),
        "export_csv_vs_copy": _entry(
            io["raw_export_s"] / io["export_s"],
            ours=f"{io['export_s']:.2f} s",
            baseline=f"{io['raw_export_s']:.2f} s",
            better="higher",
            target=AT_LEAST_05,
            description=f"raw COPY TO over datanexus export --format csv, {rows:,} bars",
        ),
    }


def _timescale_ratios(ts: dict[str, Any]) -> dict[str, Any]:
    stats = ts["stats"]
    after = (stats["bytes_after_compression"] or 0) / 2**20
    before = (stats["bytes_before_compression"] or 0) / 2**20
    out = {
        "tsdb_compression": _entry(
            ts["compression_ratio"],
            ours=f"{after:.0f} MiB",
            baseline=f"{before:.0f} MiB",
            better="higher",
            target=AT_LEAST_4,
            description=(
                f"bytes before / after compressing every chunk ({ts['interval']} chunks, "
                "hypertable_compression_stats)"
            ),
        )
    }
    names = {
        "year": "one symbol x one year",
        "history": "one symbol x all years",
        "cross_section": "one date x all symbols",
    }
    for kind, what in names.items():
        packed = ts["reads_compressed"][kind]["p50_ms"]
        plain = ts["reads_uncompressed"][kind]["p50_ms"]
        out[f"tsdb_read_{kind}_compressed_vs_uncompressed"] = _entry(
            packed / plain if plain else None,
            ours=_ms(packed),
            baseline=_ms(plain),
            better="lower",
            target=None,
            description=f"{what}, raw SQL, compressed vs uncompressed chunks",
        )
    writes = ts.get("store_writes")
    if writes:
        for key, what in (
            ("resync_unchanged", "our re-sync (nothing changed)"),
            ("history_rewrite", "our rewrite of whole adjusted histories"),
        ):
            packed = writes["compressed"].get(key, {}).get("rows_per_s")
            plain = writes["uncompressed"].get(key, {}).get("rows_per_s")
            if packed and plain:
                out[f"tsdb_{key}_compressed_vs_uncompressed"] = _entry(
                    packed / plain,
                    ours=_rate(packed),
                    baseline=_rate(plain),
                    better="higher",
                    target=None,
                    description=f"{what} into compressed vs uncompressed chunks (throughput)",
                )
    return out


def compute_ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Every ratio the results allow, keyed by a stable name."""
    ratios: dict[str, Any] = {}
    if "postgres" in results:
        pg = results["postgres"]
        ratios |= _write_ratios("", pg["write"], targets=True)
        ratios |= _read_ratios("", pg["read"], pg["dataset"]["years"], targets=True)
    if "rss" in results:
        ratios |= _rss_ratio("rss_20y_vs_1y", results["rss"], targets=True)
    if "import_export" in results:
        ratios |= _import_export_ratios(results["import_export"])
    if "timescale" in results:
        ratios |= _timescale_ratios(results["timescale"])
    if "sqlite" in results:
        lite = results["sqlite"]
        ratios |= _write_ratios("sqlite_", lite["write"], targets=False)
        ratios |= _read_ratios("sqlite_", lite["read"], lite["dataset"]["years"], targets=False)
        ratios |= _rss_ratio("sqlite_rss_20y_vs_1y", lite["rss"], targets=False)
    return ratios


def render_ratios(ratios: dict[str, Any]) -> str:
    """The headline table."""
    rows = []
    for name, r in ratios.items():
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        value = r["value"]
        rows.append([name, r["ours"], r["baseline"], value, r["better"], r["target"], met])
    return table(["figure", "ours", "baseline", "ratio", "better", "target", "met"], rows)


def render_raw(results: dict[str, Any]) -> str:
    """Raw figures: write passes and read latencies per backend."""
    parts = []
    for backend in ("postgres", "sqlite"):
        if backend not in results:
            continue
        w, r = results[backend]["write"], results[backend]["read"]
        rows: list[list[Any]] = []
        for key, label in (
            ("ours_empty", "ours, empty table"),
            ("raw", w["raw"]["what"]),
            ("resync_unchanged", "ours, re-sync unchanged"),
            ("resync_1pct", "ours, re-sync 1% changed"),
        ):
            f = w[key]
            db = f.get("database") or {}
            rows.append(
                [
                    label,
                    w["rows"],
                    f["seconds"],
                    f["rows_per_s"],
                    f.get("inserted"),
                    f.get("updated"),
                    f.get("unchanged"),
                    db.get("rows_rewritten"),
                    db.get("n_tup_upd"),
                ]
            )
        orm = w["orm"]
        rows.append(
            [
                "ORM add_all (subset)",
                orm["rows"],
                orm["seconds"],
                orm["rows_per_s"],
                None,
                None,
                None,
                None,
                None,
            ]
        )
        rows.append(
            [
                "ours write_assets (subset)",
                orm["rows"],
                orm["ours_seconds"],
                orm["ours_rows_per_s"],
                None,
                None,
                None,
                None,
                None,
            ]
        )
        rows.append(
            [
                "ours write_asset (subset)",
                orm["rows"],
                orm["ours_single_seconds"],
                orm["ours_single_rows_per_s"],
                None,
                None,
                None,
                None,
                None,
            ]
        )
        parts.append(
            f"{backend} writes\n"
            + table(
                [
                    "pass",
                    "rows",
                    "seconds",
                    "rows/s",
                    "inserted",
                    "updated",
                    "unchanged",
                    "rewritten",
                    "n_tup_upd",
                ],
                rows,
            )
        )
        read_rows = [
            [
                kind,
                r[kind]["rows"],
                _pair(r[kind]["ours"]),
                _pair(r[kind]["sql"]),
                r[kind]["p50_ratio"],
                r[kind]["p95_ratio"],
            ]
            for kind in ("year", "history", "cross_section")
        ]
        parts.append(
            f"{backend} reads (ms)\n"
            + table(
                ["read", "rows", "ours p50 / p95", "raw SQL p50 / p95", "p50 ratio", "p95 ratio"],
                read_rows,
            )
        )
    writes = results.get("timescale", {}).get("store_writes")
    if writes:
        rows = [
            [
                f"{name.replace('_', ' ')}, {phase}",
                f["rows"],
                f["seconds"],
                f["rows_per_s"],
                f.get("inserted"),
                f.get("updated"),
                f.get("unchanged"),
                f["compressed_chunks_after"],
            ]
            for phase, passes in writes.items()
            for name, f in passes.items()
        ]
        headers = ["pass", "rows", "seconds", "rows/s", "inserted", "updated", "unchanged"]
        parts.append(
            f"timescaledb: our writes into the hypertable ({results['timescale']['interval']} "
            f"chunks, {results['timescale']['chunks']} of them)\n"
            + table([*headers, "compressed chunks after"], rows)
        )
    memory = {"postgres": results.get("rss"), "sqlite": results.get("sqlite", {}).get("rss")}
    for label, figures in memory.items():
        if figures:
            rss = figures["runs"]
            parts.append(
                f"{label} writer memory (streamed bars, write_asset per symbol)\n"
                + table(
                    ["run", "rows", "seconds", "baseline MiB", "peak MiB"],
                    [
                        [
                            name,
                            x["rows"],
                            x["seconds"],
                            x["baseline_kib"] / 1024,
                            x["peak_kib"] / 1024,
                        ]
                        for name, x in rss.items()
                    ],
                )
            )
    return "\n\n".join(parts)


def _pair(figures: dict[str, float]) -> str:
    return f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f}"
