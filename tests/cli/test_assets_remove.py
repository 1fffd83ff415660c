"""`datanexus assets remove`: asks on a terminal, refuses off one, deletes all in one go."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from data_nexus.assets import list_assets, remove_assets
from data_nexus.cli import app
from data_nexus.cli import assets as assets_cli
from data_nexus.errors import UsageError
from data_nexus.query.imports import import_csv
from data_nexus.storage.registry import symbol_tables
from data_nexus.storage.store import Store
from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import NOW, warehouse, write_files  # noqa: F401 - fixture
from tests.conftest import make_settings


def counts(url: str) -> dict[str, dict[str, int]]:
    """Rows per symbol in every per-symbol table and in assets."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out: dict[str, dict[str, int]] = {}
            for name in [*(t.name for t in symbol_tables()), "assets"]:
                rows = conn.execute(sa.text(f"SELECT symbol, count(*) FROM {name} GROUP BY symbol"))
                out[name] = {symbol: int(n) for symbol, n in rows}
            return out
    finally:
        engine.dispose()


def test_symbol_tables_cover_bars_and_actions() -> None:
    names = {t.name for t in symbol_tables()}
    assert {"market_data", "corporate_actions"} <= names and "assets" not in names


def test_remove_assets_deletes_every_table_on_each_backend(
    backend_url: str, tmp_path: Path
) -> None:
    write_files(tmp_path / "in")
    result = import_csv(tmp_path / "in", settings=make_settings(backend_url), now=NOW)
    assert result.problems == []
    before = counts(backend_url)
    with Store.open(backend_url) as store:
        with pytest.raises(UsageError, match=r"NOPE\.US"):
            remove_assets(store, ["AAA.US", "NOPE.US"])
        assert counts(backend_url) == before  # nothing deleted
        removed = remove_assets(store, ["aaa.us"])
        assert list(removed)[-1] == "assets"
        assert removed == {name: by.get("AAA.US", 0) for name, by in before.items()}
        assert removed["market_data"] > 0 and removed["corporate_actions"] == 1
        assert [a.symbol for a in list_assets(store)] == ["BBB.US"]
    after = counts(backend_url)
    assert all("AAA.US" not in by for by in after.values())
    assert after["market_data"]["BBB.US"] == before["market_data"]["BBB.US"]


def test_remove_off_a_terminal_needs_yes(warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    url = f"sqlite:///{warehouse}"
    before = counts(url)
    refused = run_cli("assets", "remove", "AAA.US", "-d", str(warehouse), cwd=tmp_path)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "--yes" in refused.stderr
    unknown = run_cli("assets", "remove", "NOPE.US", "--yes", "-d", str(warehouse), cwd=tmp_path)
    assert unknown.returncode == 2 and "NOPE.US" in unknown.stderr
    assert counts(url) == before
    done = run_cli("assets", "remove", "AAA.US", "--yes", "-d", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    bars = before["market_data"]["AAA.US"]
    assert f"removed 1 asset with {bars:,} market_data" in done.stdout
    assert set(counts(url)["assets"]) == {"BBB.US"}


def test_remove_takes_a_comma_separated_list(warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    """`assets remove AAA.US,bbb.us --yes` removes both, as two arguments would."""
    done = run_cli("assets", "remove", "AAA.US,bbb.us", "--yes", "-d", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert counts(f"sqlite:///{warehouse}")["assets"] == {}


def test_remove_on_a_terminal_asks(
    warehouse: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{warehouse}"
    monkeypatch.setattr(assets_cli, "interactive", lambda: True)
    runner = CliRunner()
    no = runner.invoke(app, ["assets", "remove", "BBB.US", "-d", str(warehouse)], input="n\n")
    assert no.exit_code == 0 and "nothing removed" in no.output
    assert "BBB.US" in counts(url)["market_data"]
    yes = runner.invoke(app, ["assets", "remove", "BBB.US", "-d", str(warehouse)], input="y\n")
    assert yes.exit_code == 0, yes.output
    assert "BBB.US" not in counts(url)["market_data"]
