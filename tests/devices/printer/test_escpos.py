"""ESC/POS codec pinned to bytes written from the Epson ESC/POS command reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.escpos import (
    Align,
    EscPosBuilder,
    PrinterStatus,
    QrErrorLevel,
    StatusKind,
    is_status_byte,
    paper_sensor_byte,
    parse_paper_sensor,
    status_request,
)
from devices.printer.layout import ReceiptDocument, ReceiptLine, encode_receipt, label_value_rows


def test_single_commands_match_the_reference() -> None:
    assert EscPosBuilder().initialize().getvalue() == bytes.fromhex("1b40")
    assert EscPosBuilder().bold(True).bold(False).getvalue() == bytes.fromhex("1b4501 1b4500")
    assert EscPosBuilder().align(Align.CENTER).align(Align.RIGHT).getvalue() == bytes.fromhex("1b6101 1b6102")
    # GS ! n: bits 4-6 width-1, bits 0-2 height-1
    assert EscPosBuilder().size(2, 2).size(1, 3).getvalue() == bytes.fromhex("1d2111 1d2102")
    assert EscPosBuilder().cut().cut(partial=True).getvalue() == bytes.fromhex("1d5600 1d5601")
    assert EscPosBuilder().cut(feed=3).getvalue() == bytes.fromhex("1d564103")
    assert EscPosBuilder().feed(4).getvalue() == bytes.fromhex("1b6404")
    assert EscPosBuilder().paper_sensor_request().getvalue() == bytes.fromhex("1d7201")
    assert [status_request(k) for k in StatusKind] == [bytes.fromhex(f"10040{n}") for n in (1, 2, 3, 4)]


def test_qr_sequence_is_gs_paren_k_model_size_level_store_print() -> None:
    got = EscPosBuilder().qr("R1", module_size=6, level=QrErrorLevel.M).getvalue()
    expected = bytes.fromhex(
        "1d286b 0400 31 41 32 00"  # fn 65: model 2
        "1d286b 0300 31 43 06"  # fn 67: module size 6
        "1d286b 0300 31 45 31"  # fn 69: error correction M (49)
        "1d286b 0500 31 50 30 5231"  # fn 80: store "R1" (pL = 2 + 3)
        "1d286b 0300 31 51 30"  # fn 81: print
    )
    assert got == expected


def test_chinese_text_is_gb18030_inside_fs_ampersand() -> None:
    # 中 is D6 D0 in GB2312/GB18030
    assert EscPosBuilder().text("中").getvalue() == bytes.fromhex("1c26 d6d0 1c2e")
    assert EscPosBuilder().text("A").getvalue() == b"A"


def test_sample_receipt_is_byte_exact() -> None:
    doc = ReceiptDocument(
        bank_name="Bank", kiosk_id="K1", date="2024-05-01", reference="R1", footer=("Thanks",)
    )
    expected = (
        bytes.fromhex("1b40 1b6101 1b4501 1d2111")
        + b"Bank\n"
        + bytes.fromhex("1d2100 1b4500 1b6100")
        + b"-" * 20 + b"\n"
        + b"Kiosk" + b" " * 13 + b"K1\n"
        + b"Date" + b" " * 6 + b"2024-05-01\n"
        + b"-" * 20 + b"\n"
        + b"Reference" + b" " * 9 + b"R1\n"
        + bytes.fromhex("1b6101")
        + bytes.fromhex("1d286b0400314132001d286b03003143061d286b03003145311d286b05003150305231")
        + bytes.fromhex("1d286b0300315130")
        + b"\n"
        + b"Thanks\n"
        + bytes.fromhex("1b6100 1b6404 1d5600")
    )  # fmt: skip
    assert encode_receipt(doc, columns=20) == expected


def test_receipt_with_amounts_pan_and_chinese() -> None:
    doc = ReceiptDocument(
        bank_name="智能银行", kiosk_id="K-0001", date="2024-05-01", reference="R9", language="zh",
        masked_pan="622848******1234", amounts=(ReceiptLine("金额", "¥100.00"),),
    )  # fmt: skip
    data = encode_receipt(doc)
    assert "智能银行".encode("gb18030") in data
    assert b"622848******1234" in data
    assert bytes.fromhex("1b4501") + bytes.fromhex("1c26") + "金额".encode("gb18030") in data
    assert data.endswith(bytes.fromhex("1b6404 1d5600"))


def test_layout_refuses_an_unmasked_pan() -> None:
    with pytest.raises(ValueError, match="mask"):
        ReceiptDocument(bank_name="B", kiosk_id="K", date="d", reference="R", masked_pan="4321987654321098")


def test_label_value_rows_count_cjk_as_two_columns() -> None:
    assert label_value_rows("金额", "1.00", 10) == ["金额  1.00"]
    assert label_value_rows("A long label", "value", 10) == ["A long label", "     value"]


@pytest.mark.parametrize(
    ("replies", "paper", "ready"),
    [
        (bytes.fromhex("12121212"), "ok", True),
        (bytes.fromhex("1212121e"), "low", True),  # n=4 bits 2,3: near-end
        (bytes.fromhex("1a321272"), "out", False),  # n=4 bits 5,6: paper end; n=2 bit 5; n=1 bit 3
    ],
)
def test_status_paper_bits(replies: bytes, paper: str, ready: bool) -> None:
    status = PrinterStatus.from_bytes(replies)
    assert status.paper == paper
    assert status.ready is ready


def test_status_cover_and_cutter_bits() -> None:
    cover = PrinterStatus.from_bytes(bytes.fromhex("1a161212"))  # n=2 bit 2
    assert cover.cover_open and cover.offline and not cover.ready
    cutter = PrinterStatus.from_bytes(bytes.fromhex("1a521a12"))  # n=2 bit 6, n=3 bit 3
    assert cutter.cutter_error and cutter.error and not cutter.ready


def test_status_encoding_matches_the_reference_bits() -> None:
    assert PrinterStatus(
        offline=True, paper_end_stop=True, paper_near_end=True, paper_out=True
    ).as_bytes() == (bytes.fromhex("1a32127e"))
    assert PrinterStatus().as_bytes() == bytes.fromhex("12121212")


def test_status_rejects_bytes_without_fixed_bits() -> None:
    with pytest.raises(ValueError, match="fixed"):
        PrinterStatus.from_bytes(bytes.fromhex("00121212"))
    with pytest.raises(ValueError, match="4 status bytes"):
        PrinterStatus.from_bytes(b"\x12")


def test_paper_sensor_reply() -> None:
    assert paper_sensor_byte(False, False) == 0x00
    assert paper_sensor_byte(True, False) == 0x03
    assert paper_sensor_byte(True, True) == 0x0F
    assert parse_paper_sensor(0x0F) == (True, True)
    assert not is_status_byte(0x03)  # GS r replies are told apart from DLE EOT replies by bit 4
    with pytest.raises(ValueError):
        parse_paper_sensor(0x12)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=6))
def test_status_parser_fuzz(data: bytes) -> None:
    try:
        status = PrinterStatus.from_bytes(data)
    except ValueError:
        return
    assert len(data) == 4
    assert PrinterStatus.from_bytes(status.as_bytes()) == status  # every decoded flag survives re-encoding
