"""ESC/POS injection: a payee name carrying printer commands (ESC @ reset, GS V cut, ESC p cash-drawer
kick) is refused at the payee screen, and whatever text still reaches the printer driver goes out as
text only: the bytes the printer simulator receives hold no injected command."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.effects.printer import to_document
from devices.base import Completion
from devices.printer.driver import EscPosPrinterDriver
from devices.printer.escpos import EscPosBuilder
from devices.printer.layout import ReceiptDocument, ReceiptLine, encode_receipt
from kiosk.journeys.receipts import build_receipt
from kiosk.journeys.transfer import check_payee
from simulators.printer import PrinterServer, make_server

RESET_AND_CUT = "\x1b@\x1dV\x00"
DRAWER_KICK = "\x1bp\x00"
ATTACK_NAMES = (
    RESET_AND_CUT,
    DRAWER_KICK,
    f"Li{RESET_AND_CUT} Na{DRAWER_KICK}",
    f"{DRAWER_KICK} x",
    "李\x1bp\x00娜",
)


class Wire:
    """Every byte the printer simulator is given, in order."""

    def __init__(self, server: PrinterServer) -> None:
        self.data = bytearray()
        self._lock = threading.Lock()
        original = server.device.on_bytes

        def recording(data: bytes) -> bytes:
            with self._lock:
                self.data += data
            return original(data)

        server.device.on_bytes = recording  # type: ignore[method-assign]

    def bytes(self) -> bytes:
        with self._lock:
            return bytes(self.data)


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[tuple[EscPosPrinterDriver, Wire]]:
    server = make_server(out_dir=tmp_path, render_png=False).start()
    wire = Wire(server)
    driver = EscPosPrinterDriver(server.describe()["url"], status_timeout=0.5, print_timeout=3.0)
    driver.start()
    try:
        yield driver, wire
    finally:
        driver.close()
        server.close()


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_the_payee_screen_refuses_a_name_with_control_characters(name: str) -> None:
    assert check_payee("customer", "0001100000010030", name, "", "888") == "transfer.error.name_characters"


def _injected(wire: bytes, last_text: bytes) -> list[str]:
    """What in ``wire`` is a command the driver did not mean to send."""
    found = []
    if b"\x1bp" in wire:
        found.append("ESC p (cash drawer kick)")
    if RESET_AND_CUT.encode() in wire:
        found.append("ESC @ GS V (reset and cut)")
    if wire.count(b"\x1b@") != 1:  # the driver's own initialise, once per job
        found.append("extra ESC @ (reset)")
    if wire.count(b"\x1dV") != 1 or wire.rindex(b"\x1dV") < wire.rindex(last_text):
        found.append("extra GS V (cut) before the end of the receipt")
    return found


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_a_transfer_receipt_with_an_injected_payee_name_sends_no_command(
    printer: tuple[EscPosPrinterDriver, Wire], name: str
) -> None:
    driver, wire = printer
    details = {
        "kind": "customer",
        "from_account": "****0014",
        "to_account_masked": "****0030",
        "payee_name": name,
        "status": "posted",
        "amount_minor": 600_000,
        "fee_minor": 0,
    }
    when = datetime(2026, 5, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # bank time, as the journey has it
    receipt = build_receipt("transfer", "en", when, "TR0000000042", "", details, "CNY")
    result = driver.print_receipt(to_document(receipt, "Smart Teller Bank", "KIOSK-0001")).result(5)
    assert result.code is Completion.SUCCESS, result.detail
    sent = wire.bytes()
    assert b"TR0000000042" in sent  # the job really went out
    assert _injected(sent, b"TR0000000042") == []


def test_the_driver_strips_control_bytes_from_every_text_it_is_given() -> None:
    document = ReceiptDocument(
        bank_name=f"Bank{DRAWER_KICK}",
        kiosk_id=f"K{RESET_AND_CUT}1",
        date="2026-05-20 10:00:00",
        reference="R1",
        title=f"Title{DRAWER_KICK}",
        lines=(ReceiptLine(f"Payee{RESET_AND_CUT}", f"王{DRAWER_KICK}芳"),),
        footer=(f"bye{RESET_AND_CUT}",),
    )
    data = encode_receipt(document)
    assert _injected(data, b"bye") == []
    # ESC and NUL go; the "p" between them is plain text. C1 (NEL) and a bidi override go too.
    assert EscPosBuilder().text(f"a{DRAWER_KICK}\x85\u202eb").getvalue() == b"apb"
