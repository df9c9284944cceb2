"""`make run` in miniature: the kiosk with every simulator, offscreen, to the attract screen and down again.

It runs the real console script in a child process (as `make run` does), with a marker in the environment
so that any process it leaves behind — a simulator, the panel — can be found afterwards.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[3]


def _leftovers(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if process.environ().get("SMART_TELLER_SMOKE_MARK") == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_run_simulated_reaches_attract_and_shuts_down_cleanly(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        SMART_TELLER_DATA_DIR=str(tmp_path / "data"),
        SMART_TELLER_HOST_DATA_DIR=str(tmp_path / "host"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        SMART_TELLER_SMOKE_MARK=marker,
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", "run", "--simulated", "--windowed", "--quit-after", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    records = [
        json.loads(line)
        for line in (tmp_path / "data" / "logs" / "smart-teller.log").read_text().splitlines()
    ]
    messages = [r["msg"] for r in records]
    # The attract screen is painted first; the journeys are attached once the bank and devices are up.
    assert any(m.startswith("attract screen shown") for m in messages), messages[:20]
    assert any(m.startswith("kiosk ready: journeys attached") for m in messages), messages[-20:]
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")], [
        r["msg"] for r in records if r["level"] in ("ERROR", "CRITICAL")
    ]
    # The simulated build started a seeded bank host of its own; the terminal keeps no bank database.
    assert (tmp_path / "host" / "bank.db").exists()
    assert not (tmp_path / "data" / "smart-teller.db").exists()
    deadline = time.monotonic() + 10
    while _leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _leftovers(marker) == [], "processes left behind"
    assert elapsed < 170
