"""Dispenser codec pinned to frames whose BCC was worked out by hand (XOR over STX..ETX)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card_dispenser import protocol as p
from devices.serial_link import Rejected

# 02^30=32, ^52=60, ^46=26, ^03=25
RF = bytes.fromhex("02 30 52 46 03 25")
# 02^30=32, ^44=76, ^43=35, ^03=36
DC = bytes.fromhex("02 30 44 43 03 36")
# RF reply, stock ok / no card / no jam / P: 32,60,26,16,26,16,46, ^03=45
RF_OK = bytes.fromhex("02 30 52 46 30 30 30 50 03 45")
# DC reply, stock empty (2) / none / no jam / N20: 32,76,35,07,37,07,49,7B,4B, ^03=48
DC_EMPTY = bytes.fromhex("02 30 44 43 32 30 30 4E 32 30 03 48")


def test_command_frames() -> None:
    assert p.encode_frame(p.STATUS) == RF
    assert p.encode_frame(p.MOVE_TO_ENCODER) == DC
    assert p.decode_frame(RF) == p.Frame("0", "RF", b"")


def test_reply_frames() -> None:
    ok = p.DispenserStatus(p.Stock.OK, p.Position.NONE, False)
    assert p.encode_reply(p.STATUS, ok) == RF_OK
    reply = p.parse_reply(RF_OK)
    assert reply.positive and reply.status == ok and reply.command == "RF"
    empty = p.parse_reply(DC_EMPTY)
    assert not empty.positive and empty.error is p.ErrorCode.STOCK_EMPTY
    assert empty.status.stock is p.Stock.EMPTY
    assert p.encode_reply(p.MOVE_TO_ENCODER, empty.status, p.ErrorCode.STOCK_EMPTY) == DC_EMPTY


def test_write_track2_frame_carries_the_track() -> None:
    track = ";6217001234567894=29121010000?3"
    frame = p.encode_frame(p.WRITE_TRACK2, track.encode())
    assert frame[:4] == b"\x020WT" and frame[-2] == p.ETX
    assert p.decode_frame(frame).data == track.encode()
    assert frame[-1] == p.bcc(frame[:-1])


def test_rejections() -> None:
    with pytest.raises(p.FrameError, match="BCC"):
        p.decode_frame(RF[:-1] + b"\x26")
    with pytest.raises(p.FrameError, match="truncated"):
        p.decode_frame(RF[:3])
    with pytest.raises(p.FrameError):
        p.encode_frame("WT", b"\x03")
    with pytest.raises(p.FrameError):
        p.encode_frame("W1")
    with pytest.raises(p.FrameError):
        p.parse_reply(p.encode_frame("RF", b"900P"))
    with pytest.raises(p.FrameError):
        p.parse_reply(p.encode_frame("RF", b"000X"))


def test_decoder_resyncs() -> None:
    dec = p.FrameDecoder()
    bad = RF[:-1] + b"\x00"
    out: list[bytes | Rejected] = []
    stream = b"\xff\x06" + bad + b"\x02\x30" + RF + DC
    for i in range(0, len(stream), 2):
        out += dec.feed(stream[i : i + 2])
    assert [x for x in out if isinstance(x, bytes)] == [RF, DC]
    assert any(isinstance(x, Rejected) and "BCC" in x.reason for x in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_decoder_and_reply_parser(data: bytes) -> None:
    dec = p.FrameDecoder()
    for item in dec.feed(data):
        if isinstance(item, bytes):
            try:
                p.parse_reply(item)
            except p.FrameError as exc:
                assert str(exc)
    assert dec.pending < p.MAX_FRAME_LEN
    out = dec.feed(RF + RF)
    assert RF in out


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=20).filter(lambda b: 2 not in b and 3 not in b), st.integers(0, 30))
def test_fuzz_truncated_frames(data: bytes, cut: int) -> None:
    frame = p.encode_frame("WT", data)
    piece = frame[: min(cut, len(frame) - 1)]
    with pytest.raises(p.FrameError):
        p.decode_frame(piece)
    assert all(isinstance(x, Rejected) for x in p.FrameDecoder().feed(piece))
