"""What a registry call works on: an open :class:`Store`, or the settings to open one for it.

The registry functions (:mod:`data_nexus.assets`, :mod:`data_nexus.discovery`) take either,
so a caller holding a store (the sync, the web API) shares it and a one-off call opens its
own; :func:`opened` hides the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from data_nexus.config import Settings
from data_nexus.storage.store import Store


@contextmanager
def opened(target: Settings | Store) -> Iterator[Store]:
    """Use an open :class:`Store`, or open (and later close) one for ``settings``."""
    if isinstance(target, Store):
        yield target
        return
    store = Store.open(target)
    try:
        yield store
    finally:
        store.close()
