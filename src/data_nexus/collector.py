"""Pausing Python's cyclic garbage collector around bulk building of acyclic records.

Parsing a body, writing a chunk and reading a history each allocate tens of thousands of
container objects (row tuples, bars) that hold no reference cycles: reference counting
frees every one of them, and the cyclic collector can find no garbage among them. Yet it
runs every 700 allocations, and its older generations walk everything alive in the
process (in a sync: the bars of every asset in flight). Measured on a first sync of 150
full-depth histories it took about 15 % of the CPU; on a 20-year read it doubled the time
(see docs/benchmarks.md). :func:`paused` switches it off for such a block only.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; back on afterwards if it was on.

    Threads may nest and overlap such blocks: whichever found it on turns it back on, so
    it ends on whenever it was on before. Only for blocks that create no reference cycles
    (they would wait for the next collection, not leak).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
