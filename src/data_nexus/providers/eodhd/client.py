"""The asynchronous EODHD client: requests, limits, retries; parsing is delegated to the pure
parsers in :mod:`~data_nexus.providers.eodhd.parse` and ``parse_meta``.

One client per run: it pools connections (``httpx.AsyncClient``), bounds concurrent requests
(an ``asyncio.Semaphore``), paces them (a :class:`RateLimiter`), charges a :class:`CallBudget`
*before* sending, and retries transient failures (429, 5xx, timeouts, broken connections, and
200 bodies that are not JSON at all) with exponential backoff and full jitter, honouring
``Retry-After``. The API token is added by :class:`TokenTransport` below httpx, so no request
httpx logs or keeps carries it; every message is built from redacted text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random as _random
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from data_nexus.clock import Clock, utcnow
from data_nexus.errors import MalformedBody, ProviderUnavailable
from data_nexus.providers.eodhd.events import ProviderEvent, ProviderWarning, RequestRetried
from data_nexus.providers.eodhd.limits import (
    ENDPOINT_WEIGHTS,
    CallBudget,
    InMemoryCallBudget,
    Monotonic,
    RateLimiter,
    Sleep,
    TokenBucket,
    bulk_weight,
)
from data_nexus.providers.eodhd.parse import (
    parse_bulk_dividends,
    parse_bulk_eod,
    parse_bulk_splits,
    parse_dividends,
    parse_eod,
    parse_splits,
)
from data_nexus.providers.eodhd.parse_meta import parse_exchanges, parse_symbol_list, parse_user
from data_nexus.providers.eodhd.retry import RetryPolicy
from data_nexus.providers.eodhd.status import (
    BULK_ENDPOINT,
    Failure,
    classify,
    gave_up,
    too_long,
)
from data_nexus.providers.eodhd.transport import TokenTransport
from data_nexus.records import (
    ApiUsage,
    Bar,
    Dividend,
    ExchangeInfo,
    ListedSymbol,
    Parsed,
    Split,
)
from data_nexus.redact import redact, safe_url

DEFAULT_BASE_URL = "https://eodhd.com/api"
#: Connect quickly or fail; reading the ~6.5 MB bulk US body may take a while.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=60.0)

T = TypeVar("T")
EventHandler = Callable[[ProviderEvent], None]


class EodhdClient:
    """Asynchronous client of the EODHD end-of-day API; use as ``async with``.

    ``token`` is kept inside the transport and never shown (no ``repr``, no message).
    ``transport`` replaces the network (``httpx.MockTransport`` in tests). Rate limiting is
    ``rate_limit`` requests per ``rate_window`` seconds unless a shared ``rate_limiter`` is
    given; the daily allowance is ``daily_budget`` weighted calls (``None``: unlimited)
    unless a shared ``call_budget`` is given. ``sleep`` (backoff waits), ``clock``
    (monotonic seconds), ``now`` (UTC-aware wall clock) and ``random`` (jitter) are
    injectable for tests; the default rate limiter uses the real clock.

    Counters: ``requests_sent`` (every HTTP request, retries included) and ``calls_spent``
    (weighted calls charged and not refunded).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: int = 1000,
        rate_window: float = 60.0,
        rate_limiter: RateLimiter | None = None,
        concurrency: int = 8,
        daily_budget: int | None = None,
        call_budget: CallBudget | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        on_event: EventHandler | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Monotonic = time.monotonic,
        now: Clock = utcnow,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if not token:
            raise ValueError("an EODHD API token is required")
        if concurrency < 1:
            raise ValueError("concurrency must be ≥ 1")
        self.base_url = base_url.rstrip("/")
        self._secrets = (token,)
        inner = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            retries=0,
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            transport=TokenTransport(inner, token),
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "data-nexus"},
            follow_redirects=False,
        )
        self._limiter: RateLimiter = rate_limiter or TokenBucket(rate_limit, rate_window)
        self._budget: CallBudget = call_budget or InMemoryCallBudget(daily_budget, now=now)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._retry = retry or RetryPolicy()
        self._on_event = on_event
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._random = random
        self._cooldown_until = 0.0
        self.requests_sent = 0
        self.calls_spent = 0

    def __repr__(self) -> str:
        return (
            f"EodhdClient(base_url={safe_url(self.base_url)!r}, "
            f"requests_sent={self.requests_sent}, calls_spent={self.calls_spent})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool and the transport."""
        await self._http.aclose()

    # --- endpoints ----------------------------------------------------------------------

    async def eod(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Bar]:
        """Daily bars of ``symbol`` (``CODE.EXCHANGE``) from ``start`` to ``end`` inclusive."""
        return await self._call(
            "eod",
            symbol,
            _range(start, end),
            lambda b: parse_eod(b, symbol, secrets=self._secrets),
        )

    async def splits(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Split]:
        """Splits of ``symbol`` with ex-dates in ``[start, end]``."""
        return await self._call(
            "splits",
            symbol,
            _range(start, end),
            lambda b: parse_splits(b, symbol, secrets=self._secrets),
        )

    async def dividends(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Dividend]:
        """Dividends of ``symbol`` with ex-dates in ``[start, end]``."""
        return await self._call(
            "div",
            symbol,
            _range(start, end),
            lambda b: parse_dividends(b, symbol, secrets=self._secrets),
        )

    async def bulk_eod(
        self, exchange: str, *, day: dt.date | None = None, symbols: Sequence[str] | None = None
    ) -> Parsed[Bar]:
        """One day (default: the last trading day) of bars for a whole exchange.

        Costs 100 calls, plus one per symbol when ``symbols`` (codes) narrows it. Raises
        :class:`BulkUnavailable` (a ``NotInPlan``) when the plan lacks the endpoint.
        """
        params = _day(day)
        if symbols:
            params["symbols"] = ",".join(symbols)
        return await self._call(
            BULK_ENDPOINT,
            exchange,
            params,
            lambda b: parse_bulk_eod(b, exchange, secrets=self._secrets),
            weight=bulk_weight(len(symbols or ())),
        )

    async def bulk_splits(self, exchange: str, *, day: dt.date | None = None) -> Parsed[Split]:
        """One day of splits for a whole exchange (100 calls)."""
        return await self._call(
            BULK_ENDPOINT,
            exchange,
            {"type": "splits", **_day(day)},
            lambda b: parse_bulk_splits(b, exchange, secrets=self._secrets),
            weight=bulk_weight(),
        )

    async def bulk_dividends(
        self, exchange: str, *, day: dt.date | None = None
    ) -> Parsed[Dividend]:
        """One day of dividends for a whole exchange (100 calls)."""
        return await self._call(
            BULK_ENDPOINT,
            exchange,
            {"type": "dividends", **_day(day)},
            lambda b: parse_bulk_dividends(b, exchange, secrets=self._secrets),
            weight=bulk_weight(),
        )

    async def symbol_list(
        self, exchange: str, *, asset_type: str | None = None, delisted: bool = False
    ) -> Parsed[ListedSymbol]:
        """The symbols listed on ``exchange``; ``asset_type`` is EODHD's ``type`` filter
        (``common_stock``, ``etf``, …); ``delisted=True`` sends ``delisted=1`` and marks the
        records as delisted."""
        params: dict[str, str] = {}
        if asset_type:
            params["type"] = asset_type
        if delisted:
            params["delisted"] = "1"
        return await self._call(
            "exchange-symbol-list",
            exchange,
            params,
            lambda b: parse_symbol_list(b, exchange, delisted=delisted, secrets=self._secrets),
        )

    async def exchanges(self) -> Parsed[ExchangeInfo]:
        """The exchanges EODHD covers."""
        return await self._call(
            "exchanges-list", None, {}, lambda b: parse_exchanges(b, secrets=self._secrets)
        )

    async def user(self) -> ApiUsage:
        """The account's quota (``/api/user``)."""
        return await self._call("user", None, {}, lambda b: parse_user(b, secrets=self._secrets))

    # --- machinery ----------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        target: str | None,
        params: dict[str, str],
        parse: Callable[[bytes], T],
        *,
        weight: int | None = None,
    ) -> T:
        """Send with retries, parse, emit warnings."""
        if target is not None and not target.strip():
            raise ValueError(f"{endpoint}: an empty symbol or exchange code")
        path = endpoint if target is None else f"{endpoint}/{quote(target, safe='')}"
        query = {**params, "fmt": "json"}
        cost = ENDPOINT_WEIGHTS[endpoint] if weight is None else weight
        tries = malformed = 0  # one budget: every try of this request counts, whatever failed
        while True:
            outcome = await self._attempt(path, query, cost, endpoint=endpoint, target=target)
            tries += 1
            if isinstance(outcome, bytes):
                try:
                    result = parse(outcome)
                except MalformedBody as exc:
                    malformed += 1
                    if (
                        malformed > self._retry.malformed_retries
                        or tries >= self._retry.max_attempts
                    ):
                        raise
                    outcome = Failure(exc, transient=True, reason="malformed body")
                    await self._retry_wait(endpoint, target, tries, outcome)
                    continue
                self._emit_warnings(target, result)
                return result
            if tries >= self._retry.max_attempts:
                raise gave_up(outcome.error, tries)
            await self._retry_wait(endpoint, target, tries, outcome)

    async def _attempt(
        self, path: str, query: dict[str, str], cost: int, *, endpoint: str, target: str | None
    ) -> bytes | Failure:
        """One HTTP request: the 200 body, a transient :class:`Failure`, or a raised error."""
        wait = self._cooldown_until - self._clock()
        if wait > 0:
            await self._sleep(wait)
        await self._budget.charge(cost)  # raises QuotaExhausted before anything is sent
        self.calls_spent += cost
        sent = False
        try:
            async with self._semaphore:
                await self._limiter.acquire()
                self.requests_sent += 1
                sent = True
                response = await self._http.get(path, params=query)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            await self._refund(cost)  # never reached the provider
            return self._transport_failure(exc, endpoint, target)
        except httpx.RequestError as exc:  # read timeouts, dropped connections, bad encoding
            return self._transport_failure(exc, endpoint, target)
        except BaseException:  # cancelled, or a shared limiter failed, before sending
            if not sent:
                await self._refund(cost)
            raise
        if response.status_code == 200:
            return response.content
        failure = classify(
            response.status_code,
            response.content,
            response.headers,
            endpoint=endpoint,
            target=target,
            now=self._now(),
            secrets=self._secrets,
        )
        if response.status_code == 402 or failure.transient:
            await self._refund(cost)  # 5xx and refusals are not charged
        if not failure.transient:
            raise failure.error
        return failure

    def _transport_failure(
        self, exc: httpx.RequestError, endpoint: str, target: str | None
    ) -> Failure:
        what = f"{endpoint} {target}" if target else endpoint
        detail = redact(str(exc), self._secrets)
        text = f"EODHD request {what} failed: {type(exc).__name__}"
        if detail:
            text += f" ({' '.join(detail.split())[:120]})"
        return Failure(ProviderUnavailable(text), transient=True, reason=type(exc).__name__)

    async def _refund(self, cost: int) -> None:
        await self._budget.refund(cost)
        self.calls_spent -= cost

    async def _retry_wait(
        self, endpoint: str, target: str | None, attempt: int, failure: Failure
    ) -> None:
        """Sleep before the next try; give up at once when ``Retry-After`` is too long."""
        delay = self._retry.backoff(attempt, self._random())
        retry_after = failure.retry_after
        if retry_after is not None:
            if retry_after > self._retry.max_retry_after:
                raise too_long(failure.error, retry_after, self._retry.max_retry_after)
            delay = max(delay, retry_after)
            self._cooldown_until = max(self._cooldown_until, self._clock() + retry_after)
        self._emit(RequestRetried(endpoint, target, attempt, failure.reason, round(delay, 3)))
        await self._sleep(delay)

    def _emit_warnings(self, target: str | None, result: Any) -> None:
        for text in getattr(result, "warnings", ()):
            self._emit(ProviderWarning(target, text))

    def _emit(self, event: ProviderEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)


def _range(start: dt.date | None, end: dt.date | None) -> dict[str, str]:
    if start and end and start > end:
        raise ValueError(f"start {start} is after end {end}")
    params = {}
    if start:
        params["from"] = start.isoformat()
    if end:
        params["to"] = end.isoformat()
    return params


def _day(day: dt.date | None) -> dict[str, str]:
    return {"date": day.isoformat()} if day else {}
