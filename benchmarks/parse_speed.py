"""How fast the pure EODHD parsers turn bodies into bars (rows per second).

The bodies are the emulator's own: a 20-year ``/eod`` history of one symbol (JSON and CSV,
rendered exactly as the server renders them) and a ``/eod-bulk-last-day`` body of a whole
synthetic exchange. No network, no database: this times ``parse_eod`` and ``parse_bulk_eod``
alone, best of several repeats (the machine is shared, so the minimum is the honest figure).

Run ``python -m benchmarks.parse_speed`` (``--help`` for the sizes). Each JSON case is also
timed through the careful row-by-row parser alone (every value through ``Fields``), which is
how every body was parsed before the fast paths: that is the "before" figure. For a true
before/after, run this file against an older checkout too (``PYTHONPATH=<old>/src:.``); it
then reports only the cases that version has.
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
from data_nexus.providers.eodhd import parse, parse_bulk_eod, parse_eod
from data_nexus.records import Bar, Parsed

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


def careful_eod(body: bytes, symbol: str) -> Parsed[Bar]:
    """``parse_eod`` with every row through the careful parser (the code before the fast paths)."""
    rows = parse._rows(body, symbol, "json", parse._EOD_COLUMNS, "bars", secrets=())
    acc = parse._Acc(())
    bars = parse._unique(
        symbol, rows, acc, lambda f, _row: parse._bar(f, symbol, acc), parse._by_date
    )
    return Parsed(bars, acc.finish(symbol))


def careful_bulk(body: bytes, exchange: str) -> Parsed[Bar]:
    """``parse_bulk_eod`` with every row through the careful parser."""
    columns = ("code", "exchange_short_name", *parse._EOD_COLUMNS)
    rows = parse._rows(body, exchange, "json", columns, "bars", secrets=())
    acc = parse._Acc(())
    bars = parse._unique(
        exchange,
        rows,
        acc,
        lambda f, _row: parse._bar(f, parse._bulk_symbol(f, exchange, "exchange_short_name"), acc),
        parse._by_date_symbol,
    )
    return Parsed(bars, acc.finish(f"bulk {exchange}"))


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
    if hasattr(parse, "_careful"):  # this version has fast paths: time the careful one too
        cases += [
            ("parse_eod json, careful", eod_json, lambda: careful_eod(eod_json, symbol)),
            ("parse_bulk_eod json, careful", bulk, lambda: careful_bulk(bulk, "US")),
        ]
    for name, body, run in cases:
        report(name, body, run, args.repeats)


if __name__ == "__main__":
    main()
