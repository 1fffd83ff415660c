"""``python -m data_nexus`` runs the CLI."""

from data_nexus.cli import main

main()
