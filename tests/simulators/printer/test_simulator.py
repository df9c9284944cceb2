"""The printer simulator accepts what python-escpos sends, answers its status queries truthfully and
renders receipts; its interpreter survives arbitrary bytes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.printer import Network
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.simcontrol import ControlClient
from simulators.printer import PrinterServer, make_server
from simulators.printer.interpreter import EscPosInterpreter, ImageBlock, QrBlock, Receipt


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PrinterServer]:
    server = make_server(out_dir=tmp_path).start()
    yield server
    server.close()


def _wait_for_receipts(ctl: ControlClient, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
    """python-escpos returns once its bytes are in the socket; the simulator renders a moment later."""
    deadline = time.monotonic() + timeout
    receipts: list[dict[str, str]] = ctl.call("receipts")
    while len(receipts) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        receipts = ctl.call("receipts")
    return receipts


def _network(sim: PrinterServer) -> Network:
    printer = Network("127.0.0.1", port=sim.port, timeout=5)
    printer.open()
    return printer


def test_python_escpos_network_receipt_is_rendered(sim: PrinterServer) -> None:
    printer = _network(sim)
    try:
        printer.set(align="center", bold=True, double_height=True, double_width=True)
        printer.textln("Smart Bank")
        printer.set_with_default()
        printer.textln("Amount      CNY 50.00")
        printer.qr("REF-123", native=True)
        printer.image(Image.new("1", (64, 16), 0))  # raster image: consumed and drawn
        printer.textln("取款成功")  # python-escpos sends raw GB18030
        printer.cut()
    finally:
        printer.close()
    receipts = _wait_for_receipts(ControlClient(sim.describe()["control"]), 1)
    assert len(receipts) == 1
    text = receipts[0]["text"]
    assert "Smart Bank" in text and "CNY 50.00" in text and "[QR: REF-123]" in text
    assert "[image 64x16]" in text and "取款成功" in text
    png = Path(receipts[0]["png"])
    with Image.open(png) as image:
        assert image.width == 576 and image.height > 200


def test_python_escpos_status_queries_are_truthful(sim: PrinterServer) -> None:
    ctl = ControlClient(sim.describe()["control"])
    printer = _network(sim)
    try:
        assert printer.is_online() is True
        assert printer.paper_status() == 2
        ctl.call("paper_low")
        assert printer.paper_status() == 1
        ctl.call("paper_out")
        assert printer.paper_status() == 0
        assert printer.is_online() is False
        ctl.call("refill")
        assert printer.paper_status() == 2
    finally:
        printer.close()


def _interpreter() -> tuple[EscPosInterpreter, list[Receipt], list[int]]:
    cuts: list[Receipt] = []
    asked: list[int] = []

    def status(n: int) -> int:
        asked.append(n)
        return 0x12

    return EscPosInterpreter(status_byte=status, paper_sensor=lambda: 0, on_cut=cuts.append), cuts, asked


def test_interpreter_handles_commands_split_across_reads() -> None:
    interp, cuts, asked = _interpreter()
    stream = (
        b"\x1b@\x1ba\x01Hello \x1bE\x01world\n" + "中文".encode("gb18030") + b"\n"
        + bytes.fromhex("1d286b0500315030") + b"AB" + bytes.fromhex("1d286b0300315130")
        + b"\x10\x04\x04" + b"\x1dV\x00"
    )  # fmt: skip
    replies = b"".join(interp.feed(stream[i : i + 1]) for i in range(len(stream)))
    assert replies == b"\x12" and asked == [4]
    assert len(cuts) == 1
    blocks = cuts[0].blocks
    assert blocks[0].text == "Hello world"  # type: ignore[union-attr]
    assert blocks[0].segments[1].style.bold  # type: ignore[union-attr]
    assert blocks[1].text == "中文"  # type: ignore[union-attr]
    assert isinstance(blocks[2], QrBlock) and blocks[2].payload == "AB"


def test_raster_image_bytes_are_consumed_not_printed() -> None:
    interp, cuts, _ = _interpreter()
    # GS v 0: 1 byte wide (8 dots), 2 rows; the data bytes 0x0A 0x1B must not be read as LF/ESC
    interp.feed(bytes.fromhex("1d7630000100020" + "0") + b"\x0a\x1b" + b"X\n\x1dV\x00")
    blocks = cuts[0].blocks
    assert isinstance(blocks[0], ImageBlock) and (blocks[0].width, blocks[0].height) == (8, 2)
    assert blocks[1].text == "X"  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_interpreter_never_crashes_on_garbage(chunks: list[bytes]) -> None:
    interp, _, _ = _interpreter()
    for chunk in chunks:
        interp.feed(chunk)
    assert interp.pending <= 8 + 65535 + 7  # only an incomplete command can be held back
