"""Counters of what the emulator was asked and how it answered (``GET /_admin/stats``)."""

from __future__ import annotations

import threading
from collections import Counter

#: Endpoint names as counted; every path the API does not know counts as ``other``.
ENDPOINTS = (
    "eod",
    "splits",
    "div",
    "eod-bulk-last-day",
    "exchange-symbol-list",
    "exchanges-list",
    "user",
    "other",
)
#: Endpoints counted per symbol (or per exchange, for bulk and symbol lists).
TARGETED = ("eod", "splits", "div", "eod-bulk-last-day", "exchange-symbol-list")


class Stats:
    """Thread-safe request counters; admin requests are never counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()
            self._targets: dict[str, Counter[str]] = {name: Counter() for name in TARGETED}
            self._charged = 0

    def record(self, endpoint: str, target: str | None, status: int, charged: int) -> None:
        """Count one API request, whatever its answer."""
        with self._lock:
            self._requests[endpoint] += 1
            self._statuses[status] += 1
            if target is not None and endpoint in self._targets:
                self._targets[endpoint][target] += 1
            self._charged += charged

    def snapshot(self, today: str) -> dict[str, object]:
        """The counters in the documented shape (plus ``by_symbol`` and ``today``)."""
        with self._lock:
            return {
                "requests": {name: self._requests[name] for name in ENDPOINTS},
                "by_status": {str(code): n for code, n in sorted(self._statuses.items())},
                "calls_charged": self._charged,
                "by_symbol": {name: dict(sorted(c.items())) for name, c in self._targets.items()},
                "today": today,
            }
