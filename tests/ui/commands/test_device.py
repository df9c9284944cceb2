"""``smart-teller device status|selftest|print-test`` through the real entry point, against simulators
started in this process and named in the settings by address only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.simcontrol import ControlClient
from kiosk.journal import Journal
from simulators.base import DeviceServer
from simulators.card_reader import make_server as make_reader
from simulators.printer import make_server as make_printer
from ui.cli import main


@pytest.fixture
def sims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, DeviceServer]]:
    servers = {
        "card_reader": make_reader().start(),
        "printer": make_printer(out_dir=tmp_path / "receipts", render_png=False).start(),
    }
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_CONFIG", "/dev/null")
    for name, server in servers.items():
        monkeypatch.setenv(f"SMART_TELLER_DEVICES__{name.upper()}", server.describe()["url"])
    yield servers
    for server in servers.values():
        server.close()


def ctl(server: DeviceServer) -> ControlClient:
    return ControlClient(server.describe()["control"])


def test_status_json_lists_every_configured_device(
    sims: dict[str, DeviceServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["device", "status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"card_reader", "printer"}
    reader = report["card_reader"]
    assert reader["state"] == "online" and reader["info"]["firmware"] == "SIM-ICT3Q8 1.0"
    assert reader["info"]["url"] == sims["card_reader"].describe()["url"]
    assert reader["counters"]["retained"] == 0 and reader["capabilities"]["retain_bin"] is True
    assert report["printer"]["detail"]["paper"] == "ok"
    assert report["printer"]["counters"]["receipts_printed"] == 0


def test_status_exits_1_naming_a_device_that_is_not_online(
    sims: dict[str, DeviceServer], capsys: pytest.CaptureFixture[str]
) -> None:
    ctl(sims["printer"]).call("unplug")
    assert main(["device", "status", "--wait", "1"]) == 1
    captured = capsys.readouterr()
    assert "card_reader" in captured.out and "online" in captured.out
    assert captured.err.strip() == "smart-teller: not online: printer (offline)"


def test_no_configured_device_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_CONFIG", "/dev/null")
    assert main(["device", "status"]) == 1
    assert "no device is configured" in capsys.readouterr().err


def test_selftest_passes_then_fails_on_a_jam_and_is_journaled(
    sims: dict[str, DeviceServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["device", "selftest"]) == 0
    out = capsys.readouterr().out
    assert "card_reader: success" in out and "printer: success" in out and "ok   no card jam" in out
    ctl(sims["card_reader"]).call("jam")
    assert main(["device", "selftest", "card_reader", "--json"]) == 1
    captured = capsys.readouterr()
    reports = json.loads(captured.out)
    assert list(reports) == ["card_reader"] and reports["card_reader"]["result"] == "hardware_error"
    assert captured.err.strip() == "smart-teller: self-test failed: card_reader"
    assert main(["device", "selftest", "toaster"]) == 2
    with Journal(tmp_path / "data" / "journal", "KIOSK-0001") as journal:
        outcomes = [r.fields for r in journal.records() if r.event == "maintenance_self_test_outcome"]
    assert [(o["device"], o["result"], o["technician"]) for o in outcomes] == [
        ("card_reader", "success", "cli"),
        ("printer", "success", "cli"),
        ("card_reader", "hardware_error", "cli"),
    ]
    assert outcomes[-1]["failed_checks"] == ["no card jam"]


def test_print_test_reaches_the_printer_and_fails_without_paper(
    sims: dict[str, DeviceServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["device", "print-test", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["result"] == "success" and outcome["paper"] == "ok"
    [receipt] = ctl(sims["printer"]).call("receipts")
    assert outcome["reference"] in receipt["text"] and "not a transaction" in receipt["text"]
    ctl(sims["printer"]).call("paper_out")
    assert main(["device", "print-test"]) == 1
    assert capsys.readouterr().err.startswith("smart-teller: test print failed: not printed: paper out")
    assert len(ctl(sims["printer"]).call("receipts")) == 1
