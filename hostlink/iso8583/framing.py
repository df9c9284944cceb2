"""TCP framing for ISO 8583: each message is preceded by its length as 2 bytes, big-endian.

``frame(b"ABC") == b"\\x00\\x03ABC"``. A length of 0 or over :data:`MAX_MESSAGE_LEN` is a broken or
hostile peer: :class:`FramingError`, and the connection must be closed (the stream cannot be resynchronised:
there is no start marker to search for).
"""

from __future__ import annotations

import math
import socket
import time

__all__ = [
    "HEADER_LEN",
    "MAX_MESSAGE_LEN",
    "FrameReader",
    "FramingError",
    "frame",
    "recv_message",
    "send_message",
]

HEADER_LEN = 2
MAX_MESSAGE_LEN = 4096


class FramingError(ValueError):
    """An empty or oversize payload, or a length header of 0 or over MAX_MESSAGE_LEN."""


def _check_length(length: int) -> None:
    if length == 0:
        raise FramingError("zero-length message")
    if length > MAX_MESSAGE_LEN:
        raise FramingError(f"message length {length} is over the maximum of {MAX_MESSAGE_LEN}")


def frame(payload: bytes) -> bytes:
    """``payload`` with its 2-byte big-endian length in front."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
    data = bytes(payload)
    _check_length(len(data))
    return len(data).to_bytes(HEADER_LEN, "big") + data


class FrameReader:
    """Incremental deframer for a byte stream (e.g. a non-blocking socket or an asyncio protocol).

    :meth:`feed` returns every message completed by ``data``, in order, and keeps a partial one for the
    next call. A bad length raises :class:`FramingError` as soon as its 2 header bytes are in, even if
    messages completed earlier in the same chunk (those are dropped with the stream); after that every
    call raises again: close the connection.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._broken: str | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self._broken is not None:
            raise FramingError(f"stream already broken: {self._broken}")
        self._buffer += data
        messages: list[bytes] = []
        while len(self._buffer) >= HEADER_LEN:
            length = int.from_bytes(self._buffer[:HEADER_LEN], "big")
            try:
                _check_length(length)
            except FramingError as exc:
                self._broken = str(exc)
                raise
            end = HEADER_LEN + length
            if len(self._buffer) < end:
                break
            messages.append(bytes(self._buffer[HEADER_LEN:end]))
            del self._buffer[:end]
        return messages

    def pending(self) -> int:
        """Bytes held for a message not yet complete (header bytes included)."""
        return len(self._buffer)


def send_message(sock: socket.socket, payload: bytes) -> None:
    """Frame ``payload`` and send all of it (with the socket's own timeout)."""
    sock.sendall(frame(payload))


def _recv_exact(sock: socket.socket, count: int, deadline: float, got_before: int, timeout_s: float) -> bytes:
    buffer = bytearray()
    while len(buffer) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(got_before + len(buffer), timeout_s)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(count - len(buffer))
        except TimeoutError:
            raise _timeout(got_before + len(buffer), timeout_s) from None
        if not chunk:
            received = got_before + len(buffer)
            if received == 0:
                raise ConnectionError("peer closed the connection before a message")
            raise ConnectionError(f"peer closed the connection mid-message after {received} bytes")
        buffer += chunk
    return bytes(buffer)


def _timeout(received: int, timeout_s: float) -> TimeoutError:
    if received == 0:
        return TimeoutError(f"no message within {timeout_s:g} s")
    return TimeoutError(
        f"message incomplete after {timeout_s:g} s ({received} bytes read): the stream is out of step, "
        "close the connection"
    )


def recv_message(sock: socket.socket, timeout_s: float) -> bytes:
    """One whole message (without its header) from a blocking socket, within ``timeout_s`` for the whole
    frame. Reads exactly one frame, never beyond it. Raises TimeoutError (if part of a frame had been
    read the connection is out of step and must be closed), ConnectionError when the peer closes before
    or during a frame, FramingError for a bad length. The socket's timeout is restored afterwards."""
    if not (isinstance(timeout_s, int | float) and timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError("timeout_s must be a positive number of seconds")
    deadline = time.monotonic() + timeout_s
    previous = sock.gettimeout()
    try:
        header = _recv_exact(sock, HEADER_LEN, deadline, 0, timeout_s)
        length = int.from_bytes(header, "big")
        _check_length(length)
        return _recv_exact(sock, length, deadline, HEADER_LEN, timeout_s)
    finally:
        sock.settimeout(previous)
