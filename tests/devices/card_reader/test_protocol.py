"""Card reader codec: command and reply TEXT and whole frames, pinned to hand-built vectors (CRCs from
``binascii.crc_hqx``, the stdlib's independent CRC-16/XMODEM)."""

from __future__ import annotations

import pytest

from devices.card_reader import protocol as p
from devices.sankyo_frame import FrameError, decode_frame, encode_frame, parse_reply


def test_command_frames() -> None:
    assert encode_frame(p.command(p.STATUS)) == bytes.fromhex("F2 00 03 43 31 30 C5 2A")
    assert encode_frame(p.command(p.INITIALISE)) == bytes.fromhex("F2 00 03 43 30 30 F6 1B")
    assert encode_frame(p.command(p.PERMIT_ENTRY)) == bytes.fromhex("F2 00 03 43 3A 30 19 D0")
    assert p.command(p.PROHIBIT_ENTRY) == b"C:1"
    assert p.command(p.EJECT) == b"C30" and p.command(p.CAPTURE) == b"C31"
    assert [p.command(p.READ_TRACK[n]) for n in (1, 2, 3)] == [b"C61", b"C62", b"C63"]


def test_status_reply_golden() -> None:
    frame = bytes.fromhex("F2 00 0C 50 31 30 30 31 30 30 33 30 35 30 30 DE 64")
    assert p.positive(p.STATUS, p.Position.AT_GATE, p.encode_status_data(3, 50, False)) == decode_frame(frame)
    status = p.parse_status(parse_reply(decode_frame(frame)))
    assert status == p.ReaderStatus(p.Position.AT_GATE, 3, 50, False)
    assert not status.bin_full


def test_capture_and_error_replies_golden() -> None:
    capture = decode_frame(bytes.fromhex("F2 00 08 50 33 31 30 32 30 30 37 D0 D8"))
    reply = parse_reply(capture)
    assert p.reply_position(reply) is p.Position.INSIDE and p.parse_count(reply) == 7
    bin_full = parse_reply(decode_frame(bytes.fromhex("F2 00 05 4E 33 31 34 31 F5 69")))
    assert p.reply_error(bin_full) is p.ErrorCode.BIN_FULL
    assert p.negative(p.CAPTURE, p.ErrorCode.BIN_FULL) == b"N3141"


def test_track_reply_golden() -> None:
    frame = bytes.fromhex(
        "F2 00 23 50 36 32 30 32 3B 34 33 32 31 39 38 37 36 35 34 33 32 31 30 39 38 3D 32 35 31 32 31 30 31"
        " 30 30 30 30 3F 18 C6"
    )
    reply = parse_reply(decode_frame(frame))
    assert reply.positive and reply.code == "02"
    assert reply.data == b";4321987654321098=25121010000?"  # this vector was built without the LRC char


def test_bad_codec_input() -> None:
    with pytest.raises(FrameError):
        p.parse_status(parse_reply(b"P1000" + b"12"))
    with pytest.raises(FrameError):
        p.reply_position(parse_reply(b"P1077"))
    with pytest.raises(FrameError):
        p.reply_error(parse_reply(b"N3199"))
    with pytest.raises(FrameError):
        p.parse_command(b"E10")
    assert p.parse_command(b"C62xyz") == ("6", "2", b"xyz")
