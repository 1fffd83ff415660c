"""The read side: adjusted and resampled bars, returns, actions, status and run history.

Pure cores (:mod:`.adjust`, :mod:`.resample`, :mod:`.returns`) work on NumPy arrays;
:mod:`.bars` and :mod:`.status` read through :mod:`data_nexus.storage.frames` (read-only) and
return DataFrames or Arrow tables; :class:`Nexus` is a handle with all of them as methods.
"""

from data_nexus.query.adjust import ADJUST_MODES
from data_nexus.query.bars import get_bars, get_bars_arrow, get_prices, get_returns
from data_nexus.query.nexus import Nexus
from data_nexus.query.resample import INTERVALS
from data_nexus.query.returns import RETURN_KINDS
from data_nexus.query.status import get_actions, get_runs, get_status

__all__ = [
    "ADJUST_MODES",
    "INTERVALS",
    "RETURN_KINDS",
    "Nexus",
    "get_actions",
    "get_bars",
    "get_bars_arrow",
    "get_prices",
    "get_returns",
    "get_runs",
    "get_status",
]
