"""The printer driver against the real printer simulator over loopback TCP (and pyserial socket://)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import Completion, DeviceEvent, DeviceState
from devices.printer.driver import EscPosPrinterDriver
from devices.printer.layout import ReceiptDocument, ReceiptLine
from devices.simcontrol import ControlClient
from simulators.printer import PrinterServer, make_server

DOC = ReceiptDocument(
    bank_name="Smart Bank",
    kiosk_id="K-0042",
    date="2024-05-01 10:22:33",
    reference="202405010042",
    masked_pan="435211******1234",
    title="Cash withdrawal",
    lines=(ReceiptLine("Account", "Current ****1234"),),
    amounts=(ReceiptLine("Amount", "CNY 1,000.00"),),
    footer=("Thank you",),
)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PrinterServer]:
    server = make_server(out_dir=tmp_path, render_png=False).start()
    yield server
    server.close()


class Events:
    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: DeviceEvent) -> None:
        with self._lock:
            self.items.append(event)

    def kinds(self) -> list[str]:
        with self._lock:
            return [e.kind for e in self.items if e.kind != "state_changed"]


@pytest.fixture
def driver(sim: PrinterServer) -> Iterator[tuple[EscPosPrinterDriver, ControlClient, Events]]:
    drv = EscPosPrinterDriver(sim.describe()["url"], status_timeout=0.5, print_timeout=3.0)
    events = Events()
    drv.subscribe(events)
    drv.start()
    yield drv, ControlClient(sim.describe()["control"]), events
    drv.close()


def _wait_online(drv: EscPosPrinterDriver, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while drv.status().state is not DeviceState.ONLINE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert drv.status().state is DeviceState.ONLINE


def test_receipt_prints_and_is_rendered(driver: tuple[EscPosPrinterDriver, ControlClient, Events]) -> None:
    drv, ctl, _ = driver
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.SUCCESS, result.detail
    assert result.value is not None and result.value.bytes_sent > 300 and result.value.paper == "ok"
    receipts = ctl.call("receipts")
    assert len(receipts) == 1
    text = receipts[0]["text"]
    for expected in ("Smart Bank", "K-0042", "435211******1234", "CNY 1,000.00", "[QR: 202405010042]"):
        assert expected in text
    assert Path(receipts[0]["txt"]).read_text(encoding="utf-8") == text
    assert drv.counters()["receipts_printed"] == 1


def test_paper_low_still_prints_and_is_counted_once(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, events = driver
    ctl.call("paper_low")
    first = drv.print_receipt(DOC).result(5)
    second = drv.print_receipt(DOC).result(5)
    assert first.ok and second.ok
    assert first.detail == "printed, paper low"
    assert events.kinds().count("paper_low") == 1
    assert drv.counters()["paper_low_events"] == 1
    assert drv.status().detail["paper"] == "low"


def test_paper_out_is_never_reported_as_printed(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, events = driver
    ctl.call("paper_out")
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.PAPER_OUT
    assert ctl.call("receipts") == []
    assert "paper_out" in events.kinds()
    assert drv.status().state is DeviceState.USER_ERROR
    assert drv.counters() == {"receipts_printed": 0, "receipts_failed": 1, "paper_low_events": 0}


def test_paper_running_out_during_the_job_fails_the_receipt(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, _ = driver
    ctl.call("paper_end_after", nbytes=100)  # status before is clean: only the status after can tell
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.PAPER_OUT
    assert result.value is not None and result.value.before is not None and result.value.before.ready
    assert ctl.call("receipts") == []


def test_cover_open_fails_with_user_error(driver: tuple[EscPosPrinterDriver, ControlClient, Events]) -> None:
    drv, ctl, events = driver
    ctl.call("cover_open")
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.USER_ERROR and "cover open" in result.detail
    assert "cover_open" in events.kinds()


def test_cutter_jam_is_a_failed_receipt(driver: tuple[EscPosPrinterDriver, ControlClient, Events]) -> None:
    drv, ctl, events = driver
    ctl.call("cutter_jam")
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.MEDIA_JAMMED
    assert drv.status().state is DeviceState.HARDWARE_ERROR
    assert "cutter_error" in events.kinds()
    assert ctl.call("receipts")[0]["cut"] is False
    ctl.call("clear_faults")
    assert drv.print_receipt(DOC).result(5).ok


def test_disconnect_mid_job_fails_then_the_driver_reconnects(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, _ = driver
    _wait_online(drv)
    ctl.call("disconnect_after", nbytes=150)
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.OFFLINE
    assert ctl.call("receipts") == []
    _wait_online(drv)
    assert drv.print_receipt(DOC).result(5).ok
    assert drv.counters()["receipts_failed"] == 1


def test_unplugged_printer_fails_jobs_as_offline(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, _ = driver
    _wait_online(drv)
    ctl.call("unplug")
    result = drv.print_receipt(DOC).result(5)
    assert result.code is Completion.OFFLINE
    ctl.call("plug")
    _wait_online(drv)


def test_serial_url_to_the_same_simulator(sim: PrinterServer) -> None:
    url = f"socket://127.0.0.1:{sim.port}"  # pyserial speaks raw TCP too
    drv = EscPosPrinterDriver(url, status_timeout=0.5, print_timeout=3.0)
    drv.start()
    try:
        assert drv.print_receipt(DOC).result(5).ok
        status = drv.query_status().result(3)
        assert status.ok and status.value is not None and status.value.paper == "ok"
    finally:
        drv.close()


def test_chinese_receipt_round_trips_through_the_simulator(
    driver: tuple[EscPosPrinterDriver, ControlClient, Events],
) -> None:
    drv, ctl, _ = driver
    doc = ReceiptDocument(
        bank_name="智能银行", kiosk_id="K-0001", date="2024-05-01", reference="R2", language="zh",
        amounts=(ReceiptLine("取款金额", "¥1,000.00"),), footer=("谢谢惠顾",),
    )  # fmt: skip
    assert drv.print_receipt(doc).result(5).ok
    text = ctl.call("receipts")[0]["text"]
    assert "智能银行" in text and "终端号" in text and "¥1,000.00" in text and "谢谢惠顾" in text
