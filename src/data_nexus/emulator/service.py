"""What the emulator answers to one request, in the order the real API seems to decide it.

For an API path: latency, then the per-minute limit (429, not charged), an unknown path (HTML
404), the token (401; ``demo`` only for the demo symbols), random and targeted server faults
(5xx/429, not charged), the plan (bulk off: 403 or 404), the daily allowance (402 when the
request's weight does not fit), then the endpoint itself (charged its weight; an invalid
symbol still costs 1), and finally body faults on a 200. Every API request is counted in
:class:`~data_nexus.emulator.stats.Stats`; ``/_admin`` requests are not.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from data_nexus.emulator.admin import handle_admin
from data_nexus.emulator.config import DEMO_SYMBOLS, DEMO_TOKEN, EmulatorConfig
from data_nexus.emulator.dirt import DirtBook
from data_nexus.emulator.endpoints import Api
from data_nexus.emulator.faults import ROW_KINDS, FaultBook, garble, truncate
from data_nexus.emulator.formats import dumps
from data_nexus.emulator.limits import DailyUsage, SlidingWindow
from data_nexus.emulator.market import Market
from data_nexus.emulator.messages import (
    FORBIDDEN,
    PAYMENT_REQUIRED,
    SERVER_ERRORS,
    TICKER_NOT_FOUND,
    TOO_MANY_REQUESTS,
    UNAUTHENTICATED,
    Request,
    Response,
    json_response,
    maintenance_page,
    not_found_page,
    text,
)
from data_nexus.emulator.routing import Route, route, weight
from data_nexus.emulator.stats import Stats

logger = logging.getLogger("data_nexus.emulator")
_DEMO_ENDPOINTS = ("eod", "splits", "div")


class EmulatorService:
    """The emulator's request handling, independent of sockets and threads."""

    def __init__(
        self,
        config: EmulatorConfig,
        market: Market,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.market = market
        market.build_calendars()
        self.dirt = DirtBook(market, config.dirty, config.seed)
        self.api = Api(market, self.dirt)
        if config.warm:
            self.api.warm(config.exchanges)
        self.stats = Stats()
        self.faults = FaultBook()
        self.usage = DailyUsage(config.daily_limit)
        self.window = (
            SlidingWindow(config.rate_limit, config.rate_window, clock)
            if config.rate_limit
            else None
        )
        self._sleep = sleep
        self._random = random.Random(config.seed)
        self._random_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        """The response to ``request`` (admin or API)."""
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            return handle_admin(self, request)
        found = route(request.path)
        if self.config.latency_ms > 0:
            self._sleep(self.config.latency_ms / 1000)
        try:
            response, charged = self._limited(found, request)
        except Exception:
            logger.exception("emulator failed on %s", found.endpoint)
            response, charged = text(500, SERVER_ERRORS[500]), 0
        self.stats.record(found.endpoint, found.target, response.status, charged)
        return response

    def advance(
        self,
        days: int = 1,
        *,
        splits: Mapping[str, str] | None = None,
        dividends: Mapping[str, Decimal | str | Sequence[Decimal | str]] | None = None,
    ) -> dt.date:
        """Move the market's today on, with the splits that ``plan_limited`` dirt brings."""
        if days < 1:
            raise ValueError("days must be at least 1")
        old = self.market.today
        due = self.dirt.splits_on_advance(old, old + dt.timedelta(days=days))
        due = {symbol: day for symbol, day in due.items() if symbol not in (splits or {})}
        wanted = {symbol: "4/1" for symbol in due} | dict(splits or {})
        today = self.market.advance(days, splits=wanted, dividends=dividends)
        self.dirt.record_splits(due)
        return today

    def stats_snapshot(self) -> dict[str, object]:
        """``GET /_admin/stats``."""
        return self.stats.snapshot(self.market.today.isoformat())

    # --- the pipeline -------------------------------------------------------------------------

    def _limited(self, found: Route, request: Request) -> tuple[Response, int]:
        headers: dict[str, str] = {}
        if self.window is not None:
            decision = self.window.acquire()
            if self.config.rate_limit_headers:
                headers["X-RateLimit-Limit"] = str(self.window.limit)
                headers["X-RateLimit-Remaining"] = str(decision.remaining)
            if not decision.allowed:
                response = text(429, TOO_MANY_REQUESTS)
                if self.config.retry_after:
                    response.headers["Retry-After"] = str(decision.retry_after)
                response.headers.update(headers)
                return response, 0
        response, charged = self._authorised(found, request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response, charged

    def _authorised(self, found: Route, request: Request) -> tuple[Response, int]:
        if found.endpoint == "other":
            return not_found_page(request.url), 0
        token = request.param("api_token") or ""
        if token == DEMO_TOKEN and token != self.config.token:
            demo_ok = found.endpoint == "user" or (
                found.endpoint in _DEMO_ENDPOINTS and found.target in DEMO_SYMBOLS
            )
            if not demo_ok:
                return text(401, UNAUTHENTICATED), 0
        elif token != self.config.token:
            return text(401, UNAUTHENTICATED), 0
        if self._chance(self.config.fail_rate):
            status = self._pick((500, 502, 503))
            return text(status, SERVER_ERRORS[status]), 0
        kind = self.faults.take(found.target, found.endpoint)
        if kind in ("500", "502", "503"):
            return text(int(kind), SERVER_ERRORS[int(kind)]), 0
        if kind == "429":
            response = text(429, TOO_MANY_REQUESTS)
            if self.config.retry_after:
                response.headers["Retry-After"] = "1"
            return response, 0
        if kind == "timeout":
            self._sleep(self.config.timeout_seconds)
        if found.endpoint == "eod-bulk-last-day" and not self.config.bulk_enabled:
            status = self.config.bulk_status
            return text(status, FORBIDDEN if status == 403 else "Not Found"), 0
        today = self.market.today
        if not self.usage.allows(token, weight(found, request), today):
            return text(402, PAYMENT_REQUIRED), 0
        if kind == "404":
            response, charged = text(404, TICKER_NOT_FOUND), 1
        elif found.endpoint == "user":  # charged first: apiRequests includes this call
            self.usage.charge(token, 1, today)
            response, charged = self._user(token), 1
        else:
            mutation = kind if kind in ROW_KINDS else None
            response, charged = self.api.respond(found, request, mutation)
        if found.endpoint != "user":
            self.usage.charge(token, charged, today)
        if response.status == 200:
            response = self._mangled(response, kind)
        return response, charged

    def _user(self, token: str) -> Response:
        demo = token == DEMO_TOKEN and token != self.config.token
        today = self.market.today
        body = {
            "name": "Demo User" if demo else "Data Nexus Emulator",
            "email": "demo@example.invalid" if demo else "emulator@example.invalid",
            "subscriptionType": "demo" if demo else "monthly",
            "paymentMethod": "Not Available" if demo else "Stripe",
            "apiRequests": self.usage.used(token, today),
            "apiRequestsDate": today,
            "dailyRateLimit": self.usage.reported_limit,
            "extraLimit": 0,
            "inviteToken": None,
            "inviteTokenClicked": 0,
            "subscriptionMode": "demo" if demo else "paid",
            "canManageOrganizations": False,
            "availableDataFeeds": ["EOD Historical Data"],
            "availableMarketplaceDataFeeds": [],
        }
        return json_response(dumps(body))

    def _mangled(self, response: Response, kind: str | None) -> Response:
        if kind == "truncated":
            response.body = truncate(response.body)
        elif kind == "garbled":
            response.body = garble(response.body)
        elif kind == "html":
            return maintenance_page()
        elif kind == "disconnect":
            response.disconnect = True
        elif kind is None and response.is_json and self._chance(self.config.malformed_rate):
            with self._random_lock:
                cut, where = self._random.random() < 0.5, self._random.uniform(0.2, 0.8)
            response.body = truncate(response.body, where) if cut else garble(response.body, where)
        return response

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._random_lock:
            return self._random.random() < rate

    def _pick(self, options: tuple[int, ...]) -> int:
        with self._random_lock:
            return options[int(self._random.random() * len(options))]
