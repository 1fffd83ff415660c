"""Settings: defaults, environment, validation errors as one line, the token kept secret."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_nexus.config import (
    DEFAULT_DATABASE_URL,
    NO_TOKEN,
    Settings,
    load_settings,
    setting_names,
    unknown_dotenv_keys,
)
from data_nexus.errors import ConfigError, SettingsWarning


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Without configuration: the SQLite file in the working directory and no token (a
    command that calls the provider refuses to start; nothing falls back to the demo key)."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.eodhd_api_token is None and not settings.uses_demo_key
    with pytest.raises(ConfigError) as info:
        _ = settings.token
    assert str(info.value) == NO_TOKEN
    assert "EODHD_API_TOKEN set to demo" in NO_TOKEN and "AAPL.US" in NO_TOKEN
    assert settings.eodhd_base_url == "https://eodhd.com/api"


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Environment variables are read; explicit options win; None options fall back."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.setenv("DATANEXUS_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("EODHD_API_TOKEN", "s3cr3t-token-value")
    monkeypatch.setenv("EODHD_BASE_URL", "http://127.0.0.1:9999/api/")
    settings = load_settings(database_url=None)
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.token == "s3cr3t-token-value"
    assert settings.eodhd_base_url == "http://127.0.0.1:9999/api"
    assert load_settings(database_url="x.db").database_url == "sqlite:///x.db"


def test_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """A .env file in the working directory is read."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    Path(".env").write_text("DATANEXUS_DATABASE_URL=sqlite:///from_dotenv.db\n")
    assert load_settings().database_url == "sqlite:///from_dotenv.db"


def test_token_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """repr/str/model_dump_json of the settings do not show the token."""
    monkeypatch.setenv("EODHD_API_TOKEN", "s3cr3t-token-value")
    settings = load_settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cr3t-token-value" not in text


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"eodhd_base_url": "ftp://x"}, "EODHD_BASE_URL must start with http"),
        ({"chunk_interval": "fortnight"}, "invalid interval 'fortnight'"),
        ({"compress_after": "0 days"}, "invalid interval '0 days'"),
        ({"database_url": "  "}, "the database URL is empty"),
        ({"eodhd_timeout": "0"}, "greater than 0"),
        ({"eodhd_timeout": "nan"}, "finite number"),
        ({"eodhd_timeout": "-1"}, "greater than 0"),
        ({"lease_ttl": "0"}, "out of range"),
        ({"lease_ttl": "1 fortnight"}, "cannot read"),
        ({"lease_ttl": "9" * 40}, "out of range"),
    ],
)
def test_invalid_values_are_one_line_config_errors(
    overrides: dict[str, str], fragment: str
) -> None:
    """A bad setting raises ConfigError naming it, in one line."""
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize("token", ["", "   "])
def test_empty_token_is_refused(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """`EODHD_API_TOKEN=` is a configuration error naming the variable, not a traceback later."""
    monkeypatch.setenv("EODHD_API_TOKEN", token)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == (
        "invalid setting EODHD_API_TOKEN: it is empty (set your EODHD key, or "
        "set it to demo for EODHD's public demo key)"
    )


def test_non_numeric_rate_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value of the wrong type is one line naming the environment variable."""
    monkeypatch.setenv("EODHD_RATE_LIMIT", "abc")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("invalid setting EODHD_RATE_LIMIT: ")


def test_unknown_dotenv_keys_warn_with_a_suggestion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Typos among DATANEXUS_/EODHD_ keys in .env warn; other tools' keys are left alone."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "DATANEXUS_DATABASE_URL=sqlite:///a.db\nDATANEXUS_DATABSE_URL=x\n"
        "EODHD_TOKEN=y\nAWS_REGION=z\n",
        encoding="utf-8",
    )
    assert unknown_dotenv_keys() == ["DATANEXUS_DATABSE_URL", "EODHD_TOKEN"]
    with pytest.warns(SettingsWarning) as caught:
        settings = load_settings()
    assert settings.database_url == "sqlite:///a.db"
    assert [str(w.message) for w in caught] == [
        "DATANEXUS_DATABSE_URL in .env is not a Data Nexus setting "
        "(ignored; did you mean DATANEXUS_DATABASE_URL?)",
        "EODHD_TOKEN in .env is not a Data Nexus setting (ignored; did you mean EODHD_API_TOKEN?)",
    ]


def test_setting_names_cover_every_field() -> None:
    """Each setting is read from exactly one upper-case environment variable."""
    assert len(setting_names()) == len(Settings.model_fields)
    assert all(n.startswith(("DATANEXUS_", "EODHD_")) for n in setting_names())


def test_timeout_and_lease_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    """EODHD_TIMEOUT is seconds; DATANEXUS_LEASE_TTL reads 90s/10m/1h (bare: seconds)."""
    from data_nexus.providers.eodhd.client import DEFAULT_TIMEOUT
    from data_nexus.providers.eodhd.factory import timeout_of

    defaults = load_settings()
    assert defaults.eodhd_timeout is None and timeout_of(defaults) == DEFAULT_TIMEOUT
    assert defaults.lease_ttl == dt.timedelta(minutes=10)
    monkeypatch.setenv("EODHD_TIMEOUT", "2.5")
    monkeypatch.setenv("DATANEXUS_LEASE_TTL", "90s")
    settings = load_settings()
    assert timeout_of(settings).read == 2.5 and timeout_of(settings).connect == 2.5
    assert settings.lease_ttl == dt.timedelta(seconds=90)
    for text, seconds in (("10m", 600), ("1h", 3600), ("45", 45), (" 2M ", 120)):
        assert load_settings(lease_ttl=text).lease_ttl == dt.timedelta(seconds=seconds)


def test_database_password_never_in_repr() -> None:
    """repr/str mask the database URL's password; the field keeps the usable URL."""
    url = "postgresql+psycopg://user:pa55-w0rd@db.example/warehouse"
    settings = load_settings(database_url=url)
    for text in (repr(settings), str(settings)):
        assert "pa55-w0rd" not in text and "user:***@db.example/warehouse" in text
    assert settings.database_url == url
