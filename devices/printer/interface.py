"""What the kiosk expects of a receipt printer (structural: any driver with these methods fits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from devices.base import Device, Operation
from devices.printer.escpos import PrinterStatus
from devices.printer.layout import ReceiptDocument


@dataclass(frozen=True)
class PrintReport:
    """What happened to one receipt (the value of a print Operation's Result, also on failure)."""

    bytes_sent: int
    seconds: float
    before: PrinterStatus | None
    after: PrinterStatus | None

    @property
    def paper(self) -> str:
        status = self.after or self.before
        return status.paper if status is not None else "unknown"


class ReceiptPrinter(Device, Protocol):
    def print_receipt(self, doc: ReceiptDocument) -> Operation[PrintReport]: ...

    def query_status(self) -> Operation[PrinterStatus]: ...

    def counters(self) -> dict[str, int]: ...
