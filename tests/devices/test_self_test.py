"""Every driver's ``self_test()`` against its real simulator over loopback: a healthy device passes every
check; a fault injected through the simulator's control API fails exactly the check that names it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.base import Completion, DeviceState, DriverBase
from devices.camera.driver import OpenCvCameraDriver
from devices.card_dispenser.driver import CardDispenserDriver
from devices.card_reader.driver import CardReaderDriver
from devices.id_reader.driver import IdReaderDriver
from devices.pin_pad.driver import PinPadDriver
from devices.printer.driver import EscPosPrinterDriver
from devices.selftest import SelfTestReport
from devices.simcontrol import ControlClient

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "faces"


def _wait_online(driver: DriverBase, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while driver.status().state is not DeviceState.ONLINE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert driver.status().state is DeviceState.ONLINE, driver.status()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Callable[..., tuple[Any, ControlClient]]]:
    """``rig(device_class, driver_factory)`` starts the simulator and a driver on it; all closed after."""
    started: list[Any] = []

    def make(device: str, factory: Callable[[str], DriverBase], **options: Any) -> tuple[Any, ControlClient]:
        import importlib

        module = importlib.import_module(f"simulators.{device}")
        server = module.make_server(**options).start()
        started.append(server)
        driver = factory(server.describe()["url"])
        started.append(driver)
        driver.start()
        _wait_online(driver)
        return driver, ControlClient(server.describe()["control"])

    yield make
    for item in reversed(started):
        item.close()


def _report(result: Any) -> SelfTestReport:
    assert isinstance(result.value, SelfTestReport), result
    return result.value


def _failed(report: SelfTestReport) -> list[str]:
    return [check.name for check in report.failures()]


def test_card_reader_passes_then_names_the_jam_and_a_full_bin(rig: Any) -> None:
    driver, ctl = rig("card_reader", CardReaderDriver)
    result = driver.self_test().result(5)
    report = _report(result)
    assert result.code is Completion.SUCCESS and report.passed, report.summary()
    assert report.firmware == "SIM-ICT3Q8 1.0"
    assert [c.name for c in report.checks] == [
        "initialise",
        "no card jam",
        "retain bin has room",
        "card path clear",
        "shutter opens and closes",
    ]
    commands = ctl.call("state")["commands"]
    assert commands[-2:] == ["C:0", "C:1"]  # the shutter really cycled, and closed last
    ctl.call("jam")
    ctl.call("bin_full")
    result = driver.self_test().result(5)
    report = _report(result)
    assert result.code is Completion.HARDWARE_ERROR
    assert _failed(report) == ["no card jam", "retain bin has room"]
    assert "50 of 50 retained" in result.detail


def test_pin_pad_passes_then_reports_tamper(rig: Any) -> None:
    driver, ctl = rig("pin_pad", PinPadDriver)
    report = _report(driver.self_test().result(5))
    assert report.passed and report.firmware
    ctl.call("tamper")
    result = driver.self_test().result(5)
    assert result.code is Completion.HARDWARE_ERROR
    assert _failed(_report(result)) == ["not tampered", "TDES PIN key loaded", "AES PIN key loaded"]


def test_card_dispenser_passes_then_reports_empty_stock_and_jam(rig: Any) -> None:
    driver, ctl = rig("card_dispenser", CardDispenserDriver)
    report = _report(driver.self_test().result(5))
    assert report.passed and report.firmware == "SIM-CRT541 1.0"
    assert report.facts == {"stock": "ok", "position": "none"}
    ctl.call("stock_low")
    assert _report(driver.self_test().result(5)).passed  # low stock still serves customers
    ctl.call("stock_empty")
    ctl.call("jam")
    result = driver.self_test().result(5)
    assert _failed(_report(result)) == ["no card jam", "blank cards in stock"]


def test_printer_passes_then_names_paper_out_and_cover(rig: Any, tmp_path: Path) -> None:
    driver, ctl = rig(
        "printer",
        lambda url: EscPosPrinterDriver(url, status_timeout=0.5),
        out_dir=tmp_path,
        render_png=False,
    )
    report = _report(driver.self_test().result(5))
    assert report.passed and report.facts == {"paper": "ok"}
    ctl.call("paper_out")
    ctl.call("cover_open")
    result = driver.self_test().result(5)
    assert result.code is Completion.HARDWARE_ERROR
    assert _failed(_report(result)) == ["cover closed", "paper"]
    assert ctl.call("state")["receipts"] == 0  # a self-test prints nothing


def test_id_reader_sam_and_card_search(rig: Any) -> None:
    driver, ctl = rig("id_reader", lambda url: IdReaderDriver(url, presence_poll=False), faces_dir=FACES)
    report = _report(driver.self_test().result(5))
    assert report.passed and report.facts == {"card_present": False}
    ctl.call("place_card", card_id="li_minghua")
    assert _report(driver.self_test().result(5)).facts == {"card_present": True}


def test_camera_needs_a_new_frame(rig: Any) -> None:
    driver, ctl = rig("camera", OpenCvCameraDriver, faces_dir=FACES, source="empty")
    report = _report(driver.self_test().result(5))
    assert report.passed, report.summary()
    assert (report.facts["width"], report.facts["height"]) == (640, 480)
    assert report.firmware.startswith("OpenCV")
    ctl.call("freeze")
    time.sleep(1.2)  # past the one-second watchdog
    result = driver.self_test(timeout=1.0).result(5)
    assert not result.ok
    assert _failed(_report(result)) == ["new frame"]


def test_self_test_on_a_stopped_driver_is_an_offline_value() -> None:
    driver = CardReaderDriver("socket://127.0.0.1:9")
    result = driver.self_test().result(1)
    assert result.code is Completion.OFFLINE and result.value is None
