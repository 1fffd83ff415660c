"""Small timing helpers: a stopwatch that accumulates, and latency percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Stopwatch:
    """Accumulates the time spent inside ``with watch.running():`` blocks."""

    seconds: float = 0.0

    @contextmanager
    def running(self) -> Iterator[None]:
        """Time the block and add it to :attr:`seconds`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds, and the sample count."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(sum(ms) / len(ms), 3) if ms else math.nan,
        "samples": len(ms),
    }


def time_calls(
    calls: dict[str, Callable[[object], object]],
    args: Sequence[object],
    *,
    warmup: int = 3,
) -> dict[str, list[float]]:
    """Time each named call on every argument, interleaving the calls per argument.

    Interleaving (``a(x0) b(x0) a(x1) b(x1) …``, alternating who goes first) exposes both
    contenders to the same cache state and background noise. The first ``warmup``
    arguments are run but not recorded.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for i, arg in enumerate(args):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            calls[name](arg)
            elapsed = time.perf_counter() - start
            if i >= warmup:
                samples[name].append(elapsed)
    return samples
