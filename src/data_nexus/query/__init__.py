"""The read side: adjusted and resampled bars, returns, status, export and import.

Pure cores (:mod:`.adjust`, :mod:`.resample`, :mod:`.returns`) work on NumPy arrays;
:mod:`.bars` reads through :mod:`data_nexus.storage.frames` and returns DataFrames.
"""

from data_nexus.query.adjust import ADJUST_MODES
from data_nexus.query.resample import INTERVALS
from data_nexus.query.returns import RETURN_KINDS

__all__ = ["ADJUST_MODES", "INTERVALS", "RETURN_KINDS"]
