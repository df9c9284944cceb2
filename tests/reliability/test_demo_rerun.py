"""``smart-teller demo`` runs again and again on one data dir, and right after being SIGKILLed mid-run.

The seed bank is created once; a run killed with a receipt half-printed leaves an open intent, which the
next run resolves at its start (journaled) before its own journey, and that run still completes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from bank.check import check_ledger
from bank.models import Customer
from kiosk.journal import verify_file

SMART_TELLER = Path(sys.executable).with_name("smart-teller")


def demo_command(out: Path, data: Path) -> list[str]:
    return [str(SMART_TELLER), "demo", "enquiry", "--out", str(out), "--data-dir", str(data)]


def demo_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(SMART_TELLER_CONFIG=str(tmp_path / "none.toml"), QT_QPA_PLATFORM="offscreen")
    return env


def journal(data: Path) -> list[dict[str, Any]]:
    path = data / "journal" / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.endswith(b"}")]


def run_demo(tmp_path: Path, out: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        demo_command(out, data),
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_demo_runs_twice_on_one_data_dir_and_again_after_a_sigkill_mid_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for run in (1, 2):
        done = run_demo(tmp_path, tmp_path / f"out{run}", data)
        assert done.returncode == 0, f"run {run}: {done.stderr[-600:]}"
        assert json.loads(done.stdout.splitlines()[-1])["completed"] is True

    # Third run: killed while its balance receipt is being printed (the print intent is journaled).
    printed_before = sum(1 for r in journal(data) if r["event"] == "print" and r["kind"] == "intent")
    process = subprocess.Popen(
        demo_command(tmp_path / "out3", data),
        env=demo_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            prints = [r for r in journal(data) if r["event"] == "print" and r["kind"] == "intent"]
            if len(prints) > printed_before:
                break
            time.sleep(0.005)
        assert process.poll() is None, "the demo ended before it could be killed mid-run"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    killed_at = len(journal(data))

    done = run_demo(tmp_path, tmp_path / "out4", data)
    assert done.returncode == 0, done.stderr[-600:]
    records = journal(data)
    after = [r["event"] for r in records[killed_at:]]
    assert "recovery_started" in after and "suspect_resolved" in after
    assert after.index("recovery_finished") < after.index("session_started")  # resolved before the journey
    assert verify_file(data / "journal" / "journal.jsonl").ok
    open_intents = {r["seq"] for r in records if r["kind"] == "intent"} - {
        r["ref"] for r in records if r["kind"] == "outcome"
    }
    assert open_intents == set()
    host_data = data.with_name(data.name + "-host")  # the demo's bank host keeps the bank
    engine = create_engine(f"sqlite:///{host_data / 'bank.db'}")
    try:
        with engine.connect() as conn:
            assert check_ledger(conn).ok
            assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 5  # seeded once
    finally:
        engine.dispose()
