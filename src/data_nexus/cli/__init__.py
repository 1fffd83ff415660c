"""The ``datanexus`` command line: a thin layer over the library."""

from data_nexus.cli.app import app, main

__all__ = ["app", "main"]
