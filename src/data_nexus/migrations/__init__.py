"""Alembic migrations, shipped inside the package (``script_location = data_nexus:migrations``).

:data:`HEAD_REVISION` names the newest script so that opening an up-to-date database needs
no Alembic import (a test keeps it equal to Alembic's own head).
"""

#: The newest revision under ``versions/``; update it with every new migration.
HEAD_REVISION = "0003"
