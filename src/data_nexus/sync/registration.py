"""What a sync run does about the registry beyond its assets' data.

A run registers the symbols named on its command line before planning; the ones the
provider never confirmed are taken back when it ends (:func:`unregister_unconfirmed`). A run
restricted to an exchange with nothing registered on it is refused with a line saying why
(:func:`no_assets_on`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from data_nexus.assets import drop_unconfirmed
from data_nexus.discovery import LIST_EXCHANGES_HINT
from data_nexus.exchanges import known_exchange
from data_nexus.storage.store import Store
from data_nexus.sync.events import EventHandler, Notice


def no_assets_on(exchange: str) -> str:
    """Why ``sync --exchange CODE`` has nothing to do: no registered asset is on ``CODE``."""
    if known_exchange(exchange):
        return (
            f"no assets registered on exchange {exchange}: register its listing with "
            f"'datanexus assets discover {exchange}', or name symbols (CODE.{exchange})"
        )
    return (
        f"unknown exchange {exchange!r}: no registered asset is on it and it is not an EODHD "
        f"exchange code Data Nexus knows ({LIST_EXCHANGES_HINT})"
    )


async def unregister_unconfirmed(
    store: Store, emit: EventHandler, added: Sequence[str], not_found: set[str], owner: str
) -> None:
    """Take back the registration of symbols this run added that the provider never
    confirmed, however the run ended (see :func:`~data_nexus.assets.drop_unconfirmed`).

    A mistyped symbol must not stay behind as a failing asset that every later sync
    retries, and a symbol the run never reached (Ctrl-C, a refused token, the quota) must
    not look registered as if real: both are removed (they have no data) and a notice
    says so; running the same command again registers and fetches them. A process killed
    outright (``kill -9``) cannot do this: its symbols stay, shown as never synced.
    """
    if not added:
        return
    dropped = await asyncio.to_thread(
        drop_unconfirmed, store, list(added), owner=owner, not_found=sorted(not_found)
    )
    for symbol in dropped:
        if symbol in not_found:
            text = f"{symbol} is not known to the provider: it was not registered"
        else:
            text = (
                f"{symbol} was not registered: the run stopped before fetching it "
                "(run the same command again)"
            )
        emit(Notice(symbol, text))
