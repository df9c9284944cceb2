"""``smart-teller run``: argument checks, the simulators' address line, and a real windowed smoke run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ui.commands.run import parse_simulator_addresses

REPO = Path(__file__).resolve().parents[3]


def test_simulator_address_line_becomes_device_urls() -> None:
    line = (
        '{"card_reader": {"url": "socket://127.0.0.1:7001", "control": "tcp://127.0.0.1:7101"},'
        ' "printer": {"url": "tcp://127.0.0.1:9100", "control": "tcp://127.0.0.1:7105"},'
        ' "camera": {"control": "tcp://127.0.0.1:7106"}, "extra": {"url": "x"}}'
    )
    assert parse_simulator_addresses(line) == {
        "card_reader": "socket://127.0.0.1:7001",
        "printer": "tcp://127.0.0.1:9100",
    }
    with_switch = line[:-1] + ', "switch": {"url": "tcp://127.0.0.1:7200", "address": "127.0.0.1:7200"}}'
    assert parse_simulator_addresses(with_switch) == {
        "card_reader": "socket://127.0.0.1:7001",
        "printer": "tcp://127.0.0.1:9100",
        "switch": "127.0.0.1:7200",  # host:port, for the bank host (not a terminal device)
    }
    assert parse_simulator_addresses("") is None
    assert parse_simulator_addresses("Traceback (most recent call last):") is None
    assert parse_simulator_addresses("[1, 2]") is None


def _run(*args: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SMART_TELLER_DATA_DIR=str(tmp_path / "data"), **extra)
    env["SMART_TELLER_CONFIG"] = str(tmp_path / "settings.toml")
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_language_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    done = _run("--lang", "fr", tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["smart-teller: --lang must be one of en, zh_CN, not 'fr'"]


def test_windowed_kiosk_starts_and_quits_cleanly(tmp_path: Path, bank_host: Any) -> None:
    bank_host.install_credential(tmp_path / "data")
    urls = json.dumps([bank_host.url])
    done = _run(
        "--windowed",
        "--lang",
        "zh_CN",
        "--quit-after",
        "0.5",
        tmp_path=tmp_path,
        SMART_TELLER_HOST__URLS=urls,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line)["event"] for line in (tmp_path / "data" / "journal" / "journal.jsonl").open()]
    assert "host_link_up" in events  # it really started, against the host
    assert not (tmp_path / "data" / "smart-teller.db").exists()  # and keeps no bank database


def test_an_unenrolled_terminal_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    done = _run("--windowed", "--quit-after", "0.5", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "no host credential" in done.stderr and "enrol-terminal" in done.stderr
