"""The one place that maps errors and sync outcomes to one-line messages and exit codes.

Exit codes (documented in ``datanexus --help``, README and docs/cli.md):

- 0: everything succeeded.
- 1: the command ran but some work failed (e.g. some assets failed to sync).
- 2: usage or configuration error (bad argument, bad setting or URL, schema not at head).
- 3: the provider stopped the run: authentication failed, the daily quota is used up, or it
  kept failing for several assets in a row.
- 130: interrupted (Ctrl-C / SIGTERM).
- 141: the reader of the output closed it early (``| head``): nothing is printed, as for a
  program ended by SIGPIPE (128 + 13, what a shell reports for one).

The library's messages say what happened; the flag to use next is added here, because only
the CLI knows its flags (:data:`OPTION_FLAGS`, :func:`hint_for`).
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import typer

from data_nexus.errors import (
    AuthFailed,
    BudgetTooSmall,
    ConfigError,
    DataNexusError,
    InvalidOption,
    NotADemoDatabase,
    QuotaExhausted,
    StorageError,
    UnknownSymbols,
)
from data_nexus.redact import redact

if TYPE_CHECKING:
    from data_nexus.sync.summary import SyncSummary


class ExitCode(enum.IntEnum):
    """The documented exit codes of every ``datanexus`` command."""

    OK = 0
    PARTIAL = 1
    USAGE = 2
    PROVIDER_STOP = 3
    INTERRUPTED = 130
    BROKEN_PIPE = 141


#: The flag of each library option name (``InvalidOption.option``).
OPTION_FLAGS: dict[str, str] = {
    "bulk": "--bulk",
    "concurrency": "--concurrency",
    "rate_limit": "--rate-limit",
    "max_age": "--max-age",
    "since": "--since",
    "asset_type": "--type",
    "symbols": "--symbols",
    "years": "--years",
    "worker_id": "--worker-id",
    "lease_ttl": "--lease-ttl",
}


#: What to do when today's remaining API calls cannot finish a sync's plan.
BUDGET_HINT = (
    "run it with --allow-partial to sync what fits (it stops cleanly when the quota "
    "runs out), or after GMT midnight"
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The documented exit code for an error."""
    if isinstance(error, AuthFailed | QuotaExhausted):
        return ExitCode.PROVIDER_STOP
    if isinstance(error, ConfigError | StorageError):
        return ExitCode.USAGE
    return ExitCode.PARTIAL


def exit_code_of(summary: SyncSummary) -> ExitCode:
    """The exit code of a sync's outcome: 0 ok or dry run, 1 partial or failed, 3, 130."""
    from data_nexus.sync.status import RunStatus  # noqa: PLC0415 - keeps start-up light

    codes = {
        RunStatus.OK: ExitCode.OK,
        RunStatus.DRY_RUN: ExitCode.OK,
        RunStatus.PARTIAL: ExitCode.PARTIAL,
        RunStatus.FAILED: ExitCode.PARTIAL,
        RunStatus.STOPPED: ExitCode.PROVIDER_STOP,
        RunStatus.INTERRUPTED: ExitCode.INTERRUPTED,
    }
    if summary.status not in codes:  # running/abandoned describe rows, never a summary
        raise ValueError(f"a run with status {summary.status!r} has not ended")
    return codes[summary.status]


def hint_for(error: BaseException) -> str | None:
    """What to run next, in the CLI's own flags, for errors that have one."""
    if isinstance(error, BudgetTooSmall):
        return BUDGET_HINT
    if isinstance(error, NotADemoDatabase):
        return "omit --database-url to use the demo's own database"
    if isinstance(error, UnknownSymbols):
        return "see 'datanexus assets list' (add one with 'datanexus assets add')"
    return None


def budget_hint(summary: SyncSummary, *, allow_partial: bool) -> str | None:
    """The hint for a sync refused because today's remaining calls cannot finish its plan."""
    from data_nexus.sync.runner import USAGE_CHECK_CALLS  # noqa: PLC0415 - start-up time
    from data_nexus.sync.status import RunStatus  # noqa: PLC0415

    remaining = summary.calls_remaining  # (counted after the usage check was spent)
    refused = (
        not allow_partial
        and summary.status is RunStatus.STOPPED
        and remaining is not None
        and summary.calls_estimate - USAGE_CHECK_CALLS > remaining
    )
    return BUDGET_HINT if refused else None


def message_for(error: BaseException) -> str:
    """The one line shown for ``error`` (redacted, with the CLI's flag names and hints)."""
    if isinstance(error, InvalidOption):
        flag = OPTION_FLAGS.get(error.option, error.option)
        text = f"invalid {flag} {error.value}: {error.problem}"
    else:
        lines = str(error).strip().splitlines()
        text = lines[0] if lines else type(error).__name__
    hint = hint_for(error)
    return redact(f"{text}; {hint}" if hint else text)


def fail(error: BaseException) -> NoReturn:
    """Print ``error: <one line>`` on stderr and exit with its code."""
    sys.stderr.write(f"error: {message_for(error)}\n")
    sys.stderr.flush()
    raise SystemExit(exit_code_for(error))


def _pipe_broke(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised while handling, a :class:`BrokenPipeError`
    (Click and Rich turn one into ``SystemExit(1)`` themselves)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, BrokenPipeError):
            return True
        seen = seen.__context__
    return False


def _reader_gone() -> NoReturn:
    """The reader of our output closed it early (``datanexus db info | head -1``): exit
    quietly with :attr:`ExitCode.BROKEN_PIPE`. The standard streams are pointed at
    ``/dev/null`` first (the recipe of Python's ``signal`` documentation), so that the
    interpreter's last flush cannot fail again with an "Exception ignored" line."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(devnull, stream.fileno())
    raise SystemExit(ExitCode.BROKEN_PIPE)


def run_cli(app: typer.Typer) -> NoReturn:
    """Run ``app`` so that our errors end as one line and an exit code, never a traceback.

    Typer itself reports usage errors (exit 2) and ``--help``; everything Data Nexus raises
    on purpose is a :class:`DataNexusError` and ends here; an :class:`OSError` (a path the
    user named that cannot be read or written) is their input too: one line, exit 2. Output
    whose reader has gone (a broken pipe) ends quietly with exit 141, whichever command
    wrote it.
    """
    try:
        code = _run_app(app)
        sys.stdout.flush()  # a reader that left early shows here, not at interpreter exit
    except SystemExit as exc:
        if _pipe_broke(exc):
            _reader_gone()
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _reader_gone()
        raise
    except BrokenPipeError:
        _reader_gone()
    raise SystemExit(code)


def _run_app(app: typer.Typer) -> int:
    """:func:`run_cli`'s error mapping: returns the exit code of a command that ended on
    its own, raises :class:`SystemExit` for an error."""
    try:
        # standalone_mode=False: Click hands usage errors to us instead of printing its
        # three-line usage block, so every error of the CLI has the same one-line shape.
        result = app(standalone_mode=False)
    except typer.Abort as exc:  # Click's form of Ctrl-C, or end of input at a prompt
        interrupted = isinstance(exc.__context__, KeyboardInterrupt)
        sys.stderr.write("interrupted\n" if interrupted else "aborted\n")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except DataNexusError as exc:
        fail(exc)
    except typer.TyperException as exc:  # Click's usage errors (bad option, argument, command)
        click_fail(exc)
    except BrokenPipeError:
        raise  # not the user's file: run_cli ends quietly
    except OSError as exc:
        # A file the user named cannot be read or written (an unwritable output path, a
        # directory where a file is expected, a missing input): their input, so exit 2.
        # Database and network failures reach here as DataNexusError, never as OSError.
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {redact(where + (exc.strerror or str(exc)))}\n")
        raise SystemExit(ExitCode.USAGE) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    # Without standalone mode Click returns the code of a ``typer.Exit``/``--help`` exit.
    return result if isinstance(result, int) else ExitCode.OK


def click_fail(error: typer.TyperException) -> NoReturn:
    """Print a Click error as ``error: <what> (see '<command> -h')`` and exit with its code.

    Usage errors (an unknown option or command, a missing argument, a value Click cannot
    convert) carry Click's exit code 2, the same as our own usage errors.
    """
    text = getattr(error, "format_message", error.__str__)()
    message = " ".join(str(text).split())
    message = message[:1].lower() + message[1:].rstrip(".")
    ctx = getattr(error, "ctx", None)
    where = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
    sys.stderr.write(f"error: {redact(message)}{where}\n")
    sys.stderr.flush()
    raise SystemExit(getattr(error, "exit_code", ExitCode.USAGE))
