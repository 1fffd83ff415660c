"""How fast the pure EODHD parsers turn bodies into bars (rows per second).

The bodies are the emulator's own: a 20-year ``/eod`` history of one symbol (JSON and CSV,
rendered exactly as the server renders them) and a ``/eod-bulk-last-day`` body of a whole
synthetic exchange. No network, no database: this times ``parse_eod`` and ``parse_bulk_eod``
alone, best of several repeats (the machine is shared, so the minimum is the honest figure).

Run ``python -m benchmarks.parse_speed`` (``--help`` for the sizes); ``--careful`` also times
the parsers' careful row-by-row path (what every row went through before the fast path).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from data_nexus.emulator import Market
from data_nexus.emulator.bulk import bulk_response
from data_nexus.emulator.formats import EOD_CSV_HEADER, Columns, csv_table, json_array
from data_nexus.emulator.messages import Request
from data_nexus.providers.eodhd import parse_bulk_eod, parse_eod

TODAY = dt.date(2024, 6, 28)
START = dt.date(2004, 6, 28)


def eod_bodies(market: Market, symbol: str) -> tuple[bytes, bytes]:
    """The whole history of ``symbol`` as the emulator's ``/eod`` serves it (JSON, CSV)."""
    columns = Columns.of(market.view(symbol))
    return (
        json_array(columns.json_rows()).encode(),
        csv_table(EOD_CSV_HEADER, columns.csv_rows()).encode(),
    )


def bulk_body(market: Market, exchange: str) -> bytes:
    """The emulator's ``/eod-bulk-last-day/{exchange}?fmt=json`` body for its last day."""
    request = Request.from_target("GET", f"/api/eod-bulk-last-day/{exchange}?fmt=json", "x")
    response, _ = bulk_response(market, exchange, request)
    return response.body


def best_seconds(run: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``run``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, body: bytes, run: Callable[[], Any], repeats: int) -> None:
    """Time ``run`` and print rows/s, µs/row and the body size."""
    rows = len(run().records)
    seconds = best_seconds(run, repeats)
    print(
        f"{name:<28} {rows:>6} rows  {len(body) / 1000:>7.0f} KB  "
        f"{rows / seconds:>10,.0f} rows/s  {seconds / rows * 1e6:>6.2f} µs/row"
    )


def main(argv: list[str] | None = None) -> None:
    """Build the bodies, then time each parser on them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--symbols", type=int, default=2000, help="symbols in the bulk body")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (best wins)")
    parser.add_argument("--careful", action="store_true", help="also time the careful path")
    args = parser.parse_args(argv)

    market = Market(today=TODAY, symbols=args.symbols, start=START, delisted_fraction=0.0)
    symbol = max(
        (p.symbol for p in market.traded_on("US", TODAY)[:50]),
        key=lambda s: len(market.view(s)),
    )
    eod_json, eod_csv = eod_bodies(market, symbol)
    bulk = bulk_body(market, "US")

    cases: list[tuple[str, bytes, Callable[[], Any]]] = [
        ("parse_eod json", eod_json, lambda: parse_eod(eod_json, symbol)),
        ("parse_eod csv", eod_csv, lambda: parse_eod(eod_csv, symbol, fmt="csv")),
        ("parse_bulk_eod json", bulk, lambda: parse_bulk_eod(bulk, "US")),
    ]
    if args.careful:
        from data_nexus.providers.eodhd import parse as module

        careful = getattr(module, "careful_parsing", None)
        if careful is None:
            print("(this version has no careful_parsing switch; --careful ignored)")
        else:

            def slow(run: Callable[[], Any]) -> Callable[[], Any]:
                def wrapped() -> Any:
                    with careful():
                        return run()

                return wrapped

            cases += [(f"{name} (careful)", body, slow(run)) for name, body, run in cases]
    for name, body, run in cases:
        report(name, body, run, args.repeats)


if __name__ == "__main__":
    main()
