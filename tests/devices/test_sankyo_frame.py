"""Sankyo frame layer, pinned to frames built by hand from the spec.

Reference CRC: CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no xorout); its catalogue check value
for ASCII "123456789" is 0x31C3. The frame vectors below were computed with the standard library's
independent implementation ``binascii.crc_hqx(frame_without_crc, 0)`` and written down as literals.
"""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.sankyo_frame import (
    ACK,
    NAK,
    DeviceFramer,
    FrameDecoder,
    FrameError,
    Rejected,
    crc16_xmodem,
    decode_frame,
    encode_frame,
    parse_reply,
)

C10 = bytes.fromhex("F2 00 03 43 31 30 C5 2A")
C00 = bytes.fromhex("F2 00 03 43 30 30 F6 1B")
C_PERMIT = bytes.fromhex("F2 00 03 43 3A 30 19 D0")
E20 = bytes.fromhex("F2 00 03 45 32 30 22 D9")
N3141 = bytes.fromhex("F2 00 05 4E 33 31 34 31 F5 69")


def test_crc_check_value_and_stdlib_agreement() -> None:
    assert crc16_xmodem(b"123456789") == 0x31C3
    assert crc16_xmodem(b"") == 0
    for sample in (b"\xf2\x00\x03C10", bytes(range(256))):
        assert crc16_xmodem(sample) == binascii.crc_hqx(sample, 0)


@pytest.mark.parametrize(
    ("text", "frame"), [(b"C10", C10), (b"C00", C00), (b"C:0", C_PERMIT), (b"E20", E20), (b"N3141", N3141)]
)
def test_golden_frames(text: bytes, frame: bytes) -> None:
    assert encode_frame(text) == frame
    assert decode_frame(frame) == text


def test_decode_rejects_with_reasons() -> None:
    with pytest.raises(FrameError, match="CRC"):
        decode_frame(C10[:-1] + b"\x2b")
    with pytest.raises(FrameError, match="truncated"):
        decode_frame(C10[:4])
    with pytest.raises(FrameError, match="LEN"):
        decode_frame(C10 + b"\x00")
    with pytest.raises(FrameError, match="STX"):
        decode_frame(b"\x02" + C10[1:])


def test_incremental_decoder_resyncs_after_garbage_and_bad_crc() -> None:
    dec = FrameDecoder()
    bad = bytearray(C00)
    bad[4] ^= 0x01
    out: list[bytes | Rejected] = []
    stream = b"\x00\x13junk" + bytes(bad) + C10 + C_PERMIT
    for i in range(0, len(stream), 3):  # arrives in small pieces
        out += dec.feed(stream[i : i + 3])
    frames = [x for x in out if isinstance(x, bytes)]
    reasons = [x.reason for x in out if isinstance(x, Rejected)]
    assert frames == [b"C10", b"C:0"]
    assert any("stray" in r for r in reasons)
    assert any("CRC" in r for r in reasons)
    assert dec.pending == 0


def test_oversized_length_is_noise() -> None:
    out = FrameDecoder().feed(b"\xf2\xff\xff" + C10)
    assert out[-1] == b"C10"
    assert isinstance(out[0], Rejected) and "exceeds" in out[0].reason


def test_reply_parsing() -> None:
    reply = parse_reply(b"P10010030500")
    assert reply.positive and (reply.cmd, reply.pm, reply.st1, reply.st0) == ("1", "0", "0", "1")
    assert reply.data == b"0030500"
    neg = parse_reply(b"N3141")
    assert not neg.positive and neg.code == "41" and neg.data == b""
    for bad in (b"", b"P10", b"X1000", b"P1\x0100"):
        with pytest.raises(FrameError):
            parse_reply(bad)


def test_device_framer_acks_naks_and_injected_naks() -> None:
    framer = DeviceFramer(lambda text: b"P" + text[1:3] + b"00")
    assert framer.feed(C10) == bytes([ACK]) + encode_frame(b"P1000")
    corrupt = bytearray(C10)
    corrupt[-1] ^= 0xFF
    assert framer.feed(bytes(corrupt)) == bytes([NAK])
    framer.nak_next = 1
    assert framer.feed(C00) == bytes([NAK])
    assert framer.feed(C00) == bytes([ACK]) + encode_frame(b"P0000")
    assert framer.frames_received == 3 and framer.naks_sent == 2


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decoder_random_bytes_never_crash(data: bytes) -> None:
    dec = FrameDecoder()
    for item in dec.feed(data):
        assert isinstance(item, bytes | Rejected)
    assert dec.pending <= len(data)
    # after any garbage, a good frame still comes through (pending bytes may absorb at most one frame)
    out = dec.feed(C10 + C10 + C10)
    assert b"C10" in out


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.integers(min_value=0, max_value=70))
def test_fuzz_truncated_frames_are_rejected_cleanly(text: bytes, cut: int) -> None:
    frame = encode_frame(text)
    piece = frame[: min(cut, len(frame) - 1)]
    with pytest.raises(FrameError):
        decode_frame(piece)
    leftovers = FrameDecoder().feed(piece)
    assert all(isinstance(x, Rejected) for x in leftovers)  # never a frame out of a truncated one


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_fuzz_reply_parser_gives_reply_or_reason(text: bytes) -> None:
    try:
        reply = parse_reply(text)
    except FrameError as exc:
        assert str(exc)
    else:
        assert text[:1] in (b"P", b"N") and len(text) >= 5
        assert reply.data == text[5:]
