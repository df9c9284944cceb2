"""PIN pad codec, pinned to hand-built frames (CRCs from the stdlib's binascii.crc_hqx)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import Completion
from devices.pin_pad import protocol as p
from devices.pin_pad.driver import parse_amount
from devices.sankyo_frame import FrameDecoder, FrameError, decode_frame, encode_frame, parse_reply
from hostlink.keyblock import wrap
from simulators.pin_pad import TEST_TMK

# A TPK (odd parity, KCV 61D0F7) wrapped under the simulator's test TMK with the padding fixed.
TPK = bytes.fromhex("F1E0D3C2B5A497860E1F2C3D4A5B6879")
TPK_BLOCK = "B0080P0TE00N00007085B4A357FC8246503D32ED92FE35AB8953993659674E11A12805913CE75784"


def test_start_pin_entry_frame() -> None:
    text = p.command(p.START_PIN_ENTRY, p.encode_pin_entry(4, 6, 30))
    assert text == b"E200406030"  # E2 0 + min 04 + max 06 + timeout 030
    assert encode_frame(text) == bytes.fromhex("F2 00 0A 45 32 30 30 34 30 36 30 33 30 4C 8A")
    assert p.parse_pin_entry(b"0406030") == (4, 6, 30)


def test_get_pin_block_frame() -> None:
    text = p.command(p.GET_PIN_BLOCK[0], p.encode_pan("43219876543210987"))
    assert encode_frame(text) == bytes.fromhex(
        "F2 00 14 45 34 30 34 33 32 31 39 38 37 36 35 34 33 32 31 30 39 38 37 F9 8A"
    )
    assert p.command(p.GET_PIN_BLOCK[4], b"") == b"E44"


def test_masked_key_reply_golden() -> None:
    reply = parse_reply(decode_frame(bytes.fromhex("F2 00 09 50 33 30 30 31 2A 2A 2A 45 B0 6B")))
    state = p.reply_state(reply)
    assert state == p.PadState(tamper=False, mode=p.EntryMode.PIN)
    assert [p.key_name(c) for c in reply.data.decode()] == ["*", "*", "*", "ENTER"]


def test_tamper_refusal_golden() -> None:
    reply = parse_reply(decode_frame(bytes.fromhex("F2 00 05 4E 32 30 33 30 3D 5B")))
    assert p.reply_error(reply) is p.ErrorCode.TAMPERED
    assert p.negative(p.START_PIN_ENTRY, p.ErrorCode.TAMPERED) == b"N2030"


def test_key_codes() -> None:
    assert p.key_name("a") == "F1" and p.key_name("h") == "F8"
    assert p.key_name("X") == "CANCEL" and p.key_name("C") == "CLEAR" and p.key_name("B") == "BACKSPACE"
    assert p.key_name("7") == "7" and p.key_name(".") == "."
    with pytest.raises(FrameError):
        p.key_name("Z")


def test_parameter_checks() -> None:
    for bad in ((3, 6, 30), (6, 4, 30), (4, 13, 30), (4, 6, 0)):
        with pytest.raises(FrameError):
            p.encode_pin_entry(*bad)
    with pytest.raises(FrameError):
        p.encode_pan("12345")
    with pytest.raises(FrameError):
        p.parse_pin_block(parse_reply(b"P4000ZZ"), 0)
    with pytest.raises(FrameError):
        p.parse_pin_block(parse_reply(b"P4000" + b"00" * 7), 0)
    assert p.parse_pin_block(parse_reply(b"P4400" + b"AB" * 16), 4) == b"\xab" * 16
    with pytest.raises(FrameError):
        p.reply_state(parse_reply(b"P1029"))
    assert p.parse_status_data(b"10SIM") == p.PadInfo(True, False, "SIM")


@pytest.mark.parametrize(
    ("text", "minor"), [("12.5", 1250), ("12", 1200), ("0.05", 5), (".5", 50), ("100.00", 10000)]
)
def test_amounts_are_integer_minor_units(text: str, minor: int) -> None:
    result = parse_amount(text)
    assert result.ok and result.value == minor


@pytest.mark.parametrize("text", ["", ".", "1.2.3", "1.234"])
def test_bad_amounts_are_user_errors(text: str) -> None:
    assert parse_amount(text).code is Completion.USER_ERROR


def test_load_working_key_frame_and_replies() -> None:
    assert wrap(TEST_TMK, TPK, "P0", padding=bytes.fromhex("A1A2A3A4A5A6")) == TPK_BLOCK
    text = p.command(p.LOAD_WORKING_KEY["pin"], p.encode_key_block(TPK_BLOCK))
    assert text == b"E7P" + TPK_BLOCK.encode()
    assert encode_frame(text) == bytes.fromhex(
        "F2 00 53 45 37 50"  # STX, LEN 83, E 7 P
        " 42 30 30 38 30 50 30 54 45 30 30 4E 30 30 30 30"  # B0080P0TE00N0000
        " 37 30 38 35 42 34 41 33 35 37 46 43 38 32 34 36 35 30 33 44 33 32 45 44 39 32 46 45"
        " 33 35 41 42 38 39 35 33 39 39 33 36 35 39 36 37 34 45 31 31"  # enciphered key data
        " 41 31 32 38 30 35 39 31 33 43 45 37 35 37 38 34"  # MAC A12805913CE75784
        " CD E0"
    )
    reply = parse_reply(decode_frame(bytes.fromhex("F2 00 0B 50 37 50 30 30 36 31 44 30 46 37 F8 37")))
    assert (reply.positive, reply.cmd, reply.pm) == (True, "7", "P") and p.parse_kcv(reply.data) == "61D0F7"
    refused = parse_reply(decode_frame(bytes.fromhex("F2 00 05 4E 37 50 33 32 3A 37")))
    assert p.reply_error(refused) is p.ErrorCode.KEY_BLOCK_REFUSED
    assert p.negative(p.LOAD_WORKING_KEY["mac"], p.ErrorCode.NO_MASTER_KEY) == b"N7M34"


def test_mac_frames_carry_binary_data() -> None:
    # E8 is the one command whose data is raw bytes: STX, ETX, ACK, NAK and 0xFF travel as they are
    text = p.command(p.MAC_MORE, bytes.fromhex("00F2061503FF80"))
    frame = encode_frame(text)
    assert frame == bytes.fromhex("F2 00 0A 45 38 30 00 F2 06 15 03 FF 80 CC A0")
    assert decode_frame(frame) == text
    assert FrameDecoder().feed(b"\x15\x06" + frame)[-1] == text  # noise first, then the frame
    assert p.parse_command(text) == ("8", "0", bytes.fromhex("00F2061503FF80"))
    assert parse_reply(decode_frame(bytes.fromhex("F2 00 05 50 38 30 30 30 CB 51"))).positive


def test_mac_of_the_iso_example_in_two_chunks() -> None:
    # ISO/IEC 9797-1 annex B: "Now is the time for all " under 0123456789ABCDEF FEDCBA9876543210
    assert encode_frame(p.command(p.MAC_MORE, b"Now is the time ")) == bytes.fromhex(
        "F2 00 13 45 38 30 4E 6F 77 20 69 73 20 74 68 65 20 74 69 6D 65 20 70 03"
    )
    assert encode_frame(p.command(p.MAC_LAST, b"for all ")) == bytes.fromhex(
        "F2 00 0B 45 38 31 66 6F 72 20 61 6C 6C 20 A3 87"
    )
    reply = parse_reply(
        decode_frame(
            bytes.fromhex("F2 00 15 50 38 31 30 30 41 31 43 37 32 45 37 34 45 41 33 46 41 39 42 36 09 19")
        )
    )
    assert p.parse_mac(reply.data) == bytes.fromhex("A1C72E74EA3FA9B6")
    no_key = parse_reply(decode_frame(bytes.fromhex("F2 00 05 4E 38 30 33 35 05 55")))
    assert p.reply_error(no_key) is p.ErrorCode.NO_MAC_KEY


def test_key_status_frames() -> None:
    assert encode_frame(p.command(p.KEY_STATUS)) == bytes.fromhex("F2 00 03 45 39 30 FE 23")
    reply = parse_reply(
        decode_frame(
            bytes.fromhex(
                "F2 00 17 50 39 30 30 30"
                " 30 33 38 35 44 34"  # TMK 0385D4
                " 36 31 44 30 46 37"  # TPK 61D0F7
                " 2D 2D 2D 2D 2D 2D"  # no TAK
                " C3 42"
            )
        )
    )
    status = p.parse_key_status(reply.data)
    assert status == p.KeyStatus(tmk="0385D4", tpk="61D0F7", tak=None)
    assert p.encode_key_status(status) == b"0385D461D0F7------"


@pytest.mark.parametrize(
    ("size", "chunks"),
    [(0, [("1", 0)]), (1, [("1", 1)]), (512, [("1", 512)]), (513, [("0", 512), ("1", 1)]),
     (1500, [("0", 512), ("0", 512), ("1", 476)])],
)  # fmt: skip
def test_mac_chunking(size: int, chunks: list[tuple[str, int]]) -> None:
    data = bytes(i % 256 for i in range(size))
    got = p.mac_chunks(data)
    assert [(cmd_pm[1], len(chunk)) for cmd_pm, chunk in got] == chunks
    assert b"".join(chunk for _, chunk in got) == data


def test_key_management_field_checks() -> None:
    for bad in ("", "B0080", "B0080P0TE00N0000é" + "0" * 64, "x" * 1022):
        with pytest.raises(FrameError):
            p.encode_key_block(bad)
    for data in (b"", b"61D0F", b"61d0f7", b"------", b"61D0F7X"):
        with pytest.raises(FrameError):
            p.parse_kcv(data)
    for data in (b"", b"0385D4" * 2, b"0385D4------12345Z", b"0385D4" * 4):
        with pytest.raises(FrameError):
            p.parse_key_status(data)
    assert p.parse_key_status(b"-" * 18) == p.KeyStatus(None, None, None)
    for data in (b"A1C72E74EA3FA9", b"ZZC72E74EA3FA9B6", b"A1C72E74EA3FA9B600"):
        with pytest.raises(FrameError):
            p.parse_mac(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=30))
def test_fuzz_command_and_field_parsers(data: bytes) -> None:
    parsers = (
        p.parse_command,
        p.parse_pin_entry,
        p.parse_clear_entry,
        p.parse_status_data,
        p.parse_kcv,
        p.parse_key_status,
        p.parse_mac,
    )
    for parser in parsers:
        try:
            parser(data)
        except FrameError as exc:
            assert str(exc)
    try:
        reply = parse_reply(data)
        p.reply_state(reply)
    except FrameError as exc:
        assert str(exc)
