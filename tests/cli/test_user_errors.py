"""Mistakes a new user makes, each answered by one line, a documented exit code, no traceback.

Every case runs the real entry point in a subprocess (``python -m data_nexus``), as a user
would, and checks the exact line on stderr and the exit code (2: usage or configuration).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main

from data_nexus.cli import app
from data_nexus.cli.errors import ExitCode
from data_nexus.emulator import EmulatorServer
from tests.cli.test_db_cli import run_cli

TODAY = dt.datetime.now(dt.UTC).date()


def _one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.parametrize("dry_run", [False, True])
def test_since_after_today(tmp_path: Path, dry_run: bool) -> None:
    """`sync MSFT.US --since 2030-01-01`, with or without --dry-run: refused before any work."""
    extra = ["--dry-run"] if dry_run else []
    out = run_cli("sync", "MSFT.US", "--since", "2030-01-01", *extra, cwd=tmp_path)
    assert out.returncode == ExitCode.USAGE == 2
    assert _one_line(out) == (
        f"error: invalid --since 2030-01-01: it is after today ({TODAY.isoformat()})"
    )
    assert not (tmp_path / "data_nexus.db").exists()


def test_empty_token(tmp_path: Path) -> None:
    """`EODHD_API_TOKEN= datanexus sync AAPL.US`: the setting is named, nothing written."""
    out = run_cli("sync", "AAPL.US", cwd=tmp_path, env={"EODHD_API_TOKEN": ""})
    assert out.returncode == 2
    assert _one_line(out) == (
        "error: invalid setting EODHD_API_TOKEN: it is empty (set your EODHD key, or "
        "set it to demo for EODHD's public demo key)"
    )
    assert not (tmp_path / "data_nexus.db").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999999999d", "error: invalid --max-age '99999999999d': at most 36525d (100 years)"),
        ("9" * 400, f"error: invalid --max-age '{'9' * 400}': at most 36525d (100 years)"),
        ("36526d", "error: invalid --max-age '36526d': at most 36525d (100 years)"),
    ],
)
def test_max_age_out_of_range(tmp_path: Path, value: str, message: str) -> None:
    """`sync --max-age 99999999999d --dry-run` is a usage error, not an OverflowError."""
    out = run_cli("sync", "--max-age", value, "--dry-run", cwd=tmp_path)
    assert out.returncode == 2
    assert _one_line(out) == message


def test_bad_setting_before_alembic(tmp_path: Path) -> None:
    """`EODHD_RATE_LIMIT=abc datanexus db history` names the setting in one line."""
    out = run_cli("db", "history", cwd=tmp_path, env={"EODHD_RATE_LIMIT": "abc"})
    assert out.returncode == 2
    assert _one_line(out) == (
        "error: invalid setting EODHD_RATE_LIMIT: Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_unknown_dotenv_key_warns_once_and_the_command_runs(tmp_path: Path) -> None:
    """A typo in .env is a warning line with a suggestion; the command still works."""
    (tmp_path / ".env").write_text("EODHD_RATE_LIMT=5\nOTHER_TOOL_KEY=1\n", encoding="utf-8")
    out = run_cli("db", "history", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines() == [
        "warning: EODHD_RATE_LIMT in .env is not a Data Nexus setting "
        "(ignored; did you mean EODHD_RATE_LIMIT?)"
    ]


def test_unknown_listing_type_is_refused_before_any_call(
    tmp_path: Path, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """`assets discover US --type etfs` (a typo) registers nothing and lists the valid types."""
    emu = start_emulator(seed=3, symbols=5)
    env = {"EODHD_BASE_URL": emu.base_url, "EODHD_API_TOKEN": emu.token}
    out = run_cli("assets", "discover", "US", "--type", "etfs", cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert _one_line(out) == (
        "error: invalid --type 'etfs': use one of common_stock, preferred_stock, stock, etf, fund"
    )
    assert emu.stats()["requests"].get("exchange-symbol-list", 0) == 0
    assert not (tmp_path / "data_nexus.db").exists()
    ok = run_cli("assets", "discover", "US", "--type", "ETF", cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        (
            "A" * 49 + ".US",
            f"error: invalid symbol '{'A' * 49}.US': the code is too long (49 characters; at most 48)",
        ),
        (
            "AAPL." + "X" * 17,
            f"error: invalid symbol 'AAPL.{'X' * 17}': the exchange is too long (17 characters; at most 16)",
        ),
        ("AA$L.US", "error: invalid symbol 'AA$L.US': the code 'AA$L' has unexpected characters"),
    ],
)
def test_symbol_too_long_says_so(tmp_path: Path, symbol: str, message: str) -> None:
    """A code over the limit is "too long", not "unexpected characters"."""
    out = run_cli("assets", "add", symbol, cwd=tmp_path)
    assert out.returncode == 2
    assert _one_line(out) == message


def _command_paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under ``group`` (a Click group as Typer builds it)."""
    paths = [prefix]
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_dash_h_is_help_on_every_command() -> None:
    """`-h` works like `--help` on the root, every group and every command of the app."""
    from typer.testing import CliRunner

    paths = _command_paths(typer.main.get_command(app))
    assert {("sync",), ("assets", "discover"), ("db", "history"), ("fake-eodhd",)} <= set(paths)
    runner = CliRunner()
    for path in paths:
        short = runner.invoke(app, [*path, "-h"])
        long = runner.invoke(app, [*path, "--help"])
        assert short.exit_code == 0 and short.output.startswith("Usage: "), path
        assert short.output == long.output, path


def test_assets_list_imports_neither_emulator_nor_numpy_nor_alembic(tmp_path: Path) -> None:
    """Start-up: `assets list` on a database at head loads only what it uses (no HTTP client)."""
    db = tmp_path / "w.db"
    assert run_cli("db", "upgrade", "-d", str(db), cwd=tmp_path).returncode == 0
    code = (
        "import json, sys\n"
        f"sys.argv = ['datanexus', 'assets', 'list', '--json', '-d', {str(db)!r}]\n"
        "from data_nexus.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "heavy = ('data_nexus.emulator', 'numpy', 'alembic', 'pandas', 'pyarrow', 'mako', 'httpx')\n"
        "print(json.dumps(sorted({m for m in sys.modules if m.split('.')[0] in heavy\n"
        "                         or m.startswith('data_nexus.emulator')})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    first, loaded = out.stdout.split("\n", 1)[0], out.stdout.strip().splitlines()[-1]
    assert first == "[]"  # the command's own output: no assets
    assert json.loads(loaded) == []


def test_emulator_facts_repeated_in_the_cli_agree() -> None:
    """fake-eodhd's help repeats two emulator facts so the CLI need not import it at start."""
    from data_nexus.cli import fake_eodhd
    from data_nexus.emulator import DEFAULT_TOKEN, EXCHANGES

    assert tuple(EXCHANGES) == fake_eodhd.EXCHANGE_CODES
    assert fake_eodhd.DEFAULT_TOKEN == DEFAULT_TOKEN
    from data_nexus.emulator.dirt import DIRT_KINDS

    assert tuple(DIRT_KINDS) == fake_eodhd.DIRT_KINDS


def test_demo_default_database_agrees() -> None:
    """The demo command repeats the demo's database URL (for its help) without importing it."""
    from data_nexus import demo
    from data_nexus.cli import demo as demo_cli

    assert demo_cli.DEMO_DATABASE_URL == demo.DEMO_DATABASE_URL


def test_version_and_help_load_no_library_module(tmp_path: Path) -> None:
    """`datanexus --version` and `-h` import neither SQLAlchemy, httpx nor psycopg.

    (Typer itself loads pydantic to coerce parameters, so pydantic is not in the list.)
    """
    code = (
        "import json, sys\n"
        "sys.argv = ['datanexus', *sys.argv[1:]]\n"
        "from data_nexus.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "heavy = {'sqlalchemy', 'httpx', 'psycopg', 'alembic', 'numpy'}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & heavy)))\n"
    )
    for args in (["--version"], ["sync", "-h"], ["assets", "list", "-h"]):
        out = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout.strip().splitlines()[-1]) == [], args


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["bars"], "error: missing argument 'SYMBOL' (see 'datanexus bars -h')"),
        (["nocmd"], "error: no such command 'nocmd' (see 'datanexus -h')"),
        (["db", "upgrade", "--x"], "error: no such option: --x (see 'datanexus db upgrade -h')"),
        (
            ["sync", "--concurrency", "many"],
            "error: invalid value for '--concurrency': Input should be a valid integer,"
            " unable to parse string as an integer (see 'datanexus sync -h')",
        ),
        (["assets"], "error: missing command (see 'datanexus assets -h')"),
    ],
)
def test_click_usage_errors_are_one_line(tmp_path: Path, argv: list[str], line: str) -> None:
    """Errors Click finds before our code runs have the same one-line shape, exit 2."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv[0] = 'datanexus'; "
         "from data_nexus.cli import main; main()", *argv],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert out.returncode == ExitCode.USAGE == 2, out.stderr
    assert _one_line(out) == line
    assert not (tmp_path / "data_nexus.db").exists()


def test_help_and_version_still_exit_0(tmp_path: Path) -> None:
    """`-h` and `--version` print and exit 0 (Click returns their code to run_cli)."""
    for argv in (["-h"], ["bars", "-h"], ["--version"]):
        out = run_cli(*argv, cwd=tmp_path)
        assert out.returncode == 0, (argv, out.stderr)
        assert out.stdout.strip() and not out.stderr, argv


def test_a_dotenv_warning_is_printed_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command that builds its settings twice (e.g. to check, then to run) still warns once."""
    from data_nexus.cli import common

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "_WARNED", set())
    (tmp_path / ".env").write_text("EODHD_RATE_LIMT=5\n", encoding="utf-8")
    common.settings_for(None)
    common.settings_for(None)
    assert capsys.readouterr().err.splitlines() == [
        "warning: EODHD_RATE_LIMT in .env is not a Data Nexus setting "
        "(ignored; did you mean EODHD_RATE_LIMIT?)"
    ]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--symbols", "0"), "error: invalid --symbols 0: must be between 1 and 500"),
        (("--years", "31"), "error: invalid --years 31: must be between 1 and 30"),
    ],
)
def test_demo_refuses_bad_counts_before_its_banner(
    tmp_path: Path, args: tuple[str, ...], line: str
) -> None:
    """The error is the only output: no banner on stdout first, no database created."""
    out = run_cli("demo", *args, cwd=tmp_path)
    assert (out.returncode, _one_line(out), out.stdout) == (ExitCode.USAGE, line, "")
    assert list(tmp_path.iterdir()) == []
