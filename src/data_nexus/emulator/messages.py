"""HTTP requests and responses as plain values, independent of the socket server."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=UTF-8"

UNAUTHENTICATED = "Unauthenticated"
PAYMENT_REQUIRED = (
    "You exceeded your daily API requests limit.  Please contact support@eodhistoricaldata.com"
)
FORBIDDEN = "Forbidden. Please contact support@eodhistoricaldata.com"
TICKER_NOT_FOUND = "Ticker Not Found."
SYMBOL_NOT_FOUND = "Symbol not found"
TOO_MANY_REQUESTS = "Too Many Requests"
SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class Request:
    """One request: method, decoded path, query parameters and the URL as received."""

    method: str
    path: str
    query: dict[str, list[str]]
    url: str

    @classmethod
    def from_target(cls, method: str, target: str, host: str) -> Request:
        """Parse a request target (``/api/eod/AAPL.US?fmt=json``) received with ``host``."""
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            url=f"http://{host}{target}",
        )

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        """Every value of query parameter ``name``."""
        return list(self.query.get(name, ()))


@dataclass(slots=True)
class Response:
    """A response to write. ``disconnect`` sends half the body and drops the connection."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False

    @property
    def is_json(self) -> bool:
        """Whether the body is (meant to be) JSON."""
        return self.content_type == JSON


def text(status: int, body: str) -> Response:
    """A short plain-text response, as EODHD sends its errors."""
    return Response(status, body.encode(), TEXT)


def json_response(body: str, status: int = 200) -> Response:
    """A JSON response from already encoded text."""
    return Response(status, body.encode(), JSON)


def csv_response(body: str) -> Response:
    """A CSV response."""
    return Response(200, body.encode(), CSV)


def not_found_page(url: str) -> Response:
    """The HTML 404 page of an unknown path; like the real one it echoes the URL, key and all."""
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n"
        f"<p>The requested URL {html.escape(url)} was not found on this server.</p>\n"
        "</body>\n</html>\n"
    )
    return Response(404, page.encode(), HTML)


def maintenance_page() -> Response:
    """An HTML page served with 200 where JSON was expected (a proxy or maintenance page)."""
    page = (
        "<!DOCTYPE html>\n<html><head><title>EODHD</title></head>\n<body><h1>We'll be back "
        "soon</h1><p>Scheduled maintenance is in progress.</p></body></html>\n"
    )
    return Response(200, page.encode(), HTML)
