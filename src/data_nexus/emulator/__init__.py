"""An EODHD-compatible HTTP server with a deterministic synthetic market.

Used by end-to-end tests, benchmarks and the offline demo (``datanexus fake-eodhd``)::

    from data_nexus.emulator import EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(seed=7, symbols=50)) as server:
        server.base_url, server.token      # point the client here
        server.market.bars("AAPL.US")      # what /eod/AAPL.US serves, as records
        server.set_fault("AAPL.US", "500", count=2)
        server.stats()["requests"]["eod"]
        server.add_dirt("MSFT.US", "null_prices")   # real-world bad data; see emulator.dirt
        server.truth()                              # what was injected, for assertions
"""

from data_nexus.emulator.config import DEFAULT_TOKEN, DEMO_SYMBOLS, DEMO_TOKEN, EmulatorConfig
from data_nexus.emulator.dirt_choice import DIRT_KINDS
from data_nexus.emulator.exchanges import EXCHANGES
from data_nexus.emulator.faults import FAULT_KINDS
from data_nexus.emulator.injected import Injected
from data_nexus.emulator.market import Market
from data_nexus.emulator.server import EmulatorServer

__all__ = [
    "DEFAULT_TOKEN",
    "DEMO_SYMBOLS",
    "DEMO_TOKEN",
    "DIRT_KINDS",
    "EXCHANGES",
    "FAULT_KINDS",
    "EmulatorConfig",
    "EmulatorServer",
    "Injected",
    "Market",
]
