"""The one exception tree of Data Nexus.

Every error a user can cause or meet derives from :class:`DataNexusError`. Messages are one
line, say what went wrong and where, and, where there is one, what to do next. They never
contain the API token or a database password: build them from redacted values only
(see :mod:`data_nexus.redact`).

The CLI maps each class to an exit code in one place (``data_nexus.cli.errors``).
"""

from __future__ import annotations

import datetime as dt


class DataNexusError(Exception):
    """Base class of every error Data Nexus raises on purpose."""


# --- configuration and usage -------------------------------------------------------------


class ConfigError(DataNexusError):
    """A setting, URL or command-line value is wrong; the user must change it."""


class UsageError(ConfigError):
    """A command was called with arguments that cannot work together."""


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


class NotInPlan(ProviderError):
    """The endpoint or exchange is not part of the subscription (HTTP 403)."""


class NotFound(ProviderError):
    """The symbol (or path) is unknown to the provider (HTTP 404)."""


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
