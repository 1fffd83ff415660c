"""Lazy re-exports for package faces (PEP 562), so ``import data_nexus`` stays cheap.

A package's ``__init__`` names what it re-exports and from where; the defining module is
imported on first attribute access. Start-up of ``datanexus assets list`` depends on it:
importing the top package must not load SQLAlchemy's dialects, Alembic, numpy or the
emulator before a command needs them. Type checkers see ordinary imports under
``TYPE_CHECKING`` in each ``__init__``; a test checks both lists agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: name -> defining module, loaded on use.

    An unknown name raises :class:`AttributeError` as a missing attribute does.
    """
    namespace: dict[str, Any] = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
