"""The curated public API: sorted, importable, documented; the library never imports Typer."""

from __future__ import annotations

import subprocess
import sys

import data_nexus


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, names exist, and every public name of the package is listed."""
    assert data_nexus.__all__ == sorted(data_nexus.__all__)
    for name in data_nexus.__all__:
        assert hasattr(data_nexus, name), name
    public = {n for n in vars(data_nexus) if (not n.startswith("_") and n[0].isupper()) or
              (not n.startswith("_") and callable(getattr(data_nexus, n)))}  # fmt: skip
    assert public <= set(data_nexus.__all__)


def test_public_callables_have_docstrings() -> None:
    """Every exported class and function says what it does."""
    for name in data_nexus.__all__:
        obj = getattr(data_nexus, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), name


def test_library_does_not_import_typer_or_rich() -> None:
    """The CLI is a thin layer: importing the library pulls in neither Typer nor Rich."""
    # httpx imports its own command-line client (click + rich) when click is installed, as
    # it is with the dev extra (schemathesis needs it); hide click so only our imports count.
    code = (
        "import sys; sys.modules['click'] = None; import data_nexus; "
        "print(any(m.split('.')[0] in ('typer', 'rich') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_py_typed_ships() -> None:
    """Type information ships with the package."""
    from importlib.resources import files

    assert files("data_nexus").joinpath("py.typed").is_file()
