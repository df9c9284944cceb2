"""A device that recovers stops showing its old error: the fault, what the last self-test found and the red
outcome line go when its state returns to online (the journal keeps the history)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from devices.base import DeviceState, DeviceStatus
from hostlink.technicians import Role, TechSession
from kiosk.maintenance.overview import describe_device
from kiosk.maintenance.service import ActionOutcome
from ui.maintenance.pages import DevicesPage

T = TypeVar("T")


class SwitchableReader:
    """A card reader whose status the test sets; like the real driver it keeps its last error."""

    url = "fake://reader"

    def __init__(self) -> None:
        self.state = DeviceState.HARDWARE_ERROR
        self.last_error: str | None = "card jam"
        self.detail: dict[str, Any] = {"media": "none", "jammed": True, "retained": 30, "bin_full": True}

    def status(self) -> DeviceStatus:
        return DeviceStatus("card_reader", self.state, dict(self.detail), self.last_error)


class FailingSelfTest:
    def self_test(self, session: TechSession, device: str) -> ActionOutcome:
        checks = [
            {"name": "no card jam", "passed": False, "detail": "card jam"},
            {"name": "retain bin has room", "passed": False, "detail": "30 of 30 retained"},
        ]
        return ActionOutcome("self_test", False, "hardware_error", "", {"device": device, "checks": checks})


class InlineRunner:
    """The controller's Runner, run on the calling thread."""

    def __init__(self, reader: SwitchableReader) -> None:
        self.reader = reader
        self.service: Any = FailingSelfTest()
        self._session = TechSession("tina", Role.TECHNICIAN, timedelta(minutes=5), datetime.now(UTC))

    @property
    def session(self) -> TechSession | None:
        return self._session

    def run(self, fn: Callable[[TechSession], T], done: Callable[[T], None], *, label: str = "") -> None:
        done(fn(self._session))

    def describe(self, name: str) -> dict[str, Any]:
        return describe_device(name, self.reader)

    def test_receipt(self) -> Any:
        return None


def test_the_old_error_goes_when_the_device_is_online_again(qtbot: QtBot, themed: QApplication) -> None:
    reader = SwitchableReader()
    page = DevicesPage(InlineRunner(reader), ["card_reader"], "en")
    qtbot.addWidget(page)
    page.shown()
    assert "A card is stuck inside the card reader." in page.details.text()
    page.self_test_button.click()
    assert page.outcome.ok is False
    assert "The retain bin is full" in page.details.text()  # found by the self-test, beside the jam

    # the technician frees the card and empties the bin; the driver reports online (its last_error stays)
    reader.state = DeviceState.ONLINE
    reader.detail.update(jammed=False, bin_full=False, retained=0)
    page.refresh("card_reader")
    shown = page.details.text()
    assert (
        "A card is stuck" not in shown
        and "retain bin is full" not in shown
        and "Self-test found" not in shown
    )
    assert "card jam" not in shown
    assert page.outcome.text() == "" and page.outcome.ok is None
    assert page.device_buttons["card_reader"].hint() == "Online"

    # a fault that comes back shows again
    reader.state = DeviceState.HARDWARE_ERROR
    page.refresh("card_reader")
    assert "A card is stuck inside the card reader." in page.details.text()
