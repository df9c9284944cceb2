"""A kiosk with real drivers against in-process simulators, for the account-opening and face-login tests.

The biometrics worker process is shared by the module (it takes seconds to load its models) with shorter
liveness step timeouts; everything else — simulators, drivers, database, journal, window — is fresh per test
and closed (threads joined, sockets closed) afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.composition import DeviceSet
from app.effects.camera import join_face_checks
from app.services import TerminalServices
from devices.camera.driver import OpenCvCameraDriver
from devices.card_dispenser.driver import CardDispenserDriver
from devices.id_reader.driver import IdReaderDriver
from devices.pin_pad.driver import PinPadDriver
from devices.printer.driver import EscPosPrinterDriver
from devices.simcontrol import ControlClient
from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.worker import BiometricsWorker
from kiosk.journeys.core import View
from kiosk.settings import load_settings
from simulators import camera as camera_sim
from simulators import card_dispenser as dispenser_sim
from simulators import id_reader as id_sim
from simulators import pin_pad as pin_sim
from simulators import printer as printer_sim

FACES = Path(__file__).resolve().parents[4] / "shared" / "faces"
PERSON_PHOTO = "alex_lacamoire_1.png"  # the photo on the zhao_jianguo fixture ID card
REPEAT_AFTER_S = 1.5  # a blink lasts 0.28 s, a turn 1.1 s
TEST_BIOMETRICS = replace(BiometricsConfig(), step_timeout_s=3.0, baseline_timeout_s=3.0, max_attempts=2)


@pytest.fixture(scope="module")
def face_worker() -> Iterator[BiometricsWorker]:
    worker = BiometricsWorker(TEST_BIOMETRICS)
    assert worker.wait_ready(60), "the biometrics worker did not start"
    yield worker
    worker.close()


@dataclass
class Kiosk:
    app: Any  # ui.kiosk_app.KioskApp
    window: Any
    services: TerminalServices
    devices: DeviceSet
    ctl: dict[str, ControlClient]
    printer: Any
    qtbot: QtBot
    bank_host: Any = None

    @property
    def host(self) -> Any:
        """The bank's database and services, read in this process to check what the host did."""
        return self.bank_host.inspect()

    # -- what is showing ----------------------------------------------------------------------
    @property
    def view(self) -> View | None:
        runner = self.app.runner
        return runner.journey.view if runner is not None else None

    def screen(self) -> Any:
        return self.window.stack.current_screen()

    def wait_screen(self, name: str, timeout: float = 15.0, **data: Any) -> Any:
        def shown() -> bool:
            if self.window.current_state() != name:
                return False
            view = self.view
            return all(view is not None and view.data.get(k) == v for k, v in data.items())

        try:
            self.qtbot.waitUntil(shown, timeout=int(timeout * 1000))
        except Exception as exc:
            view = self.view
            raise AssertionError(
                f"waited for {name} {data}; showing {self.window.current_state()}, view "
                f"{view.screen if view else None} {dict(view.data) if view else {}}"[:600]
            ) from exc
        return self.screen()

    def outcome(self, timeout: float = 20.0) -> Any:
        self.qtbot.waitUntil(lambda: bool(self.app.outcomes), timeout=int(timeout * 1000))
        return self.app.outcomes[-1]

    def start(self, service: str, lang: str = "en") -> None:
        self.window.set_language(lang)
        self.app.start_journey(service, {"lang": lang})

    # -- the virtual person in front of the camera --------------------------------------------
    def pass_face_check(self, *, cooperate: bool = True, timeout: float = 30.0) -> list[str]:
        """Act on each challenge the screen shows (as the customer would); returns the challenges seen."""
        acted: dict[tuple[Any, ...], float] = {}
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while self.window.current_state() == "face_check" and time.monotonic() < deadline:
            view = self.view
            data = view.data if view is not None else {}
            if view is None or view.screen != "face_check" or data.get("retry"):
                break
            challenge = str(data.get("challenge") or "")
            key = (data.get("attempt"), data.get("liveness_attempt"), data.get("step"), challenge)
            # A customer does what the screen asks, and does it again if the prompt is still there.
            if challenge and time.monotonic() - acted.get(key, -10.0) > REPEAT_AFTER_S:
                if key not in acted:
                    seen.append(challenge)
                acted[key] = time.monotonic()
                if cooperate:
                    self.ctl["camera"].call("act", action=challenge)
            self.qtbot.wait(40)
        return seen


def _client(server: Any) -> ControlClient:
    return ControlClient(server.describe()["control"])


@pytest.fixture
def kiosk(
    qapp: QApplication,
    qtbot: QtBot,
    tmp_path: Path,
    face_worker: BiometricsWorker,
    monkeypatch: pytest.MonkeyPatch,
    bank_host: Any,
) -> Iterator[Kiosk]:
    from ui.app import KioskWindow
    from ui.kiosk_app import KioskApp
    from ui.theme import apply_theme

    apply_theme(qapp, "en")
    servers: dict[str, Any] = {
        "id_reader": id_sim.make_server(faces_dir=FACES),
        "camera": camera_sim.make_server(faces_dir=FACES, source="virtual_person", fps=20.0),
        "card_dispenser": dispenser_sim.make_server(stock=5),
        "pin_pad": pin_sim.make_server(),
        "printer": printer_sim.make_server(out_dir=tmp_path / "printed", render_png=False),
    }
    started: list[Any] = []
    try:
        for server in servers.values():
            server.start()
            started.append(server)
        servers["camera"].handle_control(
            "source", {"name": "virtual_person", "photo": PERSON_PHOTO, "seed": 3}
        )
        urls = {name: server.describe()["url"] for name, server in servers.items()}
        monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
        (tmp_path / "none.toml").write_text("", encoding="utf-8")
        settings = load_settings(
            data_dir=str(tmp_path / "data"),
            devices=urls,
            journeys={"take_card_timeout_s": 5, "take_card_warning_s": 2, "idle_timeout_s": 120},
            biometrics={"max_attempts": 2},
            host={"urls": [bank_host.url], "iso8583": [bank_host.process.iso8583]},
        )
        bank_host.install_credential(tmp_path / "data")
        services = TerminalServices.start(settings, biometrics=face_worker)
        devices = DeviceSet(
            id_reader=IdReaderDriver(urls["id_reader"], poll_interval=0.1),
            camera=OpenCvCameraDriver(urls["camera"]),
            card_dispenser=CardDispenserDriver(urls["card_dispenser"], poll_interval=0.05),
            pin_pad=PinPadDriver(urls["pin_pad"]),
            printer=EscPosPrinterDriver(urls["printer"]),
        )
        devices.start()
        window = KioskWindow(settings, lang="en")
        app = KioskApp(window, devices, services)
        window.show()
        qtbot.waitUntil(
            lambda: devices.camera is not None and devices.camera.latest_frame() is not None, timeout=10000
        )
        qtbot.waitUntil(
            lambda: all(str(d.status().state) == "online" for _, d in devices.items()), timeout=10000
        )
        kiosk = Kiosk(
            app,
            window,
            services,
            devices,
            {n: _client(s) for n, s in servers.items()},
            servers["printer"],
            qtbot,
            bank_host,
        )
        yield kiosk
        app.shutdown()
        assert join_face_checks(15)
        window.shutdown()
        window.close()
        devices.close()
        services.biometrics = None  # the module's worker outlives this kiosk
        services.close()
    finally:
        for server in started:
            server.close()
