"""``smart-teller demo`` options for a fleet: ``--host`` (no embedded host) and ``--card``/``--pin``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    command = [sys.executable, "-m", "ui.cli", "demo", "enquiry", "--out", str(tmp_path / "out")]
    command += ["--data-dir", str(tmp_path / "data"), *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_a_named_host_needs_the_terminals_credential_and_starts_no_host(tmp_path: Path) -> None:
    result = demo(tmp_path, "--host", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "--host needs this terminal's enrolment credential at" in result.stderr
    assert not (tmp_path / "data-host").exists()  # no embedded host was started


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pin", "1234"), "--pin goes with --card"),
        (("--card", "6212340000001017,3106"), "--card is PAN,YYMM,NAME"),
        (("--card", "6212340000001017,31-6,LI/NA", "--pin", "2468"), "--card is PAN,YYMM,NAME"),
        (("--card", "6212340000001017,3106,LI/NA"), "--card needs --pin, 4 to 12 digits"),
        (("--card", "6212340000001017,3106,LI/NA", "--pin", "24x8"), "--card needs --pin, 4 to 12 digits"),
    ],
)
def test_a_malformed_card_option_is_refused_before_anything_starts(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = demo(tmp_path, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "data-host").exists()
