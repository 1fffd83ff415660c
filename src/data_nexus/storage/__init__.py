"""Storage: engines and backend capabilities, migrations, and the per-backend writers."""
