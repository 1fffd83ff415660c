"""Stable randomness for the synthetic market.

Everything the emulator invents derives from ``(seed, name, ...)`` through a keyed hash, never
from Python's per-process ``hash()``, so two runs with the same seed serve the same bytes.
Uniform numbers come either from :func:`unit` (a splitmix64 finaliser over a key and an
index: random access, no state) or from numpy's PCG64 stream drawn with ``random()`` only,
whose output is fixed by the bit generator (unlike numpy's normal or choice methods).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_SALT = 0xD1B54A32D192ED03
T = TypeVar("T")


def stable_key(*parts: object) -> int:
    """A 64-bit key from the text of ``parts`` (stable across runs and platforms)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def unit(key: int, index: int, salt: int = 0) -> float:
    """A uniform number in ``[0, 1)`` for ``(key, index, salt)``, without any state."""
    z = (key + (index + 1) * _GOLDEN + (salt + 1) * _SALT) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def generator(key: int) -> np.random.Generator:
    """A numpy generator for ``key``; draw from it with ``random()`` only (stable output)."""
    return np.random.Generator(np.random.PCG64(key))


class Draws:
    """A sequential stream of uniform numbers for one key, with small helpers."""

    def __init__(self, key: int) -> None:
        self._key = key
        self._index = 0

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        """The next number, uniform in ``[low, high)``."""
        self._index += 1
        return low + (high - low) * unit(self._key, self._index)

    def integer(self, low: int, high: int) -> int:
        """The next integer, uniform in ``[low, high]``."""
        return low + min(high - low, int(self.uniform() * (high - low + 1)))

    def normal(self) -> float:
        """The next standard normal number (Box-Muller over two uniforms)."""
        radius = math.sqrt(-2.0 * math.log(1.0 - self.uniform()))
        return radius * math.cos(2.0 * math.pi * self.uniform())

    def chance(self, probability: float) -> bool:
        """True with ``probability``."""
        return self.uniform() < probability

    def choice(self, items: Sequence[T]) -> T:
        """One of ``items``, uniformly."""
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, items: Sequence[tuple[T, float]]) -> T:
        """One of ``items`` (value, weight), with probability proportional to weight."""
        total = sum(weight for _, weight in items)
        point = self.uniform() * total
        for value, weight in items:
            point -= weight
            if point < 0:
                return value
        return items[-1][0]
