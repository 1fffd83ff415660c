"""``datanexus serve``: the read-only HTTP API and web page (the ``serve`` extra)."""

from __future__ import annotations

from typing import Annotated

import typer

from data_nexus.cli.common import DatabaseUrl, console, settings_for
from data_nexus.errors import ConfigError

EXTRA_MISSING = (
    "datanexus serve needs the serve extra: pip install 'data-nexus[serve]' (FastAPI, uvicorn)"
)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    def serve(
        host: Annotated[
            str,
            typer.Option(
                metavar="ADDRESS", help="Address to listen on; beyond loopback needs --token."
            ),
        ] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(metavar="PORT", min=0, max=65535, help="TCP port.")
        ] = 8000,
        token: Annotated[
            str | None,
            typer.Option(
                metavar="TOKEN",
                envvar="DATANEXUS_SERVE_TOKEN",
                help="Bearer token clients must send (prefer the environment variable: "
                "a command line is visible to other users).",
                show_default=False,
            ),
        ] = None,
        insecure_no_auth: Annotated[
            bool,
            typer.Option("--insecure-no-auth", help="Allow a non-loopback --host without a token."),
        ] = False,
        access_log: Annotated[
            bool,
            typer.Option(
                "--access-log",
                help="Log a line per request on standard output (off by default: formatting "
                "it costs about a tenth of a small request's CPU).",
            ),
        ] = False,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Serve the warehouse read-only over HTTP: a JSON API (/docs) and a web page (/).

        The database is opened read-only and never upgraded. Stop with Ctrl-C.
        """
        try:
            from data_nexus.serve import create_app, open_read_only, run  # noqa: PLC0415
            from data_nexus.serve.auth import check_exposure  # noqa: PLC0415
        except ImportError:
            raise ConfigError(EXTRA_MISSING) from None
        check_exposure(host, token, insecure_no_auth)
        warehouse = open_read_only(settings_for(database_url))
        shown = f"[{host}]" if ":" in host else host
        auth = "bearer token required" if token else "no authentication"

        def announce(bound: int) -> None:  # only once the socket is bound and listening
            console(stderr=True).print(
                f"serving {warehouse.backend} read-only on http://{shown}:{bound}/ ({auth}); "
                "API docs at /docs; Ctrl-C to stop",
                markup=False,
            )

        try:
            run(
                create_app(warehouse, token=token, close=True),
                host,
                port,
                on_listen=announce,
                access_log=access_log,
            )
        except ConfigError:  # the address is taken: uvicorn never started, so close here
            warehouse.close()
            raise
