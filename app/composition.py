"""Composition root: drivers built from the settings' addresses, started, and closed again.

The app only ever gets addresses (pyserial URLs, ``tcp://`` for the printer, a device index, file or MJPEG
URL for the camera); it cannot tell a simulator from hardware. A device whose address is empty is not
configured: journeys that need it are out of service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, fields

from devices.base import Device, DeviceStatus
from devices.camera.driver import OpenCvCameraDriver
from devices.camera.interface import Camera
from devices.card_dispenser.driver import CardDispenserDriver
from devices.card_dispenser.interface import CardDispenser
from devices.card_reader.driver import CardReaderDriver
from devices.card_reader.interface import CardReader
from devices.id_reader.driver import IdReaderDriver
from devices.id_reader.interface import IdCardReader
from devices.pin_pad.driver import PinPadDriver
from devices.pin_pad.interface import PinPad
from devices.printer.driver import EscPosPrinterDriver
from devices.printer.interface import ReceiptPrinter
from kiosk.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DeviceSet:
    """The terminal's devices, each typed by its class's interface: handlers and journeys see what a
    card reader or a printer does, never which driver (or which simulator behind it) does it."""

    card_reader: CardReader | None = None
    pin_pad: PinPad | None = None
    card_dispenser: CardDispenser | None = None
    id_reader: IdCardReader | None = None
    printer: ReceiptPrinter | None = None
    camera: Camera | None = None

    def items(self) -> Iterator[tuple[str, Device]]:
        for f in fields(self):
            driver = getattr(self, f.name)
            if driver is not None:
                yield f.name, driver

    def get(self, name: str) -> Device | None:
        """A device by its class name (maintenance, ``smart-teller device``); None if not configured."""
        return dict(self.items()).get(name)

    def start(self) -> None:
        for _, driver in self.items():
            driver.start()

    def close(self) -> None:
        """Stop every driver and join its I/O thread (all asked first, then all joined)."""
        drivers = list(self.items())
        for _, driver in drivers:
            driver.request_stop()
        for name, driver in drivers:
            try:
                driver.close()
            except Exception:
                log.exception("closing %s failed", name)

    def statuses(self) -> dict[str, DeviceStatus]:
        return {name: driver.status() for name, driver in self.items()}


def camera_source(address: str) -> int | str:
    """``"0"`` is a device index; anything else a file path or URL."""
    return int(address) if address.isdigit() else address


def build_devices(settings: Settings) -> DeviceSet:
    """Construct (not start) a driver for every configured device."""
    d = settings.devices
    return DeviceSet(
        card_reader=CardReaderDriver(d.card_reader, reply_timeout=d.command_timeout_s)
        if d.card_reader
        else None,
        pin_pad=PinPadDriver(d.pin_pad, reply_timeout=d.command_timeout_s) if d.pin_pad else None,
        card_dispenser=(
            CardDispenserDriver(d.card_dispenser, reply_timeout=d.command_timeout_s)
            if d.card_dispenser
            else None
        ),
        id_reader=IdReaderDriver(d.id_reader, baudrate=d.baud_rate) if d.id_reader else None,
        printer=EscPosPrinterDriver(d.printer, baudrate=d.baud_rate) if d.printer else None,
        camera=OpenCvCameraDriver(camera_source(d.camera)) if d.camera else None,
    )
