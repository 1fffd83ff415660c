"""Retry policy: exponential backoff with full jitter, a cap, and ``Retry-After`` (pure)."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries transient failures.

    - ``max_attempts``: total tries of one request (the first try included), whatever the
      retried failures were: 429, 5xx, timeouts, connection errors and malformed bodies
      share this one budget.
    - ``base_delay``/``max_delay``: the backoff before retry *n* (1-based) is
      ``random() * min(max_delay, base_delay * 2**(n-1))`` ("full jitter").
    - ``max_retry_after``: the longest ``Retry-After`` the client will wait; a longer one makes
      it give up at once (``RateLimited``/``ProviderUnavailable``).
    - ``malformed_retries``: at most this many of those retries may follow a 200 body that
      is not valid JSON at all (truncated, garbled, an HTML page: transport corruption).
      Well-formed bodies with bad values are never retried.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    malformed_retries: int = 2

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.malformed_retries < 0:
            raise ValueError("max_attempts must be ≥ 1 and malformed_retries ≥ 0")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry: int, random: float) -> float:
        """Seconds to wait before retry number ``retry`` (1-based), given ``random`` in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(retry - 1, 60))
        return random * ceiling


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Returns ``None`` when absent or unparseable, ``0.0`` for a date in the past. ``now`` must
    be timezone-aware (UTC).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC in RFC 5322 terms
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())
