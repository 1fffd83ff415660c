"""The web page: a freshness table at ``/`` and a chart per symbol at ``/symbol/{symbol}``.

Both are static HTML shells (``static/*.html``) whose scripts read the JSON API; they hold
no data themselves, so they are served without the token (see :mod:`data_nexus.serve.auth`).
``/docs`` is the API reference (Swagger UI) from the vendored copy in ``static/vendor``, so it
works offline; version in :data:`SWAGGER_UI_VERSION` and ``static/vendor/README.md``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

#: The vendored ``swagger-ui-dist`` package (see ``static/vendor/README.md``).
SWAGGER_UI_VERSION = "5.35.0"


def _page(name: str) -> HTMLResponse:
    html = (files("data_nexus.serve") / "static" / name).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/")
def freshness_page() -> HTMLResponse:
    """Every asset's freshness: stale, failing and paused first."""
    return _page("index.html")


@router.get("/symbol/{symbol}")
def symbol_page(symbol: str) -> HTMLResponse:
    """One symbol: candlesticks with volume, splits and dividends marked, its findings."""
    del symbol  # the page's script reads it from the address
    return _page("symbol.html")


@router.get("/docs")
def api_docs() -> HTMLResponse:
    """The API reference: Swagger UI over ``/openapi.json``, all assets served locally."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Data Nexus · API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="data:,",
    )
