"""The developer control panel: its buttons reach the simulators, and the kiosk reacts (pytest-qt).

Simulators run in-process on ephemeral loopback ports; the panel knows them only by address, as in
``python -m simulators --panel``. Each check reads the simulator's own state through the control API,
independently of the panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devices.simcontrol import ControlClient
from simulators.panel import ControlPanel

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"
WANG_FANG = {"pan": "43219876543210987", "name": "WANG/FANG", "expiry": "3012"}
LI_NA = {"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}
WAIT_MS = 8000
POLL_MS = 100


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, dict[str, Any]]]:
    from simulators.camera import make_server as camera_server
    from simulators.card_dispenser import make_server as dispenser_server
    from simulators.card_reader import make_server as card_reader_server
    from simulators.id_reader import make_server as id_reader_server
    from simulators.pin_pad import make_server as pin_pad_server
    from simulators.printer import make_server as printer_server

    servers: dict[str, Any] = {
        "card_reader": card_reader_server(seed=0, cards=[WANG_FANG, LI_NA]),
        "pin_pad": pin_pad_server(seed=0),
        "card_dispenser": dispenser_server(seed=0),
        "id_reader": id_reader_server(seed=0, faces_dir=FACES),
        "printer": printer_server(seed=0, out_dir=tmp_path / "receipts"),
        "camera": camera_server(seed=0, faces_dir=FACES, source="video", fps=10.0),
    }
    started = []
    try:
        for server in servers.values():
            server.start()
            started.append(server)
        yield {name: server.describe() for name, server in servers.items()}
    finally:
        for server in started:
            server.close()


@pytest.fixture
def panel(qtbot: Any, simulators: dict[str, dict[str, Any]]) -> Iterator[ControlPanel]:
    window = ControlPanel(simulators, faces_dir=FACES, poll_ms=POLL_MS)
    qtbot.addWidget(window)
    window.show()
    try:
        yield window
    finally:
        window.shutdown()
        assert not any(link.io_thread.isRunning() for link in window.links.values())


def state(simulators: dict[str, dict[str, Any]], device: str) -> dict[str, Any]:
    result = ControlClient(simulators[device]["control"]).call("state")
    assert isinstance(result, dict)
    return result


def log_lines(panel: ControlPanel) -> list[str]:
    return [panel.log.item(i).text() for i in range(panel.log.count())]


def snapshot(simulators: dict[str, dict[str, Any]]) -> np.ndarray:
    import urllib.request

    with urllib.request.urlopen(simulators["camera"]["snapshot"], timeout=5) as reply:
        image = cv2.imdecode(np.frombuffer(reply.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image.astype(np.int16)


def test_every_device_has_a_tab_showing_its_live_state(qtbot: Any, panel: ControlPanel) -> None:
    assert list(panel.tabs) == ["card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera"]
    for tab in panel.tabs.values():
        qtbot.waitUntil(lambda tab=tab: tab.state is not None, timeout=WAIT_MS)
        assert tab.status_pill.text() == "● online"
        assert '"' in tab.state_view.toPlainText()  # the JSON state view is filled


def test_paper_out_reaches_the_printer_and_the_view_follows(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["printer"]
    tab.buttons["paper_out"].click()
    qtbot.waitUntil(lambda: state(simulators, "printer")["paper"] == "out", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.paper.text() == "out", timeout=WAIT_MS)
    assert tab.status_pill.text() == "● fault"
    tab.buttons["refill"].click()
    qtbot.waitUntil(lambda: state(simulators, "printer")["paper"] == "ok", timeout=WAIT_MS)
    tab.buttons["cover_open"].click()
    qtbot.waitUntil(lambda: state(simulators, "printer")["cover_open"] is True, timeout=WAIT_MS)
    tab.after_bytes.setValue(17)
    tab.buttons["disconnect_after"].click()
    qtbot.waitUntil(lambda: state(simulators, "printer")["drop_after"] == 17, timeout=WAIT_MS)


def test_a_printed_receipt_appears_with_its_png(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    import socket

    host, port = simulators["printer"]["url"].removeprefix("tcp://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"\x1b@PANEL TEST RECEIPT\n\x1dV\x00")  # ESC @, a line, GS V 0 (full cut)
    tab = panel.tabs["printer"]
    qtbot.waitUntil(lambda: tab.receipts.count() == 1, timeout=WAIT_MS)
    assert "PANEL TEST RECEIPT" in tab.receipts.item(0).toolTip()
    pixmap = tab.receipt_image.pixmap()
    assert pixmap is not None and not pixmap.isNull()


def test_insert_and_take_a_virtual_card(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["card_reader"]
    qtbot.waitUntil(lambda: tab.wallet.count() == 2, timeout=WAIT_MS)
    assert tab.wallet.item(0).text() == "WANG/FANG   432198*******0987"  # masked: first 6, last 4
    tab.wallet.setCurrentRow(1)
    tab.buttons["insert_card"].click()
    # no host permitted entry: the card waits at the shutter, as a real motorised reader
    qtbot.waitUntil(lambda: (state(simulators, "card_reader")["offered"] or {}).get("name") == "LI/NA",
                    timeout=WAIT_MS)  # fmt: skip
    assert state(simulators, "card_reader")["offered"]["pan"] == "621234******1017"
    qtbot.waitUntil(lambda: "LI/NA" in tab.card.text(), timeout=WAIT_MS)
    tab.buttons["take_card"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_reader")["offered"] is None, timeout=WAIT_MS)


def test_unreadable_track_jam_and_bin_full(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["card_reader"]
    qtbot.waitUntil(lambda: tab.wallet.count() == 2, timeout=WAIT_MS)
    tab.tracks.setCurrentIndex(2)  # "Track 2 unreadable"
    tab.buttons["insert_card"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_reader")["offered"] is not None, timeout=WAIT_MS)
    assert state(simulators, "card_reader")["offered"]["damaged_track"] == [2]
    tab.buttons["jam"].click()
    tab.buttons["bin_full"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_reader")["bin_full"] is True, timeout=WAIT_MS)
    assert state(simulators, "card_reader")["jammed"] is True
    qtbot.waitUntil(lambda: tab.retained.text() == "50 of 50  — FULL", timeout=WAIT_MS)


def test_pin_pad_keys_and_tamper(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["pin_pad"]
    tab.buttons["key_F2"].click()  # idle pad: function keys queue for the host, digits do not
    tab.buttons["key_5"].click()
    qtbot.waitUntil(lambda: state(simulators, "pin_pad")["queued_keys"] == 1, timeout=WAIT_MS)
    tab.buttons["tamper"].click()
    qtbot.waitUntil(lambda: state(simulators, "pin_pad")["tamper"] is True, timeout=WAIT_MS)
    assert state(simulators, "pin_pad")["keys_loaded"] == {"tdes": False, "aes": False}
    qtbot.waitUntil(lambda: tab.status_pill.text() == "● tampered", timeout=WAIT_MS)
    tab.buttons["load_keys"].click()
    qtbot.waitUntil(lambda: state(simulators, "pin_pad")["keys_loaded"]["tdes"] is True, timeout=WAIT_MS)


def test_dispenser_stock_and_faults(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["card_dispenser"]
    tab.buttons["stock_empty"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["stock"] == "empty", timeout=WAIT_MS)
    tab.stock_spin.setValue(7)
    tab.buttons["set_stock"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["stock_count"] == 7, timeout=WAIT_MS)
    assert state(simulators, "card_dispenser")["stock"] == "low"
    tab.buttons["jam"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["jammed"] is True, timeout=WAIT_MS)
    tab.buttons["take_card"].click()  # nothing at the gate: refused, and the log says so
    qtbot.waitUntil(lambda: any("take_card refused" in line for line in log_lines(panel)), timeout=WAIT_MS)


def test_id_card_place_remove_and_read_error(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["id_reader"]
    qtbot.waitUntil(lambda: tab.fixtures.count() > 0, timeout=WAIT_MS)
    first = tab.fixtures.item(0).text()
    tab.buttons["place_card"].click()
    qtbot.waitUntil(lambda: state(simulators, "id_reader")["card"] == first, timeout=WAIT_MS)
    tab.buttons["read_error"].click()
    qtbot.waitUntil(lambda: state(simulators, "id_reader")["read_errors"] == 1, timeout=WAIT_MS)
    tab.buttons["remove_card"].click()
    qtbot.waitUntil(lambda: state(simulators, "id_reader")["card"] is None, timeout=WAIT_MS)


def test_link_faults_unplug_silent_and_clear(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["card_dispenser"]
    tab.buttons["unplug"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["plugged"] is False, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.status_pill.text() == "● unplugged", timeout=WAIT_MS)
    tab.buttons["silent"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["silent"] is True, timeout=WAIT_MS)
    tab.buttons["clear_faults"].click()
    qtbot.waitUntil(lambda: state(simulators, "card_dispenser")["plugged"] is True, timeout=WAIT_MS)
    assert state(simulators, "card_dispenser")["silent"] is False
    qtbot.waitUntil(lambda: tab.status_pill.text() == "● online", timeout=WAIT_MS)


def test_camera_source_switch_changes_the_snapshot_and_the_preview(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["camera"]
    panel.tab_widget.setCurrentWidget(tab)  # the preview is fetched while the tab is visible
    qtbot.waitUntil(lambda: tab.frames_shown > 0, timeout=WAIT_MS)

    def switch(source: str, photo: str = "") -> np.ndarray:
        tab.source_box.setCurrentIndex(tab.source_box.findData(source))
        if photo:
            tab.photo_box.setCurrentText(photo)
        tab.buttons["apply_source"].click()
        qtbot.waitUntil(lambda: state(simulators, "camera")["source"] == source, timeout=WAIT_MS)
        encoded = state(simulators, "camera")["frames_encoded"]  # skip frames rendered before the switch
        qtbot.waitUntil(lambda: state(simulators, "camera")["frames_encoded"] >= encoded + 2, timeout=WAIT_MS)
        return snapshot(simulators)

    video = snapshot(simulators)
    photo = switch("photo", "obama_1.jpg")
    assert state(simulators, "camera")["source_detail"] == "photo:obama_1.jpg"
    empty = switch("empty")
    # a bright portrait against the dark stage clip and the empty room: whole-frame differences
    assert float(np.abs(video - photo).mean()) > 20.0
    assert float(np.abs(photo - empty).mean()) > 20.0
    tab.buttons["freeze"].click()
    qtbot.waitUntil(lambda: state(simulators, "camera")["frozen"] is True, timeout=WAIT_MS)
    tab.buttons["unplug"].click()
    qtbot.waitUntil(lambda: state(simulators, "camera")["disconnected"] is True, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.preview.text() == "no picture", timeout=WAIT_MS)
    tab.buttons["clear_faults"].click()
    qtbot.waitUntil(lambda: not state(simulators, "camera")["disconnected"], timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: tab.preview.pixmap() is not None and not tab.preview.pixmap().isNull(), timeout=WAIT_MS
    )


def test_virtual_person_blink_and_turns_reach_the_camera(
    qtbot: Any, panel: ControlPanel, simulators: dict[str, dict[str, Any]]
) -> None:
    tab = panel.tabs["camera"]
    tab.source_box.setCurrentIndex(tab.source_box.findData("virtual_person"))
    tab.photo_box.setCurrentText("obama_1.jpg")
    tab.buttons["apply_source"].click()
    qtbot.waitUntil(lambda: state(simulators, "camera")["source"] == "virtual_person", timeout=WAIT_MS)
    for key in ("blink", "turn_left", "turn_right"):
        tab.buttons[key].click()
    qtbot.waitUntil(
        lambda: sum("camera: act → ok" in line for line in log_lines(panel)) == 3, timeout=WAIT_MS
    )


def test_an_unreachable_simulator_is_shown_and_commands_fail_cleanly(qtbot: Any) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    window = ControlPanel({"printer": {"url": "tcp://127.0.0.1:9", "control": dead}}, poll_ms=POLL_MS)
    qtbot.addWidget(window)
    try:
        tab = window.tabs["printer"]
        qtbot.waitUntil(lambda: tab.status_pill.text() == "● unreachable", timeout=WAIT_MS)
        tab.buttons["paper_out"].click()
        qtbot.waitUntil(lambda: window.log.count() == 1, timeout=WAIT_MS)
        assert "printer: paper_out refused" in window.log.item(0).text()
    finally:
        window.shutdown()
