"""PIN pad codec, pinned to hand-built frames (CRCs from the stdlib's binascii.crc_hqx)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import Completion
from devices.pin_pad import protocol as p
from devices.pin_pad.driver import parse_amount
from devices.sankyo_frame import FrameError, decode_frame, encode_frame, parse_reply


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


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=30))
def test_fuzz_command_and_field_parsers(data: bytes) -> None:
    for parser in (p.parse_command, p.parse_pin_entry, p.parse_clear_entry, p.parse_status_data):
        try:
            parser(data)
        except FrameError as exc:
            assert str(exc)
    try:
        reply = parse_reply(data)
        p.reply_state(reply)
    except FrameError as exc:
        assert str(exc)
