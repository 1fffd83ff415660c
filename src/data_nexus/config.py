"""Typed settings, read from the environment and ``.env`` by the CLI only.

Library functions take a :class:`Settings` (or explicit arguments); they never read
``os.environ`` themselves. The API token is a :class:`~pydantic.SecretStr`, so its ``repr``
and ``str`` never show it. Every value is checked once, when the settings are built;
:func:`load_settings` turns a bad one into a one-line :class:`~data_nexus.errors.ConfigError`
and warns (:class:`~data_nexus.errors.SettingsWarning`) about ``DATANEXUS_*``/``EODHD_*``
keys in ``.env`` that no setting reads, which are usually typos.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import warnings
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from data_nexus.errors import ConfigError, SettingsWarning

DEFAULT_DATABASE_URL = "sqlite:///data_nexus.db"
DEFAULT_EODHD_BASE_URL = "https://eodhd.com/api"


#: ``sqlite:/x.db``: a URL missing its ``//``, left for the engine to refuse, never read as a
#: file name (one letter is a Windows drive, ``C:\\x.db``).
_SCHEME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
#: EODHD's public demo key and the symbols it serves (EODHD's documentation; other
#: symbols are answered "Unauthenticated").
DEMO_KEY = "demo"
DEMO_KEY_SYMBOLS = ("AAPL.US", "MSFT.US", "TSLA.US", "VTI.US", "AMZN.US", "BTC-USD.CC",
                    "EURUSD.FOREX")  # fmt: skip
#: The one line for a command that needs the provider when no token is set.
NO_TOKEN = (
    "no EODHD API token: set EODHD_API_TOKEN to your key (environment or .env); "
    "EODHD_API_TOKEN set to demo uses EODHD's public demo key, which serves only "
    f"{', '.join(DEMO_KEY_SYMBOLS)} ('datanexus demo' needs no key)"
)
#: Said once by a command that calls the provider with the demo key.
DEMO_KEY_NOTE = (
    f"using EODHD's public demo key: it serves only {', '.join(DEMO_KEY_SYMBOLS)}; other "
    "symbols are refused (set EODHD_API_TOKEN to your key)"
)
_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.I)
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
#: The range of a lease TTL (as :class:`data_nexus.sync.summary.SyncOptions` accepts it).
LEASE_TTL_RANGE = (dt.timedelta(seconds=1), dt.timedelta(days=36_525))


def lease_ttl_of(text: str) -> dt.timedelta:
    """A lease TTL as written in ``DATANEXUS_LEASE_TTL``/``--lease-ttl``: ``90s``, ``10m``, ``1h``.

    A bare number is seconds. Raises :class:`ValueError` (one line) for text it cannot read
    or a duration outside 1 s to 100 years.
    """
    match = _TTL.match(text)
    if not match:
        raise ValueError(f"cannot read {text!r} as a duration: use e.g. 90s, 10m or 1h")
    seconds = float(match.group(1)) * _TTL_UNITS[match.group(2).lower()]
    low, high = LEASE_TTL_RANGE
    if not low.total_seconds() <= seconds <= high.total_seconds():
        raise ValueError(f"{text.strip()!r} is out of range (1s to 100 years)")
    return dt.timedelta(seconds=seconds)


class Settings(BaseSettings):
    """Everything Data Nexus can be configured with.

    Environment variables (or a ``.env`` file in the working directory):

    - ``DATANEXUS_DATABASE_URL``: SQLAlchemy URL; default ``sqlite:///data_nexus.db``.
      A bare file path is accepted and means an SQLite file.
    - ``EODHD_API_TOKEN``: the provider token (secret); no default: a command that calls
      the provider refuses to start without it (:data:`NO_TOKEN`). ``demo`` is EODHD's
      public demo key, which serves only :data:`DEMO_KEY_SYMBOLS`.
    - ``EODHD_BASE_URL``: the API root; default the real EODHD API.
    - ``EODHD_RATE_LIMIT``: requests per minute the plan allows (default 1000).
    - ``EODHD_DAILY_BUDGET``: weighted API calls Data Nexus may spend per GMT day
      (default: what the provider's user endpoint reports as the plan's allowance).
    - ``EODHD_MAX_RETRIES``: retries of a request after 429, 5xx, timeouts,
      connection errors or a body that is not JSON at all, all counted together (default 5).
    - ``EODHD_TIMEOUT``: seconds an HTTP request may take to connect, send or wait for each
      part of the answer before it counts as a timeout and is retried (a number above 0;
      default: 10 s to connect, 120 s to read, for the large bulk bodies).
    - ``DATANEXUS_LEASE_TTL``: how long a sync worker's claim on an asset lasts before
      another worker may take it over, e.g. ``10m``, ``90s`` (default 10 minutes).
    - ``DATANEXUS_CORRECTION_SESSIONS``: sessions re-fetched before the last stored bar on
      each incremental sync, to pick up revisions and detect corporate actions (default 5).
    - ``DATANEXUS_ACTIONS_EVERY_DAYS``: safety-net schedule for fetching splits and
      dividends explicitly (default 30).
    - ``DATANEXUS_STALE_AFTER_DAYS``: ``datanexus check`` calls an asset stale when its last
      sync is older than this (default 4 days).
    - ``DATANEXUS_CHUNK_INTERVAL``: TimescaleDB chunk interval for ``market_data``.
    - ``DATANEXUS_COMPRESS_AFTER``: age after which TimescaleDB compresses a chunk.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATANEXUS_DATABASE_URL", "database_url"),
    )
    eodhd_api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EODHD_API_TOKEN", "eodhd_api_token"),
    )
    eodhd_base_url: str = Field(
        default=DEFAULT_EODHD_BASE_URL,
        validation_alias=AliasChoices("EODHD_BASE_URL", "eodhd_base_url"),
    )
    eodhd_rate_limit: int = Field(
        default=1000,
        ge=1,
        validation_alias=AliasChoices("EODHD_RATE_LIMIT", "eodhd_rate_limit"),
    )
    eodhd_daily_budget: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("EODHD_DAILY_BUDGET", "eodhd_daily_budget"),
    )
    eodhd_max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        validation_alias=AliasChoices("EODHD_MAX_RETRIES", "eodhd_max_retries"),
    )
    eodhd_timeout: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        validation_alias=AliasChoices("EODHD_TIMEOUT", "eodhd_timeout"),
    )
    lease_ttl: dt.timedelta = Field(
        default=dt.timedelta(minutes=10),
        validation_alias=AliasChoices("DATANEXUS_LEASE_TTL", "lease_ttl"),
    )
    correction_sessions: int = Field(
        default=5,
        ge=0,
        le=250,
        validation_alias=AliasChoices("DATANEXUS_CORRECTION_SESSIONS", "correction_sessions"),
    )
    actions_every_days: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices("DATANEXUS_ACTIONS_EVERY_DAYS", "actions_every_days"),
    )
    stale_after_days: float = Field(
        default=4,
        gt=0,
        validation_alias=AliasChoices("DATANEXUS_STALE_AFTER_DAYS", "stale_after_days"),
    )
    chunk_interval: str = Field(
        default="12 months",
        validation_alias=AliasChoices("DATANEXUS_CHUNK_INTERVAL", "chunk_interval"),
    )
    compress_after: str = Field(
        default="45 days",
        validation_alias=AliasChoices("DATANEXUS_COMPRESS_AFTER", "compress_after"),
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the database URL is empty")
        if "://" not in value and not _SCHEME_ONLY.match(value):
            # A bare path means an SQLite file: friendlier than SQLAlchemy's URL grammar.
            return f"sqlite:///{value}"
        return value  # checked when opened (storage.engine.parse_database_url)

    @field_validator("eodhd_api_token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError(
                "it is empty (set your EODHD key, or set it to demo for EODHD's public demo key)"
            )
        return value

    @field_validator("eodhd_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("EODHD_BASE_URL must start with http:// or https://")
        return value

    @field_validator("chunk_interval", "compress_after")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        from data_nexus.storage.timescale import parse_interval  # noqa: PLC0415

        parse_interval(value)
        return value

    @field_validator("lease_ttl", mode="before")
    @classmethod
    def _read_lease_ttl(cls, value: Any) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            text = f"{value.total_seconds()}s"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{value}s"
        else:
            text = str(value)
        return lease_ttl_of(text)

    def __repr_args__(self) -> Any:
        # pydantic builds repr() and str() from these pairs: mask the URL's password.
        from data_nexus.redact import safe_url  # noqa: PLC0415

        for name, value in super().__repr_args__():
            yield name, safe_url(value) if name == "database_url" else value

    @property
    def token(self) -> str:
        """The API token in clear, for the HTTP client only.

        Raises :class:`~data_nexus.errors.ConfigError` (:data:`NO_TOKEN`) when none is set:
        nothing falls back to the demo key silently.
        """
        return self.require_token()

    def require_token(self) -> str:
        """:attr:`token`, named for callers that check it before doing anything else."""
        if self.eodhd_api_token is None:
            raise ConfigError(NO_TOKEN)
        return self.eodhd_api_token.get_secret_value()

    @property
    def uses_demo_key(self) -> bool:
        """Whether the token is EODHD's public ``demo`` key (see :data:`DEMO_KEY_NOTE`)."""
        token = self.eodhd_api_token
        return token is not None and token.get_secret_value().strip() == DEMO_KEY


#: The prefixes of the environment variables Data Nexus reads.
ENV_PREFIXES = ("DATANEXUS_", "EODHD_")


def setting_names() -> frozenset[str]:
    """Every environment variable a setting reads (``DATANEXUS_DATABASE_URL``, …)."""
    names: set[str] = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(c for c in alias.choices if isinstance(c, str) and c.isupper())
    return frozenset(names)


def unknown_dotenv_keys(path: str | os.PathLike[str] = ".env") -> list[str]:
    """``DATANEXUS_*``/``EODHD_*`` keys in the ``.env`` file at ``path`` that no setting reads.

    Sorted; empty when the file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        return []
    from dotenv import dotenv_values  # noqa: PLC0415 - only when a .env exists

    known = setting_names()
    keys = dotenv_values(file, encoding="utf-8").keys()
    return sorted(k for k in keys if k.upper().startswith(ENV_PREFIXES) and k.upper() not in known)


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment plus explicit overrides.

    ``None`` overrides are ignored, so CLI options that were not given fall back to the
    environment. Invalid values raise :class:`~data_nexus.errors.ConfigError` with one line
    that names the setting (``invalid setting EODHD_RATE_LIMIT: …``). Unknown
    ``DATANEXUS_*``/``EODHD_*`` keys in ``./.env`` each give a
    :class:`~data_nexus.errors.SettingsWarning`.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in unknown_dotenv_keys():
        close = difflib.get_close_matches(key.upper(), sorted(setting_names()), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.warn(
            f"{key} in .env is not a Data Nexus setting (ignored{hint})",
            SettingsWarning,
            stacklevel=2,
        )
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where}: {message}") from None
