"""``registry.newest_bar_date``: what ``/health`` reports, asked as one aggregate row."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.models import ASSETS
from data_nexus.storage import registry
from data_nexus.storage.store import Store


def test_newest_bar_date(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    try:
        with store.connection() as conn:
            assert registry.newest_bar_date(conn) is None  # no asset
        add_assets(store, ["AAA.US", "BBB.US", "CCC.US"])
        with store.connection() as conn:
            assert registry.newest_bar_date(conn) is None  # assets, no bar yet
        with store.atomic() as conn:
            for symbol, day in (("AAA.US", dt.date(2024, 5, 31)), ("BBB.US", dt.date(2024, 6, 3))):
                conn.execute(
                    sa.update(ASSETS).where(ASSETS.c.symbol == symbol).values(last_date=day)
                )
        statements: list[str] = []
        sa.event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with store.connection() as conn:
            assert registry.newest_bar_date(conn) == dt.date(2024, 6, 3)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1 and "max(" in selects[0].lower()
    finally:
        store.close()
