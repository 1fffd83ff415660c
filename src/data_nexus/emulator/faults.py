"""Injected faults: targeted ones set by tests, and the body manglers behind them.

A targeted fault hits requests for one symbol (``AAPL.US``), one exchange (``US``, for bulk
and symbol lists) or any request (``*``), optionally on one endpoint only, ``count`` times
or until cleared. Faults are taken first-in first-out.

Kinds:

- ``500``, ``502``, ``503``: a plain-text server error (not charged);
- ``429``: too many requests, with ``Retry-After: 1`` (not charged);
- ``404``: ``Ticker Not Found.`` (charged, as an invalid symbol is);
- ``truncated``: the 200 body cut in the middle (``Content-Length`` matches the cut body);
- ``garbled``: the 200 body with junk inserted outside any string, so it is not JSON;
- ``html``: an HTML maintenance page with status 200;
- ``negative_price``: valid JSON whose middle row has a negative close (or dividend);
- ``duplicate_date``: valid JSON whose middle row appears twice;
- ``timeout``: the answer is held back ``timeout_seconds`` (longer than a client waits);
- ``disconnect``: headers promise the whole body, half is sent, the connection drops.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from data_nexus.emulator.exchanges import EXCHANGES, US_VENUES
from data_nexus.emulator.market import normalize_symbol

STATUS_KINDS = ("500", "502", "503", "429", "404")
BODY_KINDS = ("truncated", "garbled", "html", "disconnect")
ROW_KINDS = ("negative_price", "duplicate_date")
FAULT_KINDS = (*STATUS_KINDS, *BODY_KINDS, *ROW_KINDS, "timeout")
ANY = "*"
_JUNK = b"?#garbled#?"


def fault_target(target: str) -> str:
    """The canonical form of a fault target: ``*``, an exchange code or ``CODE.EXCHANGE``."""
    text = target.strip().upper()
    if text == ANY or text in EXCHANGES or text in US_VENUES:
        return text
    code, exchange = normalize_symbol(text)
    return f"{code}.{exchange}"


@dataclass(slots=True)
class Fault:
    """One targeted fault; ``remaining`` None means until cleared."""

    target: str
    kind: str
    remaining: int | None = None
    endpoint: str | None = None


class FaultBook:
    """The targeted faults currently set (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self, target: str, kind: str, count: int | None = None, endpoint: str | None = None
    ) -> Fault:
        """Set a fault; :class:`ValueError` for an unknown kind or a count below 1."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        fault = Fault(fault_target(target), kind, count, endpoint or None)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, target: str | None, endpoint: str) -> str | None:
        """The kind of the first fault matching a request, counting it down; else None."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.target not in (ANY, target):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[index]
                return fault.kind
        return None

    def snapshot(self) -> list[dict[str, object]]:
        """The faults still set, as plain dicts."""
        with self._lock:
            return [asdict(fault) for fault in self._faults]


def truncate(body: bytes, fraction: float = 0.5) -> bytes:
    """``body`` cut strictly inside, so a JSON array or object no longer parses."""
    if len(body) < 2 or body[:1] not in (b"[", b"{"):
        return garble(body, fraction)
    return body[: max(1, min(len(body) - 1, int(len(body) * fraction)))]


def garble(body: bytes, fraction: float = 0.5) -> bytes:
    """``body`` with junk inserted near ``fraction`` of its length, outside any JSON string."""
    position = min(len(body), max(1, int(len(body) * fraction)))
    if body.count(b'"', 0, position) % 2:  # inside a string: move past its closing quote
        closing = body.find(b'"', position)
        position = len(body) if closing < 0 else closing + 1
    return body[:position] + _JUNK + body[position:]
