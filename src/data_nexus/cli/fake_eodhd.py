"""``datanexus fake-eodhd``: run the EODHD-compatible emulator (placeholder until it lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``fake-eodhd`` command to ``app``."""

    @app.command("fake-eodhd")
    def fake_eodhd() -> None:
        """Run an EODHD-compatible HTTP server with synthetic data (for tests and demos)."""
        raise typer.Exit(0)
