"""``python -m simulators``: every simulator in its own process, addresses as JSON, clean shutdown.

The supervisor runs as a real subprocess; its children are found with psutil before the signal so the
test can prove that none outlives it (no orphans, no zombies).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from devices.simcontrol import ControlClient
from simulators.fleet import DEVICE_CLASSES, SimulatorFleet

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 10.0
SEED_PAN = "43219876543210987"  # bank/seed.py: Wang Fang's card


class Supervisor:
    def __init__(self, *args: str, tmp: Path) -> None:
        self.stderr_path = tmp / "stderr.txt"
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulators", "--json", "--out", str(tmp / "receipts"), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        self.addresses = self._read_addresses()
        self.children = psutil.Process(self.process.pid).children(recursive=True)

    def _read_addresses(self) -> dict[str, dict[str, Any]]:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT_S)
        if reader.is_alive() or not lines or not lines[0].strip():
            self.kill()
            reader.join(5)
            pytest.fail(f"no address line; stderr: {self.stderr_path.read_text()[-2000:]}")
        return dict(json.loads(lines[0]))

    def wait(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for child in self.children if hasattr(self, "children") else []:
            if child.is_running():
                child.kill()

    def close(self) -> None:
        self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@pytest.fixture
def supervisor_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Supervisor] = []

    def start(*args: str) -> Supervisor:
        supervisor = Supervisor(*args, tmp=tmp_path)
        started.append(supervisor)
        return supervisor

    yield start
    for supervisor in started:
        supervisor.close()


def gone(processes: list[psutil.Process], timeout: float = EXIT_TIMEOUT_S) -> bool:
    """Every process ended and was reaped (a zombie still "exists" to psutil)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive and not any(p.is_running() for p in processes):
            return True
        time.sleep(0.1)
    return False


def test_json_addresses_answer_state_and_sigterm_stops_everything(supervisor_factory: Any) -> None:
    supervisor = supervisor_factory()
    addresses = supervisor.addresses
    assert sorted(addresses) == sorted(DEVICE_CLASSES)
    for device, address in addresses.items():
        assert address["url"].startswith(("socket://127.0.0.1:", "tcp://127.0.0.1:", "http://127.0.0.1:")), (
            device
        )
        assert address["control"].startswith("tcp://127.0.0.1:"), device
        assert isinstance(ControlClient(address["control"]).call("state"), dict), device
    assert addresses["printer"]["url"].startswith("tcp://")
    assert addresses["camera"]["url"].endswith("/stream.mjpg")
    # the card reader's wallet is the bank's seed cards, so the kiosk can verify their PINs
    wallet = ControlClient(addresses["card_reader"]["control"]).call("cards")
    assert SEED_PAN in {card["pan"] for card in wallet}
    assert len(supervisor.children) >= len(DEVICE_CLASSES)  # one process per simulator

    started = time.monotonic()
    supervisor.process.send_signal(signal.SIGTERM)
    assert supervisor.wait() == 0
    assert time.monotonic() - started < EXIT_TIMEOUT_S
    assert gone(supervisor.children)
    assert supervisor.stderr_path.read_text() == ""


def test_sigint_stops_only_the_chosen_simulators_cleanly(supervisor_factory: Any) -> None:
    supervisor = supervisor_factory("--only", "printer", "--only", "pin_pad")
    assert sorted(supervisor.addresses) == ["pin_pad", "printer"]
    supervisor.process.send_signal(signal.SIGINT)
    assert supervisor.wait() == 0
    assert gone(supervisor.children)


def test_children_stop_by_themselves_when_the_supervisor_is_killed(supervisor_factory: Any) -> None:
    supervisor = supervisor_factory("--only", "card_reader", "--only", "id_reader")
    supervisor.process.kill()  # SIGKILL: no handler runs in the supervisor
    supervisor.process.wait(EXIT_TIMEOUT_S)
    assert gone(supervisor.children)  # each child noticed its parent died and closed its server


def test_panel_mode_prints_addresses_first_and_stops_on_sigterm(supervisor_factory: Any) -> None:
    supervisor = supervisor_factory("--panel", "--only", "printer")
    control = ControlClient(supervisor.addresses["printer"]["control"])
    assert control.call("paper_out")["paper"] == "out"
    time.sleep(1.0)  # let the panel's Qt loop run and poll
    supervisor.process.send_signal(signal.SIGTERM)
    assert supervisor.wait() == 0
    assert gone(supervisor.children)


def test_a_simulator_that_cannot_start_is_reported(tmp_path: Path) -> None:
    blocker = __import__("socket").create_server(("127.0.0.1", 0))
    try:
        busy_port = blocker.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "simulators",
                "--json",
                "--only",
                "printer",
                "--base-port",
                str(busy_port),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
    finally:
        blocker.close()
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("simulators: printer:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_fleet_in_process_uses_given_cards_and_joins_children(tmp_path: Path) -> None:
    cards = [{"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}]
    with SimulatorFleet(only=["card_reader"], cards=cards, out_dir=tmp_path) as fleet:
        wallet = ControlClient(fleet.addresses["card_reader"]["control"]).call("cards")
        assert [card["pan"] for card in wallet] == ["6212340000001017"]
        procs = [psutil.Process(p.pid) for p in fleet._procs.values() if p.pid is not None]
        assert fleet.dead_children() == []
    assert gone(procs)


def test_unknown_device_class_is_refused() -> None:
    with pytest.raises(ValueError, match="scanner"):
        SimulatorFleet(only=["scanner"])


def test_camera_option_starts_the_face_login_person(supervisor_factory: Any) -> None:
    from bank.seed import FACE_LOGIN_CUSTOMERS, default_faces_dir

    if not default_faces_dir().is_dir():
        pytest.skip("the shared test faces are not here")
    supervisor = supervisor_factory("--only", "camera", "--camera", "face-login")
    state = ControlClient(supervisor.addresses["camera"]["control"]).call("state")
    assert state["source_detail"] == f"virtual_person:{FACE_LOGIN_CUSTOMERS[0].face_photo}"


def test_an_unknown_camera_source_is_refused_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulators", "--json", "--only", "camera", "--camera", "webcam"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().startswith("simulators: unknown camera source 'webcam'")
