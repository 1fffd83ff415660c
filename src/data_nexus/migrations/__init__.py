"""Alembic migrations, shipped inside the package (``script_location = data_nexus:migrations``)."""
