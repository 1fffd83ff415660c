"""The curated public API: exact, sorted, importable, documented, cheap to import."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys

import pytest

import data_nexus

#: The supported surface of ``import data_nexus``. Changing it is an API decision: update
#: this list on purpose, together with the README's Python API section.
EXPECTED_ALL = [
    "ADJUST_MODES",
    "ApiUsage",
    "AssetInfo",
    "AuthFailed",
    "BadRequest",
    "BadResponse",
    "Bar",
    "BudgetTooSmall",
    "BulkUnavailable",
    "CheckReport",
    "ConfigError",
    "DataNexusError",
    "DataValidationError",
    "DatabaseUnavailable",
    "Dividend",
    "EodhdClient",
    "ExchangeInfo",
    "INTERVALS",
    "InvalidOption",
    "LeaseConflict",
    "ListedSymbol",
    "Nexus",
    "NotFound",
    "NotInPlan",
    "ProviderError",
    "ProviderUnavailable",
    "QuotaExhausted",
    "RETURN_KINDS",
    "RateLimited",
    "RunStatus",
    "SchemaOutOfDate",
    "Settings",
    "SettingsWarning",
    "Split",
    "StorageError",
    "Store",
    "SyncOptions",
    "SyncSummary",
    "UnknownSymbols",
    "UsageError",
    "__version__",
    "add_assets",
    "arun_sync",
    "database_info",
    "discover_assets",
    "downgrade_db",
    "get_actions",
    "get_bars",
    "get_bars_arrow",
    "get_findings",
    "get_prices",
    "get_returns",
    "get_runs",
    "get_status",
    "list_assets",
    "load_settings",
    "pause_assets",
    "remove_assets",
    "resume_assets",
    "run_checks",
    "run_demo",
    "run_sync",
    "upgrade_db",
]

#: Each subpackage's face: ``__all__`` exactly, resolvable, and agreeing with its
#: ``TYPE_CHECKING`` imports (what type checkers see).
FACES = ["data_nexus", "data_nexus.sync", "data_nexus.storage", "data_nexus.providers"]


def test_all_is_exactly_the_curated_surface() -> None:
    """The top package exports exactly EXPECTED_ALL, sorted, every name resolvable."""
    assert data_nexus.__all__ == EXPECTED_ALL
    assert sorted(data_nexus.__all__) == data_nexus.__all__
    for name in data_nexus.__all__:
        assert getattr(data_nexus, name) is not None, name


def test_emulator_is_a_subpackage_not_a_top_level_name() -> None:
    """The emulator is reached as data_nexus.emulator; its classes are not top-level names."""
    from data_nexus.emulator import EmulatorConfig, EmulatorServer

    assert EmulatorServer.__module__.startswith("data_nexus.emulator.")
    assert EmulatorConfig.__module__.startswith("data_nexus.emulator.")
    for name in ("EmulatorServer", "EmulatorConfig"):
        assert name not in data_nexus.__all__
        with pytest.raises(AttributeError):
            getattr(data_nexus, name)


@pytest.mark.parametrize("package", FACES)
def test_faces_resolve_and_match_their_type_checking_imports(package: str) -> None:
    """Lazy re-exports and the imports type checkers see name the same objects."""
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__), package
    tree = ast.parse(inspect.getsource(module))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                seen.update({alias.name: stmt.module for alias in stmt.names})
    exported = set(module.__all__) - {"__version__"}
    assert set(seen) == exported, package
    for name, source in seen.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name


def test_errors_tree_in_the_docstring_names_every_exception() -> None:
    """errors.py draws its tree; every exception class it defines appears in the drawing."""
    from data_nexus import errors

    doc = errors.__doc__ or ""
    classes = [
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, Exception | Warning)
        and obj.__module__ == errors.__name__
    ]  # fmt: skip
    assert len(classes) >= 18
    for name in classes:
        assert f" {name} " in doc or f" {name}\n" in doc, name


def test_head_revision_constant_matches_alembic() -> None:
    """The schema check's HEAD_REVISION (no Alembic needed) is Alembic's head."""
    from data_nexus.migrations import HEAD_REVISION
    from data_nexus.storage.migrate import head_revision

    assert head_revision() == HEAD_REVISION


def test_public_callables_have_docstrings() -> None:
    """Every exported class and function says what it does."""
    for name in data_nexus.__all__:
        obj = getattr(data_nexus, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), name


def test_library_does_not_import_typer_or_rich() -> None:
    """The CLI is a thin layer: the library's public names pull in neither Typer nor Rich."""
    # httpx imports its own command-line client (click + rich) when click is installed, as
    # it is with the dev extra (schemathesis needs it); hide click so only our imports count.
    code = (
        "import sys; sys.modules['click'] = None; import data_nexus\n"
        "[getattr(data_nexus, n) for n in data_nexus.__all__]\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_the_package_is_cheap() -> None:
    """`import data_nexus` loads neither SQLAlchemy nor Alembic, numpy or the emulator."""
    code = (
        "import sys, data_nexus\n"
        "heavy = {'sqlalchemy', 'alembic', 'numpy', 'httpx', 'pydantic', 'psycopg'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_ships() -> None:
    """Type information ships with the package."""
    from importlib.resources import files

    assert files("data_nexus").joinpath("py.typed").is_file()
