"""How much does HTTP cost? ``GET /bars/{symbol}`` (one symbol-year, JSON) vs the library call.

    python benchmarks/serve_http.py [--postgres | --postgres-url URL] [--requests N] [--clients 8]
                                    [--seconds S] [--stream N] [--json FILE] [--quick]
                                    [--baseline SRC]

Fills a database with the demo's synthetic market (12 symbols × 10 years; a fresh SQLite
file; with ``--postgres`` also a database on a throwaway cluster, or on the server of
``--postgres-url``, an admin URL),
starts ``datanexus serve`` on it in a child process (as a user would run it: one uvicorn
process, its defaults: access log off, the fast lane of :mod:`data_nexus.serve.fastlane`
on), and measures from this process:

- ``library p50``: :func:`~data_nexus.query.bars.get_bars_arrow` for one symbol-year on an
  open read-only reader (what the endpoint calls, through
  :func:`~data_nexus.serve.data.symbol_bars`; the server keeps its readers open);
- ``get_bars p50`` and ``get_bars_json p50``: the same symbol-years through
  :func:`~data_nexus.query.bars.get_bars` (the pandas DataFrame a Python user asks for) and
  :func:`~data_nexus.query.bars_json.get_bars_json` (the JSON document the endpoint sends
  on SQLite; ``None`` on PostgreSQL, which has no such path), in the same alternation;
- ``http p50``: the same requests over HTTP/1.1 keep-alive, one client (the asyncio client
  of the load test below); library calls and requests alternate in blocks of :data:`BLOCK`,
  so both see the same load;
- ``raw p50``: the same requests again, in the same alternation, from a minimal blocking
  client (:class:`RawConnection`: one socket, ``sendall``/``recv``, no event loop), so
  the part of ``http p50`` that is the asyncio client's own (about 0.05-0.1 ms here) shows;
  ``http p50`` stays the figure of record (issue 13), ``raw p50`` is the closer one to what
  the server costs;
- ``req/s``: ``--clients`` concurrent keep-alive clients for ``--seconds`` seconds, and the
  server process's CPU time per request (``/proc``), so ``1 / cpu`` is what one free core
  serves however loaded the machine is while measuring.

``--baseline SRC`` also starts the server of another checkout's ``src`` directory (e.g. one
made with ``git archive <commit> src | tar -x -C /tmp/before``) on the same database and
puts it in the same alternation (and the load test, halves in turn), so a before/after
comparison sees the same machine load: on a shared machine, runs minutes apart differ more
than most changes do.

The load generator is a minimal asyncio HTTP/1.1 client (about 15 µs of Python per request),
so on this 2-core machine it competes with the server for the CPU: the figure is a floor.
Figures only, no assertions (``--quick`` is a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `tests.pgcluster` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import httpx
from tests.pgcluster import DatabaseFactory, ThrowawayCluster

from data_nexus.demo import run_demo
from data_nexus.query.bars import get_bars, get_bars_arrow
from data_nexus.query.bars_json import get_bars_json
from data_nexus.storage.frames import open_reader
from data_nexus.storage.migrate import upgrade_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, src: Path | None = None) -> subprocess.Popen[bytes]:
    """``datanexus serve`` on ``url`` in a child process (from ``src``, another checkout's
    ``src`` directory, when given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATANEXUS_")}
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_nexus", "serve", "--port", str(port), "-d", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("datanexus serve exited") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("datanexus serve did not start")


class Connection:
    """One HTTP/1.1 keep-alive connection: GET and read a Content-Length body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, path: str) -> tuple[int, bytes]:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class RawConnection:
    """One HTTP/1.1 keep-alive connection on a blocking socket: the least a client can do."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def get(self, path: str) -> tuple[int, bytes]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = self.buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._recv()
        head, body = data[:end].decode("latin-1"), data[end + 4 :]
        lines = head.split("\r\n")
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        while len(body) < length:
            body += self._recv()
        self.buffer = body[length:]
        return int(lines[0].split()[1]), body[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


#: Library calls and requests alternate in blocks of this many: each side stays warm inside
#: a block (a server woken for every request mostly measures the OS scheduler of a busy
#: machine), and both sides see the same load across blocks.
BLOCK = 50


async def alternating(
    ports: list[int], url: str, calls: list[tuple[str, str, str]], paths: list[str]
) -> tuple[dict[str, list[float]], list[list[float]], list[list[float]]]:
    """Library calls, then HTTP requests from the asyncio client, then from the raw one (to
    each server of ``ports`` in turn), for the same symbol-years, in alternating blocks."""
    conns = [await Connection.open(port) for port in ports]
    raws = [RawConnection(port) for port in ports]
    library: list[float] = []
    pandas: list[float] = []
    as_json: list[float] = []
    http: list[list[float]] = [[] for _ in ports]
    raw_http: list[list[float]] = [[] for _ in ports]
    try:
        with open_reader(url) as reader:
            for first in range(0, len(calls), BLOCK):
                for symbol, start, end in calls[first : first + BLOCK]:
                    began = time.perf_counter()
                    get_bars_arrow(symbol, start, end, store=reader)
                    library.append(time.perf_counter() - began)
                for symbol, start, end in calls[first : first + BLOCK]:
                    began = time.perf_counter()
                    get_bars(symbol, start, end, store=reader)
                    pandas.append(time.perf_counter() - began)
                for symbol, start, end in calls[first : first + BLOCK]:
                    began = time.perf_counter()
                    if get_bars_json(symbol, start, end, store=reader) is not None:
                        as_json.append(time.perf_counter() - began)  # (None: PostgreSQL)
                order = list(range(len(ports)))
                if (first // BLOCK) % 2:
                    order.reverse()  # neither server always comes first after the library
                for k in order:
                    conn, raw = conns[k], raws[k]
                    for path in paths[first : first + BLOCK]:
                        began = time.perf_counter()
                        status, _body = await conn.get(path)
                        http[k].append(time.perf_counter() - began)
                        assert status == 200, status
                    for path in paths[first : first + BLOCK]:
                        began = time.perf_counter()
                        status, _body = raw.get(path)
                        raw_http[k].append(time.perf_counter() - began)
                        assert status == 200, status
    finally:
        for conn in conns:
            conn.close()
        for raw in raws:
            raw.close()
    return {"arrow": library, "pandas": pandas, "json": as_json}, http, raw_http


async def concurrent(port: int, paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    done = 0
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        nonlocal done, errors
        conn = await Connection.open(port)
        i = k
        try:
            while time.perf_counter() < stop:
                status, _ = await conn.get(paths[i % len(paths)])
                i += clients
                if status == 200:
                    done += 1
                else:
                    errors += 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.perf_counter() - started
    return {"requests": done, "errors": errors, "seconds": elapsed, "rps": done / elapsed}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux ``/proc``), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of process ``pid`` (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_stream(symbols: int, years: int) -> dict[str, Any]:
    """Peak server memory for one symbol-year, then for every bar of ``symbols`` streamed."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'stream.db'}"
        result = run_demo(database_url=url, symbols=symbols, years=years)
        port = free_port()
        proc = start_server(url, port)
        try:
            one = f"/bars/{result.symbols[0]}?from=2024-01-01&to=2024-12-31"
            httpx.get(f"http://127.0.0.1:{port}{one}").raise_for_status()
            before = peak_rss_mb(proc.pid)
            sent = 0
            began = time.perf_counter()
            params = {"symbols": ",".join(result.symbols), "format": "csv"}
            with httpx.stream("GET", f"http://127.0.0.1:{port}/bars", params=params) as response:
                for chunk in response.iter_bytes():
                    sent += len(chunk)
            seconds = time.perf_counter() - began
            after = peak_rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    return {
        "bars": result.total_bars,
        "csv_mb": round(sent / 2**20, 1),
        "seconds": round(seconds, 2),
        "peak_rss_mb_before": round(before, 1),
        "peak_rss_mb_after": round(after, 1),
    }


def measure(
    url: str, requests: int, clients: int, seconds: float, baseline: Path | None = None
) -> list[dict[str, Any]]:
    """The figures of this checkout's server, then (``baseline``) of the other one's."""
    result = run_demo(database_url=url, symbols=12, years=10)
    symbols = result.symbols
    years = [str(y) for y in range(2018, 2026)]
    calls = [
        (symbols[i % len(symbols)], f"{y}-01-01", f"{y}-12-31")
        for i, y in enumerate(years * (requests // len(years) + 1))
    ][:requests]
    paths = [f"/bars/{s}?from={a}&to={b}" for s, a, b in calls]
    sources: list[Path | None] = [None] if baseline is None else [None, baseline]
    ports = [free_port() for _ in sources]
    procs = [start_server(url, port, src) for port, src in zip(ports, sources, strict=True)]
    done = [0 for _ in procs]
    errors = [0 for _ in procs]
    cpu = [0.0 for _ in procs]
    try:
        asyncio.run(alternating(ports, url, calls[:BLOCK], paths[:BLOCK]))  # warm up all
        libraries, http, raw_http = asyncio.run(alternating(ports, url, calls, paths))
        rounds = 1 if baseline is None else 2  # each server twice, in turn
        for _ in range(rounds):
            for k, (port, proc) in enumerate(zip(ports, procs, strict=True)):
                cpu_before = cpu_seconds(proc.pid)
                load = asyncio.run(concurrent(port, paths, clients, seconds / rounds))
                cpu[k] += cpu_seconds(proc.pid) - cpu_before
                done[k] += load["requests"]
                errors[k] += load["errors"]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    with open_reader(url) as reader:
        rows = get_bars_arrow(calls[0][0], calls[0][1], calls[0][2], store=reader).num_rows
    lib_p50 = statistics.median(libraries["arrow"])
    pandas_p50 = statistics.median(libraries["pandas"])
    json_p50 = statistics.median(libraries["json"]) if libraries["json"] else None
    figures = []
    for k, src in enumerate(sources):
        http_p50 = statistics.median(http[k])
        raw_p50 = statistics.median(raw_http[k])
        figures.append(
            {
                "backend": "sqlite" if url.startswith("sqlite") else "postgresql",
                "server": "this checkout" if src is None else f"baseline {src}",
                "bars_per_request": rows,
                "library_p50_ms": round(lib_p50 * 1000, 3),
                "http_p50_ms": round(http_p50 * 1000, 3),
                "http_over_library": round(http_p50 / lib_p50, 2),
                "get_bars_p50_ms": round(pandas_p50 * 1000, 3),
                "http_over_get_bars": round(http_p50 / pandas_p50, 2),
                "get_bars_json_p50_ms": round(json_p50 * 1000, 3) if json_p50 else None,
                "http_over_get_bars_json": round(http_p50 / json_p50, 2) if json_p50 else None,
                "raw_http_p50_ms": round(raw_p50 * 1000, 3),
                "raw_over_library": round(raw_p50 / lib_p50, 2),
                "clients": clients,
                "requests_per_second": round(done[k] / seconds, 1),
                "server_cpu_ms_per_request": round(cpu[k] / max(done[k], 1) * 1000, 3),
                "requests_per_cpu_second": round(done[k] / cpu[k], 1) if cpu[k] else None,
                "load_errors": errors[k],
                "load_average": os.getloadavg()[0],
            }
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server to also measure")
    parser.add_argument(
        "--postgres", action="store_true", help="also measure on a throwaway PostgreSQL cluster"
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--stream",
        metavar="SYMBOLS",
        type=int,
        help="also stream every bar of this many 20-year symbols as CSV and report peak memory",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="SRC",
        help="also measure the server of this src directory (another checkout), interleaved",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.seconds = 40, 1.0
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        figures += measure(
            f"sqlite:///{Path(tmp) / 'serve.db'}",
            args.requests,
            args.clients,
            args.seconds,
            args.baseline,
        )
    cluster = None
    if args.postgres and not args.postgres_url:
        cluster = ThrowawayCluster().start()
        args.postgres_url = cluster.admin_url
    try:
        if args.postgres_url:
            factory = DatabaseFactory(args.postgres_url)
            url = factory.create("dn_serve_bench")
            try:
                upgrade_db_url(url)
                figures += measure(url, args.requests, args.clients, args.seconds, args.baseline)
            finally:
                factory.drop(url)
    finally:
        if cluster is not None:
            cluster.stop()
    for f in figures:
        print(
            f"{f['backend']:<10} [{f['server']}] one symbol-year "
            f"({f['bars_per_request']} bars, JSON): "
            f"library p50 {f['library_p50_ms']:.2f} ms, HTTP p50 {f['http_p50_ms']:.2f} ms "
            f"({f['http_over_library']:.2f}x; raw client {f['raw_http_p50_ms']:.2f} ms, "
            f"{f['raw_over_library']:.2f}x); get_bars p50 {f['get_bars_p50_ms']:.2f} ms "
            f"({f['http_over_get_bars']:.2f}x), get_bars_json p50 "
            f"{f['get_bars_json_p50_ms']} ms ({f['http_over_get_bars_json']}x); "
            f"{f['clients']} clients: "
            f"{f['requests_per_second']:.0f} req/s ({f['load_errors']} errors), server CPU "
            f"{f['server_cpu_ms_per_request']:.2f} ms/request = "
            f"{f['requests_per_cpu_second']} req per CPU-second; load {f['load_average']:.1f}"
        )
    if args.stream:
        stream = measure_stream(args.stream, 20)
        figures.append({"stream": stream})
        print(
            f"streamed {stream['bars']:,} bars ({stream['csv_mb']} MiB CSV) in "
            f"{stream['seconds']} s; server peak RSS {stream['peak_rss_mb_before']} MiB before, "
            f"{stream['peak_rss_mb_after']} MiB after"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def upgrade_db_url(url: str) -> None:
    from data_nexus.config import Settings

    upgrade_db(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]


if __name__ == "__main__":
    main()
