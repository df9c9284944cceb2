"""The kiosk reacts to the panel: a card inserted and a PIN typed on the panel log a customer in.

The kiosk runs with its real drivers (app.composition) against in-process simulators; the panel drives
those simulators by address, exactly as ``smart-teller run --simulated`` with the panel open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from devices.simcontrol import ControlClient
from simulators.panel import ControlPanel

WANG_FANG = {"pan": "43219876543210987", "name": "WANG/FANG", "expiry": "3012"}  # bank/seed.py
WANG_FANG_PIN = "1234"
FAST_SESSION = {"take_card_timeout_s": 2.0, "take_card_warning_s": 1.0, "pin_timeout_s": 8.0,
                "card_insert_timeout_s": 8.0}  # fmt: skip
WAIT_MS = 10000


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, dict[str, Any]]]:
    from simulators.card_reader import make_server as card_reader_server
    from simulators.pin_pad import make_server as pin_pad_server
    from simulators.printer import make_server as printer_server

    servers = [
        ("card_reader", card_reader_server(seed=0, cards=[WANG_FANG])),
        ("pin_pad", pin_pad_server(seed=0)),
        ("printer", printer_server(seed=0, out_dir=tmp_path / "printed", render_png=False)),
    ]
    started = []
    try:
        for _, server in servers:
            server.start()
            started.append(server)
        yield {name: server.describe() for name, server in servers}
    finally:
        for server in started:
            server.close()


@pytest.fixture
def kiosk_window(
    qtbot: Any,
    qapp: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    simulators: dict[str, dict[str, Any]],
    bank_host: Any,
) -> Iterator[Any]:
    from app.composition import build_devices
    from app.services import TerminalServices
    from kiosk.settings import load_settings
    from ui.app import KioskWindow
    from ui.kiosk_app import KioskApp
    from ui.theme import apply_theme

    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
    settings = load_settings(
        data_dir=str(tmp_path / "data"),
        devices={**{name: a["url"] for name, a in simulators.items()}, "command_timeout_s": 1.0},
        journeys={"idle_timeout_s": 60, "idle_warning_s": 10},
        host={"urls": [bank_host.url], "iso8583": [bank_host.process.iso8583]},
    )
    apply_theme(qapp, "en")
    bank_host.install_credential(tmp_path / "data")
    services = TerminalServices.start(settings)
    devices = build_devices(settings)
    devices.start()
    window = KioskWindow(settings, idle_timeout_s=60, idle_warning_s=10)
    app = KioskApp(window, devices, services, journey_context={"session_config": FAST_SESSION})
    try:
        yield window
    finally:
        app.shutdown()
        window.shutdown()
        window.deleteLater()
        devices.close()
        services.close()


def test_card_and_pin_from_the_panel_log_the_customer_in(
    qtbot: Any, kiosk_window: Any, simulators: dict[str, dict[str, Any]]
) -> None:
    panel = ControlPanel(simulators, poll_ms=100)
    qtbot.addWidget(panel)
    try:
        window = kiosk_window
        window.attract.emit_action("start")
        window.language_screen.emit_action("language", "en")
        window.menu.emit_action("insert_card")
        qtbot.waitUntil(lambda: window.current_state() == "card_insert", timeout=WAIT_MS)

        reader = panel.tabs["card_reader"]
        qtbot.waitUntil(lambda: reader.wallet.count() == 1, timeout=WAIT_MS)
        reader.buttons["insert_card"].click()
        qtbot.waitUntil(lambda: window.current_state() == "pin_entry", timeout=WAIT_MS)

        pad = panel.tabs["pin_pad"]
        # Keys pressed before the pad is in PIN entry are not entered (the terminal signs on first).
        pad_control = ControlClient(simulators["pin_pad"]["control"])
        qtbot.waitUntil(lambda: pad_control.call("state")["mode"] == "pin", timeout=WAIT_MS)
        for key in [*WANG_FANG_PIN, "ENTER"]:
            pad.buttons[f"key_{key}"].click()
        qtbot.waitUntil(lambda: window.current_state() == "services_menu", timeout=WAIT_MS)
        # the panel's PIN view shows the length while typing, never digits; the state carries no PIN
        assert WANG_FANG_PIN not in pad.state_view.toPlainText()
    finally:
        panel.shutdown()
