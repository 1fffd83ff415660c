"""The per-minute request limit and the daily call allowance, as the real API applies them."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: What ``/user`` reports as the daily limit when the emulator enforces none.
UNLIMITED_DAILY = 10_000_000


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """Whether a request may proceed, and what the rate-limit headers should say."""

    allowed: bool
    remaining: int
    retry_after: int  # whole seconds until a slot frees (0 when allowed)


class SlidingWindow:
    """At most ``limit`` accepted requests in any ``window`` seconds (a sliding log).

    Only accepted requests enter the log, so a client that keeps hammering while limited
    does not extend its own penalty.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> WindowDecision:
        """Take a slot if one is free."""
        with self._lock:
            now = self._clock()
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            if len(self._accepted) >= self.limit:
                wait = self._accepted[0] + self.window - now
                return WindowDecision(False, 0, max(1, math.ceil(wait)))
            self._accepted.append(now)
            return WindowDecision(True, self.limit - len(self._accepted), 0)

    def reset(self) -> None:
        """Forget every accepted request."""
        with self._lock:
            self._accepted.clear()


class DailyUsage:
    """API calls charged per token on the emulated day; the count restarts on a new day."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._used: dict[str, int] = {}
        self._day: dt.date | None = None
        self._lock = threading.Lock()

    def _roll(self, today: dt.date) -> None:
        if self._day != today:
            self._day, self._used = today, {}

    def allows(self, token: str, weight: int, today: dt.date) -> bool:
        """Whether ``weight`` more calls fit in the token's remaining allowance today."""
        with self._lock:
            self._roll(today)
            return self.limit is None or self._used.get(token, 0) + weight <= self.limit

    def charge(self, token: str, weight: int, today: dt.date) -> None:
        """Count ``weight`` calls for ``token`` today."""
        with self._lock:
            self._roll(today)
            self._used[token] = self._used.get(token, 0) + weight

    def used(self, token: str, today: dt.date) -> int:
        """Calls charged to ``token`` today."""
        with self._lock:
            self._roll(today)
            return self._used.get(token, 0)

    @property
    def reported_limit(self) -> int:
        """The daily limit as ``/user`` reports it."""
        return UNLIMITED_DAILY if self.limit is None else self.limit
