"""Storage owns the SQL: no module outside it imports SQLAlchemy.

Only :mod:`data_nexus.storage`, :mod:`data_nexus.migrations`, ``models.py`` (the schema)
and ``types.py`` (its column types) may. Imports are read with :mod:`ast`, so a string
that mentions SQLAlchemy does not count and an import inside a function does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import data_nexus

PACKAGE = Path(data_nexus.__file__).parent
ALLOWED_DIRS = ("storage", "migrations")
ALLOWED_FILES = ("models.py", "types.py")


def imported_roots(source: str) -> set[str]:
    """The top-level package of every module ``source`` imports (absolute imports)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _outside_storage() -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ALLOWED_DIRS or str(relative) in ALLOWED_FILES:
            continue
        files.append(path)
    return files


def test_imported_roots_reads_imports_not_strings() -> None:
    """The checker sees every import form and ignores text that only mentions the name."""
    source = (
        "import os, sqlalchemy.orm as orm\n"
        "from sqlalchemy import select\n"
        "def f():\n    import psycopg\n"
        "TEXT = 'import sqlalchemy'\n"
        "from . import sibling\n"
    )
    assert imported_roots(source) == {"os", "sqlalchemy", "psycopg"}
    assert "sqlalchemy" not in imported_roots("NOTE = 'from sqlalchemy import text'\n")


def test_only_storage_imports_sqlalchemy() -> None:
    """Modules outside storage/, migrations/, models.py and types.py never import SQLAlchemy."""
    files = _outside_storage()
    assert len(files) > 20  # the walk found the package (not an empty folder)
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in files
        if "sqlalchemy" in imported_roots(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
