"""The web page in headless Chromium (Debian's package), driven by Playwright.

Skipped, with the reason, when Chromium or Playwright is missing, unless
``DATANEXUS_TEST_REQUIRE_BROWSER=1`` (as in CI), where that is a failure. Screenshots are
saved as test artifacts under the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data_nexus.assets import pause_assets
from data_nexus.query.bars import get_bars_arrow
from data_nexus.query.findings import get_findings
from data_nexus.serve import ServerThread
from data_nexus.storage.store import Store
from tests.conftest import make_settings
from tests.serve.conftest import SYMBOLS, Serve

CHROMIUM = "/usr/bin/chromium"
REQUIRE = os.environ.get("DATANEXUS_TEST_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.browser


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser(demo_sqlite: str, paused_copy: tuple[str, str]) -> Iterator[Any]:
    """Headless Chromium. Playwright's sync API runs an event loop in this thread, so the
    databases (synced with asyncio.run) are made before it starts."""
    missing = _unavailable()
    if missing:
        if REQUIRE:
            pytest.fail(f"a browser is required (DATANEXUS_TEST_REQUIRE_BROWSER=1): {missing}")
        pytest.skip(f"no browser for the page tests: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors  # no script failed on the page


@pytest.fixture(scope="module")
def paused_copy(demo_sqlite: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A copy of the demo database with its last symbol paused; (url, paused symbol)."""
    source = Path(demo_sqlite.removeprefix("sqlite:///"))
    target = tmp_path_factory.mktemp("browser") / "paused.db"
    shutil.copy(source, target)
    url = f"sqlite:///{target}"
    store = Store.open(url)
    try:
        last = sorted({b.symbol for b in store.read_day(store.read_bars(["AAPL.US"])[-1].date)})[-1]
    finally:
        store.close()
    pause_assets(make_settings(url), [last])
    return url, last


def stored_counts(url: str, symbols: list[str]) -> dict[str, int]:
    store = Store.open(url)
    try:
        return {s: len(store.read_bars([s])) for s in symbols}
    finally:
        store.close()


def wait_ready(page: Any, adjust: str | None = None) -> None:
    selector = (
        "body[data-ready=true]"
        if adjust is None
        else (f"body[data-ready=true][data-adjust={adjust}]")
    )
    page.wait_for_selector(selector, timeout=30_000)


def candles(page: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = page.evaluate("window.dataNexusChart.candles.data()")
    return data


def test_freshness_table_lists_every_asset_with_its_counts(
    page: Any, serve: Serve, paused_copy: tuple[str, str], tmp_path: Path
) -> None:
    url, paused = paused_copy
    server: ServerThread = serve(url)
    page.goto(f"{server.url}/")
    wait_ready(page)
    rows = page.locator("#freshness tbody tr")
    assert rows.count() == SYMBOLS
    symbols = [rows.nth(i).get_attribute("data-symbol") for i in range(SYMBOLS)]
    assert symbols[0] == paused  # paused sorts before ok
    assert rows.nth(0).get_attribute("class") == "paused"
    assert sorted(symbols[1:]) == symbols[1:]
    counts = stored_counts(url, symbols)  # type: ignore[arg-type]
    for i, symbol in enumerate(symbols):
        shown = rows.nth(i).locator("td.rows").inner_text()
        assert int(shown.replace(",", "")) == counts[symbol]  # type: ignore[index]
    found = get_findings(url=url)["symbol"].value_counts().to_dict()
    shown_findings = {
        s: int(rows.nth(i).locator("td.findings").inner_text()) for i, s in enumerate(symbols)
    }
    assert shown_findings == {s: found.get(s, 0) for s in symbols}
    assert (
        page.locator("#summary").inner_text() == f"{SYMBOLS} assets · 1 paused · {SYMBOLS - 1} ok"
    )
    page.select_option("#exchange", "US")
    assert page.locator("#freshness tbody tr").count() == SYMBOLS
    assert "exchange=US" in page.url
    shot = tmp_path / "freshness.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_clicking_a_symbol_draws_its_chart(
    page: Any, serve: Serve, demo_sqlite: str, tmp_path: Path
) -> None:
    server = serve(demo_sqlite)
    page.goto(f"{server.url}/")
    wait_ready(page)
    symbol = page.locator("#freshness tbody tr").first.get_attribute("data-symbol")
    page.click(f"#freshness a:text-is('{symbol}')")
    page.wait_for_url(f"**/symbol/{symbol}")
    wait_ready(page, "all")
    plotted = candles(page)
    expected = get_bars_arrow(symbol, adjust="all", url=demo_sqlite).to_pylist()
    assert len(plotted) == len(expected)
    last, want = plotted[-1], expected[-1]
    assert last["time"] == want["date"].isoformat()
    assert (last["open"], last["high"], last["low"], last["close"]) == (
        want["open"],
        want["high"],
        want["low"],
        want["close"],
    )
    store = Store.open(demo_sqlite)
    try:
        stored = store.read_bars([symbol])[-1]  # type: ignore[list-item]
    finally:
        store.close()
    assert last["close"] == float(stored.close)  # nothing after the last bar to adjust for
    assert page.locator("#legend").get_attribute("data-close") == str(
        float(stored.close)
    ).removesuffix(".0")
    boxes = page.eval_on_selector_all("#chart canvas", "cs => cs.map(c => c.width * c.height)")
    assert max(boxes) > 100_000  # the chart painted into real canvases
    actions = page.locator("#actions tbody tr")
    assert actions.count() > 0
    markers = page.evaluate("window.dataNexusChart.markers.markers().length")
    assert markers == actions.count()  # every split and dividend is marked
    details = list(get_findings(symbol, url=demo_sqlite)["detail"])
    if details:
        page.wait_for_selector(f"#findings tbody tr:nth-child({len(details)})")
        assert page.locator("#findings tbody tr td.error").all_inner_texts() == details
    else:
        page.wait_for_selector("#findings-none:text('No findings')")
    shot = tmp_path / "symbol.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshots in {tmp_path}")


def test_adjust_toggle_changes_plotted_values(page: Any, serve: Serve, demo_sqlite: str) -> None:
    server = serve(demo_sqlite)
    symbol = "AAPL.US"
    page.goto(f"{server.url}/symbol/{symbol}")
    wait_ready(page, "all")
    adjusted = candles(page)
    page.click("#adjust button[data-adjust=none]")
    wait_ready(page, "none")
    raw = candles(page)
    assert "adjust=none" in page.url
    assert raw[0]["close"] != adjusted[0]["close"]
    store = Store.open(demo_sqlite)
    try:
        stored = store.read_bars([symbol])
    finally:
        store.close()
    assert [c["close"] for c in raw] == [float(b.close) for b in stored]
    page.click("#adjust button[data-adjust=splits]")
    wait_ready(page, "splits")
    split_only = [c["close"] for c in candles(page)]
    library = get_bars_arrow(symbol, adjust="splits", url=demo_sqlite).column("close").to_pylist()
    assert split_only == library
    assert page.locator("#adjust button[aria-pressed=true]").inner_text() == "splits"


def test_page_asks_for_the_token(page: Any, serve: Serve, demo_sqlite: str) -> None:
    server = serve(demo_sqlite, token="browser-token-1")
    page.goto(f"{server.url}/")
    page.wait_for_selector("#auth", state="visible")
    assert "access token" in page.locator("#message").inner_text()
    page.fill("#auth input[name=token]", "wrong")
    page.click("#auth button")
    page.wait_for_selector("#auth", state="visible")
    page.fill("#auth input[name=token]", "browser-token-1")
    page.click("#auth button")
    wait_ready(page)
    assert page.locator("#freshness tbody tr").count() == SYMBOLS
    page.click("#freshness tbody tr a")  # the token stays with the tab
    wait_ready(page, "all")
    assert len(candles(page)) > 0


def test_docs_render_offline(page: Any, serve: Serve, demo_sqlite: str) -> None:
    """/docs draws Swagger UI with every request kept on this server (no CDN)."""
    server = serve(demo_sqlite)
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)
    assert "/findings" in page.locator(".swagger-ui").inner_text()
    assert outside == []
