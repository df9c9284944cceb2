"""2-byte big-endian length framing: golden bytes, the incremental reader, and the socket helpers over a
real socket pair."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from hostlink.iso8583.framing import (
    HEADER_LEN,
    MAX_MESSAGE_LEN,
    FrameReader,
    FramingError,
    frame,
    recv_message,
    send_message,
)


def test_constants() -> None:
    assert HEADER_LEN == 2 and MAX_MESSAGE_LEN == 4096


def test_frame_golden() -> None:
    assert frame(b"ABC") == b"\x00\x03ABC"
    assert frame(b"x" * 300) == b"\x01\x2c" + b"x" * 300
    assert frame(b"y" * 4096)[:2] == b"\x10\x00"


def test_frame_refuses_empty_and_oversize() -> None:
    with pytest.raises(FramingError):
        frame(b"")
    with pytest.raises(FramingError):
        frame(b"z" * 4097)


def test_reader_fed_one_byte_at_a_time() -> None:
    stream = frame(b"hello") + frame(b"ISO 8583")
    reader = FrameReader()
    out: list[bytes] = []
    pending: list[int] = []
    for byte in stream:
        out += reader.feed(bytes([byte]))
        pending.append(reader.pending())
    assert out == [b"hello", b"ISO 8583"]
    assert reader.pending() == 0
    assert pending[:7] == [1, 2, 3, 4, 5, 6, 0]


def test_reader_two_messages_in_one_chunk_and_a_partial_third() -> None:
    reader = FrameReader()
    third = frame(b"third")
    assert reader.feed(frame(b"one") + frame(b"two") + third[:3]) == [b"one", b"two"]
    assert reader.pending() == 3
    assert reader.feed(third[3:]) == [b"third"]
    assert reader.feed(b"") == []


@pytest.mark.parametrize("header", [b"\x00\x00", b"\x10\x01", b"\xff\xff"])
def test_reader_refuses_zero_and_oversize_lengths_and_stays_broken(header: bytes) -> None:
    reader = FrameReader()
    with pytest.raises(FramingError):
        reader.feed(frame(b"ok") + header)
    with pytest.raises(FramingError):
        reader.feed(frame(b"later"))


def test_reader_checks_the_length_before_the_body_arrives() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x10") == []
    with pytest.raises(FramingError):
        reader.feed(b"\x01")


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    try:
        yield left, right
    finally:
        left.close()
        right.close()


def test_send_and_recv_over_a_socket_pair(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    send_message(left, b"first")
    send_message(left, b"second")
    assert recv_message(right, 1.0) == b"first"
    assert recv_message(right, 1.0) == b"second"  # the first call did not read beyond its frame


def test_recv_message_assembles_a_frame_sent_in_pieces(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    data = frame(b"0800" + b"8" * 100)

    def dribble() -> None:
        for index in range(0, len(data), 7):
            left.sendall(data[index : index + 7])
            time.sleep(0.002)

    sender = threading.Thread(target=dribble)
    sender.start()
    try:
        assert recv_message(right, 5.0) == b"0800" + b"8" * 100
    finally:
        sender.join()


def test_recv_message_restores_the_socket_timeout(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    right.settimeout(7.5)
    send_message(left, b"x")
    recv_message(right, 1.0)
    assert right.gettimeout() == 7.5
    with pytest.raises(TimeoutError):
        recv_message(right, 0.05)
    assert right.gettimeout() == 7.5


def test_peer_closing_mid_frame(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.sendall(b"\x00\x05AB")
    left.close()
    with pytest.raises(ConnectionError, match="mid-message"):
        recv_message(right, 1.0)


def test_peer_closing_mid_header(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.sendall(b"\x00")
    left.close()
    with pytest.raises(ConnectionError, match="mid-message"):
        recv_message(right, 1.0)


def test_peer_closing_before_a_frame(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.close()
    with pytest.raises(ConnectionError, match="before a message"):
        recv_message(right, 1.0)


def test_timeout_with_nothing_sent(pair: tuple[socket.socket, socket.socket]) -> None:
    _, right = pair
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no message"):
        recv_message(right, 0.1)
    assert 0.09 <= time.monotonic() - started < 2.0


def test_timeout_mid_frame_says_the_stream_is_out_of_step(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.sendall(b"\x00\x05AB")
    with pytest.raises(TimeoutError, match="out of step"):
        recv_message(right, 0.1)


@pytest.mark.parametrize("header", [b"\x00\x00", b"\x10\x01"])
def test_recv_message_bad_length(pair: tuple[socket.socket, socket.socket], header: bytes) -> None:
    left, right = pair
    left.sendall(header + b"data")
    with pytest.raises(FramingError):
        recv_message(right, 1.0)


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_recv_message_refuses_a_bad_timeout(
    pair: tuple[socket.socket, socket.socket], timeout: float
) -> None:
    with pytest.raises(ValueError):
        recv_message(pair[1], timeout)


def test_send_message_refuses_empty(pair: tuple[socket.socket, socket.socket]) -> None:
    with pytest.raises(FramingError):
        send_message(pair[0], b"")
