"""The console script as an operator meets it: in a child process, with a throw-away data dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, env_extra: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SMART_TELLER_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_help_lists_the_commands(env: dict[str, str]) -> None:
    result = run_cli("--help", env_extra=env)
    assert result.returncode == 0
    for command in ("db", "simulators", "bench", "settings"):
        assert command in result.stdout


def test_version(env: dict[str, str]) -> None:
    result = run_cli("--version", env_extra=env)
    assert result.returncode == 0
    assert result.stdout.startswith("smart-teller ")


def test_host_db_upgrade_creates_the_database_in_the_host_data_dir(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = {**env, "SMART_TELLER_HOST_DATA_DIR": str(tmp_path / "host")}
    result = run_cli("host", "db", "upgrade", env_extra=env)  # forwarded to the host's program
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "host" / "bank.db").exists()
    assert not (Path(env["SMART_TELLER_DATA_DIR"]) / "smart-teller.db").exists()
    status = run_cli("host", "db", "status", env_extra=env)
    assert status.returncode == 0
    assert "current" in status.stdout


def test_unreachable_database_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    unreachable = {
        "SMART_TELLER_HOST_DATA_DIR": str(tmp_path / "host"),
        "SMART_TELLER_DATABASE_URL": "postgresql://k@127.0.0.1:1/b",
    }
    result = run_cli("host", "db", "upgrade", env_extra={**env, **unreachable})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0]
    assert "Traceback" not in result.stderr


def test_broken_settings_file_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[devices]\nprinterr = 'tcp://x'\n")
    result = run_cli("settings", "show", env_extra={**env, "SMART_TELLER_CONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"smart-teller: bad setting devices.printerr (in {config}): unknown setting"
    ]


def test_settings_show_is_json_without_secrets(env: dict[str, str]) -> None:
    result = run_cli("settings", "show", env_extra=env)
    assert result.returncode == 0
    shown = json.loads(result.stdout)
    assert "pin_key_hex" not in shown["security"]  # PIN keys are never terminal settings
    assert shown["security"]["pin_tries"] == 3
    assert shown["data_dir"] == env["SMART_TELLER_DATA_DIR"]


def test_db_status_exits_1_while_a_migration_is_pending(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(
        "host", "db", "status", env_extra={**env, "SMART_TELLER_HOST_DATA_DIR": str(tmp_path / "host")}
    )
    assert result.returncode == 1
    assert "migration pending" in result.stdout


def test_migrations_have_a_single_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bank.db.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.mark.parametrize(
    "args",
    [("bench", "--output", "x"), ("nosuchcommand",), ("bench", "--only")],
)
def test_bad_usage_prints_clicks_usage_error_and_exit_2(env: dict[str, str], args: tuple[str, ...]) -> None:
    result = run_cli(*args, env_extra=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Error: " in result.stderr
    if args[0] != "bench" or args[1] != "--only":  # a missing value is reported without the usage line
        assert result.stderr.startswith("Usage: smart-teller")
