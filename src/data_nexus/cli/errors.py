"""One place that maps Data Nexus errors to one-line messages and exit codes.

Exit codes:

- 0: everything succeeded.
- 1: the command ran but some work failed (e.g. some assets failed to sync).
- 2: usage or configuration error (bad argument, bad URL, schema not at head, …).
- 3: the provider stopped the run: authentication failed or the daily quota is used up.
- 130: interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from data_nexus.errors import (
    AuthFailed,
    ConfigError,
    DataNexusError,
    ProviderError,
    QuotaExhausted,
    StorageError,
)
from data_nexus.redact import redact

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_PROVIDER_STOP = 3
EXIT_INTERRUPTED = 130


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error."""
    if isinstance(error, AuthFailed | QuotaExhausted):
        return EXIT_PROVIDER_STOP
    if isinstance(error, ConfigError | StorageError):
        return EXIT_USAGE
    if isinstance(error, ProviderError | DataNexusError):
        return EXIT_PARTIAL
    return EXIT_PARTIAL


def fail(error: BaseException) -> NoReturn:
    """Print ``error: <one line>`` on stderr and exit with its code."""
    message = redact(str(error)).strip().splitlines()
    text = message[0] if message else type(error).__name__
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()
    raise SystemExit(exit_code_for(error))


def run_cli(app: typer.Typer) -> NoReturn:
    """Run ``app`` so that our errors end as one line and an exit code, never a traceback.

    Typer itself reports usage errors (exit 2) and ``--help``; everything Data Nexus raises
    on purpose is a :class:`DataNexusError` and ends here.
    """
    try:
        app()
    except DataNexusError as exc:
        fail(exc)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    raise SystemExit(EXIT_OK)
