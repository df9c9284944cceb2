"""A kiosk window with maintenance installed, its drivers talking to real simulators on loopback."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.composition import DeviceSet
from bank.db.engine import make_engine, session_factory
from bank.db.migrate import upgrade
from bank.runtime import Runtime
from bank.security.techs import TechnicianService
from bank.security.vault import Vault
from devices.base import DeviceState, DriverBase
from devices.card_dispenser.driver import CardDispenserDriver
from devices.card_reader.driver import CardReaderDriver
from devices.printer.driver import EscPosPrinterDriver
from devices.simcontrol import ControlClient
from kiosk.journal import Journal
from kiosk.settings import Settings, load_settings
from simulators.base import DeviceServer
from simulators.card_dispenser import make_server as make_dispenser
from simulators.card_reader import CardReaderSimulator
from simulators.printer import make_server as make_printer
from ui.app import KioskWindow
from ui.maintenance import MaintenanceController, install_maintenance

PASSWORD = "correct-horse-7"


@dataclass
class Rig:
    """Everything a maintenance test touches; ``ctl[name]`` is the simulator's control client."""

    settings: Settings
    runtime: Runtime
    journal: Journal
    devices: DeviceSet
    ctl: dict[str, ControlClient]
    receipts_dir: Path
    tmp: Path
    techs: TechnicianService
    windows: list[KioskWindow] = field(default_factory=list)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            {"event": r.event, "kind": r.kind, "session": r.session_id, **r.fields}
            for r in self.journal.records()
            if name is None or r.event == name
        ]


def wait_online(driver: DriverBase, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while driver.status().state is not DeviceState.ONLINE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert driver.status().state is DeviceState.ONLINE, driver.status()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (migrating per test costs ~0.5 s)."""
    path = tmp_path_factory.mktemp("template") / "smart-teller.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def rig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, themed: QApplication, migrated_db: Path
) -> Iterator[Rig]:
    servers: list[DeviceServer] = [
        DeviceServer(CardReaderSimulator(retained=3)).start(),
        make_dispenser().start(),
        make_printer(out_dir=tmp_path / "receipts", render_png=True).start(),
    ]
    reader, dispenser, printer = (s.describe() for s in servers)
    monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    settings = load_settings(
        data_dir=str(tmp_path / "data"),
        devices={"card_reader": reader["url"], "card_dispenser": dispenser["url"], "printer": printer["url"]},
    )
    data = settings.data_dir
    data.mkdir(parents=True)
    shutil.copyfile(migrated_db, data / "smart-teller.db")
    # The technicians' table, as the host keeps it: these tests drive maintenance mode with the host's
    # technician service in process (the same directory the terminal reaches over the API).
    engine = make_engine(f"sqlite:///{data / 'smart-teller.db'}")
    log_file = data / "logs" / "smart-teller.log"
    log_file.parent.mkdir()
    log_file.write_text(
        "".join(f'{{"level":"INFO","msg":"line {n}"}}\n' for n in range(500))
        + '{"level":"ERROR","msg":"card 6217001234567890123 declined"}\n',
        encoding="utf-8",
    )
    runtime = Runtime(settings, engine, session_factory(engine), Vault.open(data / "keys"), log_file)
    journal = Journal(data / "journal", settings.kiosk_id)
    devices = DeviceSet(
        card_reader=CardReaderDriver(reader["url"]),
        card_dispenser=CardDispenserDriver(dispenser["url"]),
        printer=EscPosPrinterDriver(printer["url"], status_timeout=0.5, poll_interval=0.3),
    )
    devices.start()
    for _, driver in devices.items():
        wait_online(driver)
    ctl = {
        "card_reader": ControlClient(reader["control"]),
        "card_dispenser": ControlClient(dispenser["control"]),
        "printer": ControlClient(printer["control"]),
    }
    # argon2 with small parameters: these tests are about maintenance, not about hashing cost
    techs = TechnicianService(
        runtime.sessions,
        settings.security,
        journal=journal,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    rig = Rig(settings, runtime, journal, devices, ctl, tmp_path / "receipts", tmp_path, techs)
    yield rig
    for window in rig.windows:
        window.shutdown()
    # each close joins an I/O thread that wakes on its own poll interval: close them side by side
    closers = [threading.Thread(target=d.close) for _, d in devices.items()]
    closers += [threading.Thread(target=s.close) for s in servers]
    for thread in closers:
        thread.start()
    for thread in closers:
        thread.join(10)
    journal.close()
    engine.dispose()


def open_kiosk(qtbot: QtBot, rig: Rig, **options: Any) -> tuple[KioskWindow, MaintenanceController]:
    window = KioskWindow(rig.settings, lang=options.pop("lang", "en"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    rig.windows.append(window)
    options.setdefault("card_take_timeout_s", 0.3)
    controller = install_maintenance(
        window, rig.devices, rig.settings, rig.techs, journal=rig.journal, **options
    )
    return window, controller


def click(qtbot: QtBot, widget: QWidget) -> None:
    assert widget.isVisible() and widget.isEnabled(), f"{widget.objectName() or widget} is not clickable"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def login(qtbot: QtBot, controller: MaintenanceController, username: str, password: str = PASSWORD) -> None:
    assert controller.request_entry()
    screen = controller.login_screen
    screen.username.setText(username)
    screen.password.setText(password)
    click(qtbot, screen.submit_button)
    qtbot.waitUntil(lambda: controller.window.current_state() == "maintenance", timeout=5000)


def add_tech(controller: MaintenanceController, username: str, role: str = "technician") -> None:
    controller.service.techs.add(username, PASSWORD, role, by="test")


def visible_rect(widget: QWidget) -> QRect:
    """The part of ``widget`` on screen, in window coordinates: clipped by every ancestor (a scroll view)."""
    window = widget.window()
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        rect = rect.intersected(QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect
