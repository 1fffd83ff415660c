"""Events the EODHD client emits through its ``on_event`` callback (progress is an event).

Small frozen dataclasses; their texts are already redacted (never the API token).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestRetried:
    """A request failed transiently and will be sent again after ``delay_s`` seconds.

    ``attempt`` is the number of the try that failed (1 = the first); ``reason`` is short,
    e.g. ``HTTP 429``, ``HTTP 503``, ``ReadTimeout``, ``malformed body``.
    """

    endpoint: str
    symbol: str | None
    attempt: int
    reason: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class ProviderWarning:
    """A body parsed, but with something worth telling: the free plan's one-year limit,
    skipped all-zero rows, a rounded fractional volume."""

    symbol: str | None
    text: str


ProviderEvent = RequestRetried | ProviderWarning
