"""The printer simulator's stored copies (``receipt-NNNN.txt`` / ``.png``): the paper of an account
opening carries the customer's new account number in full; the files left on disk must not, and only
the simulator's user may read them."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from app.effects.opening import opening_receipt_document
from devices.base import Completion
from devices.printer.driver import EscPosPrinterDriver
from devices.simcontrol import ControlClient
from simulators.printer import PrinterServer, make_server

ACCOUNT = "0001100000012345"
PHONE = "13912345678"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PrinterServer]:
    server = make_server(out_dir=tmp_path / "printed", render_png=True).start()
    yield server
    server.close()


def test_an_opening_receipt_is_stored_masked_and_owner_only(sim: PrinterServer, tmp_path: Path) -> None:
    params = {"lang": "zh_CN", "name": "张伟明", "account_number": ACCOUNT, "pan_masked": "621234******5678"}
    bank = SimpleNamespace(bank_name="智能银行", kiosk_id="KIOSK-0001")
    document = opening_receipt_document(
        params, bank, datetime(2026, 5, 20, tzinfo=ZoneInfo("Asia/Shanghai")), "O1A2B3C4"
    )
    # A footer line with a phone number, as a bank's own footer text might carry one by mistake.
    document = type(document)(**{**document.__dict__, "footer": (f"客服 {PHONE}",)})
    driver = EscPosPrinterDriver(sim.describe()["url"], status_timeout=0.5, print_timeout=3.0)
    driver.start()
    try:
        assert driver.print_receipt(document).result(5).code is Completion.SUCCESS
    finally:
        driver.close()
    ctl = ControlClient(sim.describe()["control"])
    deadline = time.monotonic() + 5
    while not ctl.call("receipts") and time.monotonic() < deadline:
        time.sleep(0.05)
    [paper] = ctl.call("receipts")
    assert ACCOUNT in paper["text"]  # what the customer takes home
    folder = tmp_path / "printed"
    files = sorted(folder.iterdir())
    assert [path.suffix for path in files] == [".png", ".txt"]
    stored = (folder / Path(paper["txt"]).name).read_text(encoding="utf-8")
    assert ACCOUNT not in stored and PHONE not in stored and "张伟明" not in stored
    assert "000110******2345" in stored and "139****5678" in stored and "**明" in stored
    for path in files:
        raw = path.read_bytes()
        assert ACCOUNT.encode() not in raw and "张伟明".encode() not in raw
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with Image.open(folder / Path(paper["png"]).name) as image:
        assert image.width > 0  # a real PNG, rendered from the masked copy
