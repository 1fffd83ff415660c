"""get_findings and get_status's open_findings read the findings table, per backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

import data_nexus
from data_nexus.errors import UsageError
from data_nexus.models import FINDINGS
from data_nexus.query.findings import get_findings
from data_nexus.query.status import get_status
from data_nexus.records import Finding
from data_nexus.storage.findings import Scope, record_findings
from data_nexus.storage.store import Store
from tests.conftest import make_settings
from tests.storage.conftest import add_assets

D0 = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)


@pytest.fixture
def store(backend_url: str) -> Iterator[Store]:
    with Store.open(make_settings(backend_url)) as opened:
        yield opened


def _seed(store: Store) -> None:
    """AAPL.US: two open findings (one undated) and one closed; MSFT.US: one open; IBM.US none."""
    add_assets(store, "AAPL.US", "MSFT.US", "IBM.US")
    with store.engine.begin() as conn:
        record_findings(
            conn,
            "AAPL.US",
            [
                Finding("AAPL.US", D0, "no_prices", "close: ''"),
                Finding("AAPL.US", D0 + dt.timedelta(1), "non_positive_price", "close: -1"),
                Finding("AAPL.US", None, "bad_bar", "date: 'x'"),
            ],
        )
        record_findings(conn, "MSFT.US", [Finding("MSFT.US", D0, "out_of_range", "volume: -5")])
    with store.engine.begin() as conn:  # judged again: the 2026-11-24 one is gone
        record_findings(
            conn,
            "AAPL.US",
            [Finding("AAPL.US", D0, "no_prices", "close: ''")],
            [Scope(("no_prices", "non_positive_price"), D0, D0 + dt.timedelta(2))],
        )


def test_open_findings_are_listed_in_order(store: Store) -> None:
    _seed(store)
    url = store.engine.url.render_as_string(hide_password=False)
    frame = get_findings(url=url)
    assert list(frame.columns) == [
        "symbol", "date", "kind", "detail", "first_seen", "last_seen", "closed_at", "run_id",
        "open",
    ]  # fmt: skip
    assert list(zip(frame["symbol"], frame["kind"], strict=True)) == [
        ("AAPL.US", "bad_bar"),
        ("AAPL.US", "no_prices"),
        ("MSFT.US", "out_of_range"),
    ]
    assert pd.isna(frame["date"].iloc[0])
    assert frame["date"].iloc[1] == pd.Timestamp(D0)
    assert frame["date"].dtype == "datetime64[ns]"
    assert frame["open"].all() and frame["closed_at"].isna().all()
    assert str(frame["first_seen"].dt.tz) == "UTC"


def test_closed_findings_and_symbol_filter(store: Store) -> None:
    _seed(store)
    url = store.engine.url.render_as_string(hide_password=False)
    every = get_findings("aapl.us", include_closed=True, url=url)
    assert list(every["kind"]) == ["bad_bar", "no_prices", "non_positive_price"]
    assert list(every["open"]) == [True, True, False]
    assert every["closed_at"].notna().tolist() == [False, False, True]
    with store.engine.connect() as conn:
        closed = conn.execute(
            sa.select(sa.func.count()).where(FINDINGS.c.closed_at.is_not(None))
        ).scalar_one()
    assert closed == 1
    assert get_findings(["IBM.US"], url=url).empty
    assert list(get_findings(["MSFT.US", "IBM.US"], store=store)["symbol"]) == ["MSFT.US"]
    with pytest.raises(UsageError, match=r"NOPE\.US"):
        get_findings("NOPE.US", url=url)


def test_status_counts_open_findings_per_asset(store: Store) -> None:
    _seed(store)
    frame = get_status(NOW, store=store)
    counts = dict(zip(frame["symbol"], frame["open_findings"], strict=True))
    assert counts == {"AAPL.US": 2, "MSFT.US": 1, "IBM.US": 0}
    assert frame["open_findings"].dtype == "int64"


def test_get_findings_is_public() -> None:
    assert data_nexus.get_findings is get_findings
    assert "get_findings" in data_nexus.__all__
