"""``datanexus serve``: a read-only HTTP API over the warehouse, and a web page.

Needs the ``serve`` extra (``pip install 'data-nexus[serve]'``: FastAPI and uvicorn)::

    from data_nexus.serve import ServerThread, create_app, open_read_only

    warehouse = open_read_only("sqlite:///data_nexus.db")
    with ServerThread(create_app(warehouse, close=True)) as server:
        print(server.url)
"""

from data_nexus.serve.app import create_app
from data_nexus.serve.readonly import Warehouse, open_read_only, read_only_url
from data_nexus.serve.server import ServerThread, run

__all__ = [
    "ServerThread",
    "Warehouse",
    "create_app",
    "open_read_only",
    "read_only_url",
    "run",
]
