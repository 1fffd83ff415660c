"""The one place an :class:`EodhdClient` is built from :class:`~data_nexus.config.Settings`.

Every caller (``datanexus sync``, ``datanexus assets discover``, the Python API) gets the
same token, base URL, rate limit, timeout (``EODHD_TIMEOUT``) and retry policy
(``EODHD_MAX_RETRIES`` retries in all after a 429, a 5xx, a timeout, a connection error
or a malformed body); what differs per run (a
shared rate limiter or call budget, the concurrency, an event handler, a test transport) is
passed through.
"""

from __future__ import annotations

import httpx

from data_nexus.config import Settings
from data_nexus.providers.eodhd.client import DEFAULT_TIMEOUT, EodhdClient, EventHandler
from data_nexus.providers.eodhd.limits import CallBudget, RateLimiter
from data_nexus.providers.eodhd.retry import RetryPolicy


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry policy of ``settings``: ``EODHD_MAX_RETRIES`` retries (attempts = retries + 1)."""
    return RetryPolicy(max_attempts=settings.eodhd_max_retries + 1)


def timeout_of(settings: Settings) -> httpx.Timeout:
    """The HTTP timeout: ``EODHD_TIMEOUT`` seconds for every phase, else the default.

    The default (:data:`~data_nexus.providers.eodhd.client.DEFAULT_TIMEOUT`) connects within
    10 s and waits up to 120 s for each read, for the large bulk bodies.
    """
    seconds = settings.eodhd_timeout
    return DEFAULT_TIMEOUT if seconds is None else httpx.Timeout(seconds)


def make_client(
    settings: Settings,
    *,
    rate_limit: int | None = None,
    rate_limiter: RateLimiter | None = None,
    call_budget: CallBudget | None = None,
    concurrency: int = 8,
    on_event: EventHandler | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> EodhdClient:
    """An EODHD client configured from ``settings`` (use it as ``async with``).

    ``rate_limit`` (requests a minute) overrides ``EODHD_RATE_LIMIT`` for this client;
    ``rate_limiter``/``call_budget`` replace the client's in-memory ones (the sync shares
    them through the database). Raises :class:`ValueError` for an empty token or a
    concurrency below 1.
    """
    return EodhdClient(
        settings.token,
        base_url=settings.eodhd_base_url,
        transport=transport,
        rate_limit=rate_limit or settings.eodhd_rate_limit,
        rate_limiter=rate_limiter,
        call_budget=call_budget,
        concurrency=concurrency,
        retry=retry_policy(settings),
        timeout=timeout_of(settings),
        on_event=on_event,
    )
