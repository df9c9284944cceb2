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


@pytest.mark.slow
def test_a_demo_cleans_what_a_killed_run_left_and_says_what_it_cleaned(tmp_path: Path) -> None:
    from devices.simcontrol import ControlClient

    data = tmp_path / "data"
    # A run killed mid-visit: its run file names its processes (all gone with it now).
    process = subprocess.Popen(
        demo_command(tmp_path / "out1", data),
        env=demo_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if any(r["event"] == "session_started" for r in journal(data)):
                break
            time.sleep(0.005)
        assert process.poll() is None, "the demo ended before it could be killed mid-run"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
    run_file = data / "run.json"
    assert run_file.exists()
    left = json.loads(run_file.read_text(encoding="utf-8"))
    assert left["pids"]["run"] == process.pid

    # One of its simulators outlived it, a card held at its reader's slot.
    stale = subprocess.Popen(
        [sys.executable, "-m", "simulators", "--json", "--only", "card_reader"],
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert stale.stdout is not None
        reader = json.loads(stale.stdout.readline())["card_reader"]
        ControlClient(reader["control"]).call("insert_card", pan="43219876543210987")
        left["pids"]["simulators"] = stale.pid
        left["devices"]["card_reader"] = reader["url"]
        run_file.write_text(json.dumps(left), encoding="utf-8")

        done = run_demo(tmp_path, tmp_path / "out2", data)
        assert done.returncode == 0, done.stderr[-600:]
        lines = done.stdout.splitlines()
        summary = json.loads(lines[-1])
        assert summary["completed"] is True
        cleaned = [line.removeprefix("cleaned: ") for line in lines[:-1] if line.startswith("cleaned: ")]
        assert cleaned == summary["cleaned"]
        assert "captured a card left in the earlier run's card_reader" in cleaned
        assert f"stopped the earlier run's simulators (pid {stale.pid})" in cleaned
        assert f"removed the stale run.json of run pid {process.pid}" in cleaned
        assert any(line.startswith("closed session ") for line in cleaned)  # the visit the kill cut short
        assert stale.wait(30) is not None  # stopped by the demo, not by this test
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait(10)
        if stale.stdout is not None:
            stale.stdout.close()
    records = journal(data)
    items = [r["fields"]["items"] for r in records if r["event"] == "leftovers_cleaned"]
    assert items and "captured a card left in the earlier run's card_reader" in items[0]
    assert {"device": "card_reader", "result": "card_captured", "run": "earlier"} in [
        r["fields"] for r in records if r["event"] == "card_found_at_start"
    ]
    assert not run_file.exists()  # this run ended: nothing left for the next one
    assert verify_file(data / "journal" / "journal.jsonl").ok
