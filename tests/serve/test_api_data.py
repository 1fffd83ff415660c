"""Bars, actions, status and runs over a real socket equal the library's answers, per backend."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator, Sequence

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_nexus.query.bars import BAR_FIELDS, get_bars, get_bars_arrow
from data_nexus.query.findings import get_findings
from data_nexus.query.status import get_actions, get_runs, get_status
from data_nexus.serve import ServerThread, data
from data_nexus.storage.frames import FrameReader
from data_nexus.storage.store import Store
from tests.serve.conftest import SYMBOLS, Serve, fixed_clock


@pytest.fixture(scope="module")
def client(module_server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=module_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def symbols(client: httpx.Client) -> list[str]:
    names = [a["symbol"] for a in client.get("/assets").json()]
    assert len(names) == SYMBOLS
    return names


def library_rows(url: str, symbols: list[str], **options: object) -> list[dict[str, object]]:
    table = get_bars_arrow(symbols, url=url, **options)  # type: ignore[arg-type]
    rows = table.to_pylist()
    for row in rows:
        row["date"] = row["date"].isoformat()
    return rows


def test_raw_bars_equal_the_stored_decimals(
    client: httpx.Client, demo_url: str, symbols: list[str]
) -> None:
    store = Store.open(demo_url)
    try:
        stored = store.read_bars([symbols[0]])
    finally:
        store.close()
    body = client.get(f"/bars/{symbols[0]}").json()
    assert body["symbol"] == symbols[0]
    assert (body["adjust"], body["interval"]) == ("none", "1d")
    assert body["cutoff"] == stored[-1].date.isoformat()
    assert len(body["bars"]) == len(stored)
    for got, bar in zip(body["bars"], stored, strict=True):
        assert got["date"] == bar.date.isoformat()
        assert got["close"] == float(bar.close)
        assert got["open"] == (None if bar.open is None else float(bar.open))
        assert got["volume"] == bar.volume


@pytest.mark.parametrize("adjust", ["none", "splits", "all", "provider"])
@pytest.mark.parametrize("interval", ["1d", "1w", "1mo", "1y"])
def test_bars_equal_the_library_call(
    client: httpx.Client, demo_url: str, symbols: list[str], adjust: str, interval: str
) -> None:
    symbol = symbols[-1]
    params = {"adjust": adjust, "interval": interval, "from": "2025-03-01", "to": "2026-06-30"}
    body = client.get(f"/bars/{symbol}", params=params).json()
    expected = library_rows(
        demo_url, [symbol], start="2025-03-01", end="2026-06-30", adjust=adjust, interval=interval
    )
    for row in expected:
        del row["symbol"]
    assert body["bars"] == expected
    assert body["bars"][0]["date"] >= "2025-03-01"
    assert body["bars"][-1]["date"] <= "2026-06-30"


def test_adjust_modes_differ_where_actions_exist(client: httpx.Client, symbols: list[str]) -> None:
    """Guards the test above against comparing a mode that changes nothing."""
    symbol = symbols[0]
    raw = client.get(f"/bars/{symbol}").json()["bars"]
    adjusted = client.get(f"/bars/{symbol}", params={"adjust": "all"}).json()["bars"]
    assert client.get(f"/actions/{symbol}").json()["actions"]
    assert raw[0]["close"] != adjusted[0]["close"]
    assert raw[-1]["close"] == adjusted[-1]["close"]  # nothing after the last bar


def test_many_symbols_stream_in_pieces(
    client: httpx.Client, demo_url: str, symbols: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "PIECE", 2)  # the server runs in this process
    expected = library_rows(demo_url, symbols, adjust="all", interval="1w")
    with client.stream(
        "GET", "/bars", params={"symbols": ",".join(symbols), "adjust": "all", "interval": "1w"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        body = json.loads(response.read())
    assert body["bars"] == expected
    assert body["cutoff"] == max(row["date"] for row in expected)
    repeated = client.get("/bars", params=[("symbols", s) for s in symbols])
    assert len(repeated.json()["bars"]) == len(library_rows(demo_url, symbols))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_formats_read_back(
    client: httpx.Client,
    demo_url: str,
    symbols: list[str],
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data, "PIECE", 2)
    params = {"symbols": ",".join(symbols), "adjust": "splits", "format": fmt}
    response = client.get("/bars", params=params)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "csv":
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(io.BytesIO(response.content))
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(response.content))
        assert table.schema.metadata[b"datanexus.adjust"] == b"splits"
    else:
        table = pa.ipc.open_stream(response.content).read_all()
        assert table.schema.metadata[b"datanexus.adjust"] == b"splits"
    expected = get_bars_arrow(symbols, adjust="splits", url=demo_url)
    assert table.num_rows == expected.num_rows
    assert table.column("close").to_pylist() == expected.column("close").to_pylist()
    assert table.column("symbol").to_pylist() == expected.column("symbol").to_pylist()
    assert table.column("volume").to_pylist() == expected.column("volume").to_pylist()
    single = client.get(f"/bars/{symbols[0]}", params={"format": fmt})
    assert single.status_code == 200
    assert single.headers["content-type"].startswith(data.formats.MEDIA_TYPES[fmt].split(";")[0])


def test_actions_equal_the_library(client: httpx.Client, demo_url: str, symbols: list[str]) -> None:
    for symbol in symbols:
        body = client.get(f"/actions/{symbol}").json()
        frame = get_actions(symbol, url=demo_url)
        assert body["symbol"] == symbol
        assert [a["date"] for a in body["actions"]] == [d.date().isoformat() for d in frame["date"]]
        assert [a["action"] for a in body["actions"]] == list(frame["action"])
        assert [a["value"] for a in body["actions"]] == list(frame["value"])
    window = client.get(f"/actions/{symbols[0]}", params={"from": "2026-01-01"}).json()
    assert all(a["date"] >= "2026-01-01" for a in window["actions"])


def test_status_counts_every_stored_bar(
    client: httpx.Client, demo_url: str, symbols: list[str]
) -> None:
    rows = client.get("/status").json()
    expected = get_status(fixed_clock(), url=demo_url)
    assert [r["symbol"] for r in rows] == list(expected["symbol"])
    assert [r["open_findings"] for r in rows] == list(expected["open_findings"])
    assert [r["history_from"] for r in rows] == ["0001-01-01"] * len(rows)  # whole history
    assert list(expected["history_from"]) == [dt.date.min] * len(rows)
    found = get_findings(url=demo_url)["symbol"].value_counts().to_dict()
    assert {r["symbol"]: r["open_findings"] for r in rows} == {s: found.get(s, 0) for s in symbols}
    assert sum(found.values()) > 0  # the demo's dirty market leaves findings behind
    store = Store.open(demo_url)
    try:
        for row in rows:
            assert row["rows"] == len(store.read_bars([row["symbol"]]))
            assert row["state"] == "ok"
    finally:
        store.close()
    assert client.get("/status", params={"exchange": "LSE"}).json() == []
    assert client.get("/status", params={"state": "failing"}).json() == []
    assert len(client.get("/status", params={"state": "ok", "exchange": "us"}).json()) == SYMBOLS


def test_findings_equal_the_library(
    client: httpx.Client, demo_url: str, symbols: list[str]
) -> None:
    rows = client.get("/findings").json()
    expected = get_findings(url=demo_url)
    assert rows  # the demo's dirty market leaves findings behind
    assert [(r["symbol"], r["kind"], r["detail"]) for r in rows] == list(
        zip(expected["symbol"], expected["kind"], expected["detail"], strict=True)
    )
    assert [r["date"] for r in rows] == [
        None if pd.isna(d) else d.date().isoformat() for d in expected["date"]
    ]
    assert all(r["open"] and r["closed_at"] is None for r in rows)
    every = client.get("/findings", params={"include_closed": "true"}).json()
    assert len(every) == len(get_findings(include_closed=True, url=demo_url)) >= len(rows)
    name = rows[0]["symbol"]
    others = [s for s in symbols if s != name]
    one = client.get("/findings", params={"symbols": name.lower()}).json()
    assert one == [r for r in rows if r["symbol"] == name]
    both = client.get(f"/findings?symbols={name},{others[0]}").json()
    assert both == [r for r in rows if r["symbol"] in (name, others[0])]
    csv = client.get("/findings", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "findings.csv" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0] == ",".join(expected.columns)
    assert len(lines) == 1 + len(rows)
    assert client.get("/findings", params={"symbols": "NOPE.US"}).status_code == 404
    assert client.get("/findings", params={"format": "xlsx"}).status_code == 400


def test_runs(client: httpx.Client, demo_url: str) -> None:
    runs = client.get("/runs").json()
    expected = get_runs(url=demo_url)
    assert [r["id"] for r in runs] == list(expected["id"])
    assert runs[0]["status"] == "ok"
    assert runs[0]["assets_synced"] == SYMBOLS
    assert len(client.get("/runs", params={"last": 1}).json()) == 1


def test_every_bar_format_has_the_clis_column_order(
    client: httpx.Client, demo_url: str, symbols: list[str]
) -> None:
    """date, symbol, prices, volume: the order of get_bars and `datanexus bars` (BAR_FIELDS)
    in the CSV header, the JSON objects, and the Parquet and Arrow schemas."""
    assert BAR_FIELDS[:2] == ("date", "symbol")
    assert tuple(get_bars(symbols[:1], url=demo_url).columns) == BAR_FIELDS
    params = {"symbols": ",".join(symbols[:2])}
    csv = client.get("/bars", params={**params, "format": "csv"}).text
    assert csv.splitlines()[0] == ",".join(BAR_FIELDS)
    assert tuple(client.get("/bars", params=params).json()["bars"][0]) == BAR_FIELDS
    parquet = pq.read_table(
        io.BytesIO(client.get("/bars", params={**params, "format": "parquet"}).content)
    )
    assert tuple(parquet.column_names) == BAR_FIELDS
    arrow = pa.ipc.open_stream(client.get("/bars", params={**params, "format": "arrow"}).content)
    assert tuple(arrow.schema.names) == BAR_FIELDS


def test_instants_read_the_same_in_every_endpoint(client: httpx.Client) -> None:
    """/assets (a response model), /status and /runs (records) write an instant alike: ISO
    8601 in UTC with 'Z', never '+00:00' in one and 'Z' in another."""
    assets = {a["symbol"]: a["last_synced"] for a in client.get("/assets").json()}
    status = {r["symbol"]: r["last_synced"] for r in client.get("/status").json()}
    assert assets == status
    run = client.get("/runs").json()[0]
    for text in [*assets.values(), run["started_at"], run["finished_at"]]:
        assert text.endswith("Z") and "+00:00" not in text, text
        assert dt.datetime.fromisoformat(text).tzinfo == dt.UTC


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/bars/NOPE.US", 404, "unknown symbol(s) NOPE.US: not in this warehouse"),
        ("/bars?symbols=AAPL.US,NOPE.US", 404, "unknown symbol(s) NOPE.US: not in"),
        ("/actions/NOPE.US", 404, "unknown symbol(s) NOPE.US: not in"),
        ("/findings?symbols=NOPE.US", 404, "unknown symbol(s) NOPE.US: not in"),
        ("/bars/AAPL.US?from=2024-02-30", 400, "invalid from '2024-02-30'"),
        ("/bars/AAPL.US?to=yesterday", 400, "invalid to 'yesterday'"),
        ("/bars/AAPL.US?from=2025-02-01&to=2025-01-01", 400, "after end date"),
        ("/bars/AAPL.US?adjust=dividends", 400, "invalid adjust 'dividends'"),
        ("/bars/AAPL.US?interval=5m", 400, "invalid interval '5m'"),
        ("/bars/AAPL.US?format=xlsx", 400, "invalid format 'xlsx'"),
        ("/bars/not-a-symbol", 400, "not-a-symbol"),
        ("/bars", 400, "symbols"),
        ("/runs?last=0", 400, "last"),
        ("/status?state=sleepy", 400, "state"),
    ],
)
def test_bad_requests_are_json(client: httpx.Client, path: str, status: int, fragment: str) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert list(response.json()) == ["error"]
    assert fragment in response.json()["error"]


@pytest.mark.parametrize("fast_lane", [True, False])
def test_one_symbol_needs_no_separate_known_symbol_query(
    demo_sqlite: str, serve: Serve, monkeypatch: pytest.MonkeyPatch, fast_lane: bool
) -> None:
    """The library's one-symbol read finds an unknown symbol itself (UnknownSymbols: 404);
    serve looks nothing up beforehand, on either path."""
    lookups: list[list[str]] = []
    real = FrameReader.known_symbols

    def counting(self: FrameReader, names: Sequence[str]) -> set[str]:
        lookups.append(list(names))
        return real(self, names)

    monkeypatch.setattr(FrameReader, "known_symbols", counting)
    server = serve(demo_sqlite, fast_lane=fast_lane)
    ok = httpx.get(f"{server.url}/bars/AAPL.US", params={"from": "2026-01-01", "to": "2026-06-30"})
    assert ok.status_code == 200 and ok.json()["bars"]
    assert lookups == []
    gone = httpx.get(
        f"{server.url}/bars/NOPE.US", params={"from": "2026-01-01", "to": "2026-06-30"}
    )
    assert gone.status_code == 404
    assert gone.json() == {"error": "unknown symbol(s) NOPE.US: not in this warehouse"}


def test_many_unknown_symbols_are_named_five_at_most(client: httpx.Client) -> None:
    names = ",".join(f"NOPE{i}.US" for i in range(7))
    response = client.get("/bars", params={"symbols": f"AAPL.US,{names}"})
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown symbol(s) NOPE0.US, NOPE1.US, NOPE2.US, NOPE3.US, NOPE4.US …: "
        "not in this warehouse"
    }
