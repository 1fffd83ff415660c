"""Settings: defaults, environment, validation errors as one line, the token kept secret."""

from __future__ import annotations

import pytest

from data_nexus.config import DEFAULT_DATABASE_URL, load_settings
from data_nexus.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Without configuration: the SQLite file in the working directory and the demo key."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.token == "demo"
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
    from pathlib import Path

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
