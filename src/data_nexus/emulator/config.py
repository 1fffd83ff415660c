"""Every knob of the emulator in one frozen dataclass."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from data_nexus.emulator.dirt_choice import DIRT_KINDS
from data_nexus.emulator.exchanges import EXCHANGES
from data_nexus.emulator.market import DEFAULT_START, Market
from data_nexus.errors import ConfigError
from data_nexus.exchanges import exchange_today

#: The token the emulator accepts unless told otherwise. ``demo`` is always accepted too,
#: with the real API's demo restrictions (a handful of symbols only).
DEFAULT_TOKEN = "test-token"  # noqa: S105 - a documented test key, not a secret
DEMO_TOKEN = "demo"  # noqa: S105 - EODHD's public demo key
DEMO_SYMBOLS = frozenset(
    {"AAPL.US", "MSFT.US", "TSLA.US", "VTI.US", "AMZN.US", "BTC-USD.CC", "EURUSD.FOREX"}
)


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Configuration of an :class:`~data_nexus.emulator.EmulatorServer`.

    Market: ``seed``, ``exchanges`` (any of US, LSE, XETRA, TO, FOREX, CC), ``symbols``
    active symbols per exchange (plus ``ceil(symbols * delisted_fraction)`` delisted ones),
    history from ``start`` to ``today`` (None: the current date when the server starts, in the
    time zone of the emulated exchange where it is earliest).

    Server: ``host``/``port`` (0 = a free port), ``token`` (the paid key; ``demo`` also
    works, restricted to the demo symbols).

    Plan and limits: ``bulk_enabled`` (off: bulk answers ``bulk_status``, 403 or 404),
    ``daily_limit`` calls per day (None = unlimited; reported as 10,000,000),
    ``rate_limit`` requests per ``rate_window`` seconds (None = unlimited), ``retry_after``
    (send ``Retry-After`` with 429), ``rate_limit_headers`` (send ``X-RateLimit-*``).

    Faults: ``latency_ms`` added to every API response, ``fail_rate`` of requests answered
    500/502/503, ``malformed_rate`` of 200 JSON bodies truncated or garbled, drawn from a
    generator seeded with ``seed``; ``timeout_seconds`` is how long a ``timeout`` fault
    stalls.

    Serving: ``warm`` renders every symbol's whole daily history before the server starts
    and keeps it (as a real API serves stored data instead of computing it per request);
    otherwise a history is generated and rendered when first asked for, and only the most
    recent ones are kept.

    Dirt: ``dirty`` kinds of real-world bad data (any of
    :data:`~data_nexus.emulator.dirt.DIRT_KINDS`, or ``("all",)``), each served for symbols
    chosen from ``seed``; see :mod:`data_nexus.emulator.dirt`.
    """

    seed: int = 42
    exchanges: tuple[str, ...] = ("US",)
    symbols: int = 20
    start: dt.date = DEFAULT_START
    today: dt.date | None = None
    delisted_fraction: float = 0.05
    host: str = "127.0.0.1"
    port: int = 0
    token: str = DEFAULT_TOKEN
    bulk_enabled: bool = True
    bulk_status: int = 403
    latency_ms: float = 0.0
    rate_limit: int | None = None
    rate_window: float = 60.0
    retry_after: bool = True
    rate_limit_headers: bool = True
    daily_limit: int | None = None
    fail_rate: float = 0.0
    malformed_rate: float = 0.0
    timeout_seconds: float = 30.0
    dirty: tuple[str, ...] = ()
    warm: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "exchanges", tuple(e.strip().upper() for e in self.exchanges))
        kinds = tuple(k.strip().lower() for k in self.dirty if k.strip())
        object.__setattr__(self, "dirty", DIRT_KINDS if "all" in kinds else kinds)
        problems = list(self._problems())
        if problems:
            raise ConfigError(f"invalid emulator setting: {problems[0]}")

    def _problems(self) -> list[str]:
        found = []
        unknown = [e for e in self.exchanges if e not in EXCHANGES]
        if not self.exchanges:
            found.append("exchanges: give at least one exchange code")
        if unknown:
            found.append(f"unknown exchange {unknown[0]!r} (known: {', '.join(EXCHANGES)})")
        if self.symbols < 1:
            found.append(f"symbols must be at least 1, not {self.symbols}")
        if self.today is not None and self.today < self.start:
            found.append(f"today {self.today} is before start {self.start}")
        if not 0 <= self.port <= 65535:
            found.append(f"port must be between 0 and 65535, not {self.port}")
        if not self.token.strip():
            found.append("token must not be empty")
        if self.bulk_status not in (403, 404):
            found.append(f"bulk_status must be 403 or 404, not {self.bulk_status}")
        if not self.host.strip():
            found.append("host must not be empty (an empty host listens on every address)")
        # Written as "not (valid)" so that NaN, for which every comparison is False, fails.
        for name in ("fail_rate", "malformed_rate", "delisted_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                found.append(f"{name} must be between 0 and 1, not {value}")
        if not (0 <= self.latency_ms < math.inf):
            found.append(f"latency_ms must be a number of at least 0, not {self.latency_ms}")
        if self.rate_limit is not None and self.rate_limit < 1:
            found.append(f"rate_limit must be at least 1, not {self.rate_limit}")
        if not (0 < self.rate_window < math.inf):
            found.append(f"rate_window must be a positive number, not {self.rate_window}")
        if self.daily_limit is not None and self.daily_limit < 0:
            found.append(f"daily_limit must not be negative, not {self.daily_limit}")
        strange = [k for k in self.dirty if k not in DIRT_KINDS]
        if strange:
            found.append(f"unknown dirt kind {strange[0]!r} (known: all, {', '.join(DIRT_KINDS)})")
        if not (0 <= self.timeout_seconds < math.inf):
            found.append(
                f"timeout_seconds must be a number of at least 0, not {self.timeout_seconds}"
            )
        return found

    def resolved_today(self, now: dt.datetime | None = None) -> dt.date:
        """``today``, or the current date when it is None (read once, here only).

        The current date is taken where it is earliest among the emulated exchanges (New
        York's for US): a real provider has no bar for a session that has not happened in
        the exchange's own time zone, even when it is already tomorrow in UTC.
        """
        if self.today is not None:
            return self.today
        now = now or dt.datetime.now(dt.UTC)
        return min(exchange_today(code, now) for code in self.exchanges)

    def build_market(self) -> Market:
        """The synthetic market this configuration describes."""
        return Market(
            today=max(self.resolved_today(), self.start),
            seed=self.seed,
            exchanges=self.exchanges,
            symbols=self.symbols,
            start=self.start,
            delisted_fraction=self.delisted_fraction,
        )
