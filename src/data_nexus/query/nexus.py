"""``Nexus(url)``: one read-only handle for notebooks, with the query API as methods.

    from data_nexus import Nexus

    nx = Nexus("sqlite:///data_nexus.db")
    closes = nx.prices(["AAPL.US", "MSFT.US", "SPY.US"], start="2020-01-01")

The handle keeps one read-only connection open (close it with :meth:`Nexus.close`, or use
``with Nexus(url) as nx:``). Every method is the module function of the same meaning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from data_nexus.query import bars, status
from data_nexus.storage.frames import FrameReader, open_reader


class Nexus:
    """A read-only handle on the warehouse at ``url`` (a database URL or SQLite path)."""

    def __init__(self, url: str) -> None:
        self._reader: FrameReader = open_reader(url)

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return self._reader.url

    def close(self) -> None:
        """Close the connection."""
        self._reader.close()

    def __enter__(self) -> Nexus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Nexus({self.url!r})"

    def bars(  # noqa: PLR0917 - the documented positional signature (issue 10)
        self,
        symbols: str | Iterable[str],
        start: Any = None,
        end: Any = None,
        adjust: str = "none",
        interval: str = "1d",
        exact: bool = False,
    ) -> pd.DataFrame:
        """:func:`data_nexus.query.bars.get_bars`."""
        frame, attrs = bars._read(self._reader, symbols, start, end, adjust, interval, exact)
        return bars.frame_to_pandas(frame, attrs)

    def arrow(  # noqa: PLR0917 - the documented positional signature (issue 10)
        self,
        symbols: str | Iterable[str],
        start: Any = None,
        end: Any = None,
        adjust: str = "none",
        interval: str = "1d",
        exact: bool = False,
    ) -> pa.Table:
        """:func:`data_nexus.query.bars.get_bars_arrow`."""
        frame, attrs = bars._read(self._reader, symbols, start, end, adjust, interval, exact)
        return bars.frame_to_arrow(frame, attrs)

    def prices(  # noqa: PLR0917 - the documented positional signature (issue 10)
        self,
        symbols: str | Iterable[str],
        field: str = "close",
        adjust: str = "all",
        start: Any = None,
        end: Any = None,
        interval: str = "1d",
    ) -> pd.DataFrame:
        """:func:`data_nexus.query.bars.get_prices`."""
        return bars.get_prices(symbols, field, adjust, start, end, interval, store=self._reader)

    def returns(
        self,
        symbols: str | Iterable[str],
        start: Any = None,
        end: Any = None,
        kind: str = "total",
        interval: str = "1d",
    ) -> pd.DataFrame:
        """:func:`data_nexus.query.bars.get_returns`."""
        return bars.get_returns(symbols, start, end, kind, interval, store=self._reader)

    def actions(
        self, symbols: str | Iterable[str] | None = None, start: Any = None, end: Any = None
    ) -> pd.DataFrame:
        """:func:`data_nexus.query.status.get_actions`."""
        return status.get_actions(symbols, start, end, store=self._reader)

    def status(self, now: dt.datetime | None = None) -> pd.DataFrame:
        """:func:`data_nexus.query.status.get_status` (``now``: the current UTC time)."""
        when = now or dt.datetime.now(dt.UTC)
        return status.get_status(when, store=self._reader)

    def runs(self, last: int | None = None) -> pd.DataFrame:
        """:func:`data_nexus.query.status.get_runs`."""
        return status.get_runs(last, store=self._reader)
