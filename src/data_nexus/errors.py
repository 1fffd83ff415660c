"""The one exception tree of Data Nexus.

::

    DataNexusError
    ├── ConfigError                 a setting or URL is wrong (CLI exit 2)
    │   └── UsageError              arguments that cannot work (exit 2)
    │       ├── InvalidOption       one option's value; .option names it
    │       ├── UnknownSymbols      symbols the warehouse does not hold; .symbols (HTTP 404)
    │       └── NotADemoDatabase    the demo refuses a database holding other data
    ├── ProviderError               the data provider failed (.stops_run, .retryable)
    │   ├── AuthFailed              HTTP 401; stops the run (exit 3)
    │   ├── QuotaExhausted          HTTP 402 or our budget; stops the run (exit 3)
    │   │   └── BudgetTooSmall      today's remaining calls cannot finish the plan
    │   ├── NotInPlan               HTTP 403
    │   │   └── BulkUnavailable     (also a NotFound) bulk endpoint refused: fall back
    │   ├── NotFound                HTTP 404
    │   ├── BadRequest              HTTP 422
    │   ├── RateLimited             HTTP 429 after the retries
    │   ├── ProviderUnavailable     5xx, timeouts, broken connections after the retries
    │   └── BadResponse             a body that cannot be parsed
    │       └── MalformedBody       not the format asked for (retried: looks like corruption)
    ├── DataValidationError         a record the schema cannot store exactly
    └── StorageError                the database cannot be reached or used (exit 2)
        ├── DatabaseUnavailable
        ├── SchemaOutOfDate
        └── LeaseConflict

    SettingsWarning (a UserWarning)   a .env key no setting reads (the CLI prints it)

Every error a user can cause or meet derives from :class:`DataNexusError`. Messages are one
line and say what went wrong and where. They never contain the API token or a database
password: build them from redacted values only (see :mod:`data_nexus.redact`). They name
no command-line flag: the library does not know how it was called. The CLI maps each class
to an exit code, and adds the flag to use next, in one place (``data_nexus.cli.errors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


class DataNexusError(Exception):
    """Base class of every error Data Nexus raises on purpose."""


# --- configuration and usage -------------------------------------------------------------


class ConfigError(DataNexusError):
    """A setting, URL or command-line value is wrong; the user must change it."""


class SettingsWarning(UserWarning):
    """A configuration that works but is probably not what was meant (e.g. a typo in .env)."""


class UsageError(ConfigError):
    """A command was called with arguments that cannot work together."""


class InvalidOption(UsageError):
    """One option has a value that cannot work.

    ``option`` is the option's Python name (``since``, ``max_age``); the CLI shows the
    matching flag. The message reads ``invalid <option> <value>: <problem>``.
    """

    def __init__(self, option: str, value: object, problem: str) -> None:
        self.option = option
        self.value = value
        self.problem = problem
        super().__init__(f"invalid {option} {value}: {problem}")


class UnknownSymbols(UsageError):
    """Symbols that are not registered assets of the warehouse read from.

    ``symbols`` lists them all, in the order asked; the message names the first five. The
    CLI adds where to look (exit code 2), ``datanexus serve`` answers 404.
    """

    def __init__(self, symbols: Sequence[str]) -> None:
        self.symbols = tuple(symbols)
        shown = ", ".join(self.symbols[:5]) + (" …" if len(self.symbols) > 5 else "")
        super().__init__(f"unknown symbol(s) {shown}: not in this warehouse")


class NotADemoDatabase(UsageError):
    """The demo was pointed at a database holding assets it did not write; nothing changed."""


# --- provider (network) side --------------------------------------------------------------


class ProviderError(DataNexusError):
    """The data provider failed or answered something we cannot use."""

    #: Whether the whole run must stop (as opposed to this one asset failing).
    stops_run: bool = False
    #: Whether trying the same request again later may succeed.
    retryable: bool = False


class AuthFailed(ProviderError):
    """The provider refused the token (HTTP 401). Nothing else will work: stop the run."""

    stops_run = True


class QuotaExhausted(ProviderError):
    """The daily call allowance is used up (HTTP 402, or our own budget). Stop the run."""

    stops_run = True

    def __init__(self, message: str, *, resets_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class BudgetTooSmall(QuotaExhausted):
    """Today's remaining API calls cannot finish the planned sync; nothing was fetched.

    ``needed`` is the plan's estimate, ``remaining`` the calls left today.
    """

    def __init__(self, needed: int, remaining: int) -> None:
        super().__init__(
            f"this sync needs about {needed} API calls but only {remaining} remain today"
        )
        self.needed = needed
        self.remaining = remaining


class NotInPlan(ProviderError):
    """The endpoint or exchange is not part of the subscription (HTTP 403)."""


class NotFound(ProviderError):
    """The symbol (or path) is unknown to the provider (HTTP 404)."""


class BulkUnavailable(NotInPlan, NotFound):
    """The bulk endpoint answered 403 or 404: not in the plan (or an unknown exchange).

    A capability answer rather than a failure: callers fall back to symbol-by-symbol
    requests. It is both a :class:`NotInPlan` and a :class:`NotFound`, so either ``except``
    catches it. (The progress event for the same answer is
    :class:`data_nexus.sync.events.BulkRefused`.)
    """


class BadRequest(ProviderError):
    """The provider rejected the request's parameters (HTTP 422)."""


class RateLimited(ProviderError):
    """Too many requests (HTTP 429) and the retries ran out."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """Server errors (5xx), timeouts or broken connections outlasted the retries."""

    retryable = True


class BadResponse(ProviderError):
    """A response body could not be parsed or failed validation.

    ``symbol``, ``field`` and ``excerpt`` say where; the excerpt is a short, redacted piece of
    the offending text.
    """

    def __init__(
        self,
        message: str,
        *,
        symbol: str | None = None,
        field: str | None = None,
        excerpt: str | None = None,
    ) -> None:
        parts = [message]
        if symbol:
            parts.append(f"symbol {symbol}")
        if field:
            parts.append(f"field {field!r}")
        if excerpt is not None:
            parts.append(f"near {excerpt!r}")
        where = f" ({', '.join(parts[1:])})" if len(parts) > 1 else ""
        super().__init__(message + where)
        self.symbol = symbol
        self.field = field
        self.excerpt = excerpt


class MalformedBody(BadResponse):
    """The body is not the format that was asked for: truncated or garbled JSON, an HTML page,
    plain text, bytes that are not UTF-8.

    Unlike a well-formed body with bad values, this looks like transport corruption, so the
    client retries it a couple of times before giving up.
    """


# --- data validation at the write boundary -------------------------------------------------


class DataValidationError(DataNexusError):
    """A record cannot be stored as it is (e.g. more decimals than the schema keeps).

    Data Nexus rejects such values rather than rounding them.
    """


# --- storage side ---------------------------------------------------------------------------


class StorageError(DataNexusError):
    """The database cannot be reached or used."""


class DatabaseUnavailable(StorageError):
    """The database URL is valid but the server cannot be reached or refuses us."""


class SchemaOutOfDate(StorageError):
    """The database schema is not at the revision this version of Data Nexus needs."""


class LeaseConflict(StorageError):
    """Another worker holds the asset (or the SQLite database) this run wanted."""
