"""The Sankyo-style frame layer shared by the card reader and the PIN pad.

Frame: ``STX=0xF2``, ``LEN`` (2 bytes, big-endian, length of TEXT), ``TEXT``, ``CRC16/XMODEM`` (2 bytes,
big-endian, over STX..TEXT). The receiver answers ``ACK 0x06`` to a good frame and ``NAK 0x15`` to a bad
one. TEXT is ASCII: a host command is a command letter + command char + parameter char + data; a reply is
``P`` + cmd + pm + st1 + st0 + data, or ``N`` + cmd + pm + e1 + e0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Unpack

from devices.base import DeviceLinkError
from devices.serial_link import (
    ACK,
    NAK,
    DeviceSide,
    ExchangeStats,
    ProtocolError,
    Rejected,
    SerialDriverBase,
    SerialLink,
    SerialTiming,
    exchange,
)

STX = 0xF2
HEADER_LEN = 3
CRC_LEN = 2
MAX_TEXT_LEN = 1024  # longer than any command or track reply; a bigger LEN is line noise

__all__ = [
    "ACK",
    "MAX_TEXT_LEN",
    "NAK",
    "STX",
    "DeviceFramer",
    "FrameDecoder",
    "FrameError",
    "Rejected",
    "Reply",
    "SankyoDriverBase",
    "SankyoTransport",
    "command_text",
    "crc16_xmodem",
    "decode_frame",
    "encode_frame",
    "parse_reply",
]


class FrameError(ProtocolError):
    """A frame or reply that does not follow the protocol; the message is the reason."""


def crc16_xmodem(data: bytes, crc: int = 0x0000) -> int:
    """CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final XOR."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def encode_frame(text: bytes) -> bytes:
    if len(text) > MAX_TEXT_LEN:
        raise FrameError(f"TEXT of {len(text)} bytes exceeds {MAX_TEXT_LEN}")
    body = bytes([STX]) + len(text).to_bytes(2, "big") + text
    return body + crc16_xmodem(body).to_bytes(2, "big")


def decode_frame(frame: bytes) -> bytes:
    """Exactly one frame → its TEXT; raises :class:`FrameError` with the reason otherwise."""
    if len(frame) < HEADER_LEN + CRC_LEN:
        raise FrameError(f"truncated frame: {len(frame)} bytes")
    if frame[0] != STX:
        raise FrameError(f"frame starts with 0x{frame[0]:02X}, not STX 0xF2")
    length = int.from_bytes(frame[1:3], "big")
    if length > MAX_TEXT_LEN:
        raise FrameError(f"LEN {length} exceeds {MAX_TEXT_LEN}")
    expected = HEADER_LEN + length + CRC_LEN
    if len(frame) != expected:
        raise FrameError(f"LEN says {expected} bytes in the frame, got {len(frame)}")
    body, crc = frame[:-CRC_LEN], int.from_bytes(frame[-CRC_LEN:], "big")
    computed = crc16_xmodem(body)
    if crc != computed:
        raise FrameError(f"CRC mismatch: frame has 0x{crc:04X}, computed 0x{computed:04X}")
    return frame[HEADER_LEN:-CRC_LEN]


class FrameDecoder:
    """Incremental decoder. Feed it bytes as they arrive; it yields each good frame's TEXT and a
    :class:`Rejected` note for everything it throws away, resynchronising on the next STX."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | Rejected]:
        self._buf += data
        out: list[bytes | Rejected] = []
        while self._buf:
            if self._buf[0] != STX:
                skip = self._buf.find(STX)
                dropped = len(self._buf) if skip < 0 else skip
                del self._buf[:dropped]
                out.append(Rejected(f"{dropped} stray byte(s) before STX", dropped))
                continue
            if len(self._buf) < HEADER_LEN:
                break
            length = int.from_bytes(self._buf[1:3], "big")
            if length > MAX_TEXT_LEN:
                del self._buf[:1]  # this STX was noise; look for the next one
                out.append(Rejected(f"LEN {length} exceeds {MAX_TEXT_LEN}", 1))
                continue
            total = HEADER_LEN + length + CRC_LEN
            if len(self._buf) < total:
                break
            frame = bytes(self._buf[:total])
            try:
                text = decode_frame(frame)
            except FrameError as exc:
                del self._buf[:1]  # resync: the real frame may start inside this one
                out.append(Rejected(str(exc), 1, bad_frame=True))
                continue
            del self._buf[:total]
            out.append(text)
        return out


@dataclass(frozen=True)
class Reply:
    """A parsed reply TEXT. ``code`` is st1+st0 for a positive reply, e1+e0 for a negative one."""

    positive: bool
    command: str
    cmd: str
    pm: str
    code: str
    data: bytes

    @property
    def st1(self) -> str:
        return self.code[0]

    @property
    def st0(self) -> str:
        return self.code[1]


def parse_reply(text: bytes, command_letter: str | None = None) -> Reply:
    """Parse ``P``/``N`` + cmd + pm + two status/error characters + data.

    Replies in this family do not repeat the command letter (``C``/``E``); ``command_letter`` is only
    recorded for the caller's messages.
    """
    if len(text) < 5:
        raise FrameError(f"reply TEXT too short: {len(text)} bytes")
    kind = chr(text[0])
    if kind not in "PN":
        raise FrameError(f"reply starts with {kind!r}, expected 'P' or 'N'")
    try:
        head = text[1:5].decode("ascii")
    except UnicodeDecodeError as exc:
        raise FrameError("reply header is not ASCII") from exc
    if not all(0x20 <= ord(c) < 0x7F for c in head):
        raise FrameError(f"reply header has control characters: {head!r}")
    return Reply(kind == "P", command_letter or "", head[0], head[1], head[2:4], bytes(text[5:]))


def command_text(letter: str, cmd: str, pm: str, data: bytes = b"") -> bytes:
    if len(letter) != 1 or len(cmd) != 1 or len(pm) != 1:
        raise FrameError("command letter, command and parameter are one character each")
    return (letter + cmd + pm).encode("ascii") + data


class SankyoTransport:
    """Host side of the frame layer on an open link: send a command, get its parsed reply.

    Raises :class:`devices.base.DeviceLinkError` when the device is gone or silent, and a
    :class:`devices.serial_link.ProtocolError` when it answers but not sensibly (NAKs, garbage).
    """

    def __init__(
        self,
        link: SerialLink,
        letter: str,
        *,
        ack_timeout: float = 0.5,
        reply_timeout: float = 3.0,
        max_resends: int = 3,
    ) -> None:
        self.link = link
        self.letter = letter
        self.ack_timeout = ack_timeout
        self.reply_timeout = reply_timeout
        self.max_resends = max_resends
        self.stats = ExchangeStats()

    def call(self, cmd: str, pm: str, data: bytes = b"", *, reply_timeout: float | None = None) -> Reply:
        text = command_text(self.letter, cmd, pm, data)
        reply_text = exchange(
            self.link,
            encode_frame(text),
            FrameDecoder,
            ack_timeout=self.ack_timeout,
            reply_timeout=self.reply_timeout if reply_timeout is None else reply_timeout,
            max_resends=self.max_resends,
            stats=self.stats,
            what=f"{self.letter}{cmd}{pm}",
        )
        reply = parse_reply(reply_text, self.letter)
        if (reply.cmd, reply.pm) != (cmd, pm):
            raise FrameError(f"reply is for {reply.cmd}{reply.pm}, not for the {cmd}{pm} we sent")
        return reply

    def close(self) -> None:
        self.link.close()


class DeviceFramer(DeviceSide):
    """Device side of the Sankyo frame layer: ``handle`` maps a command's TEXT to the reply's TEXT, which
    is framed here (see :class:`devices.serial_link.DeviceSide` for ACK/NAK and fault injection)."""

    def __init__(self, handle: Callable[[bytes], bytes]) -> None:
        super().__init__(FrameDecoder, lambda text: encode_frame(handle(text)))


class SankyoDriverBase(SerialDriverBase):
    """A driver for a device on the Sankyo frame layer (the card reader, the PIN pad): the transport is
    opened on connect and closed on disconnect; a subclass says what proves the device answers
    (:meth:`_handshake`) and sends commands with :meth:`_send`."""

    command_letter = ""  # the first TEXT character of every command to this device class

    def __init__(self, url: str, **timing: Unpack[SerialTiming]) -> None:
        super().__init__(url, **timing)
        self._transport: SankyoTransport | None = None

    def _connect(self) -> None:
        transport = SankyoTransport(
            SerialLink.open(self.url),
            self.command_letter,
            ack_timeout=self.ack_timeout,
            reply_timeout=self.reply_timeout,
            max_resends=self.max_resends,
        )
        self._transport = transport
        try:  # a port that opens is not yet a device that answers
            self._handshake(transport)
        except Exception:
            self._transport = None
            transport.close()
            raise

    def _handshake(self, transport: SankyoTransport) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _send(self, cmd_pm: tuple[str, str], data: bytes = b"") -> Reply:
        if self._transport is None:
            raise DeviceLinkError("not connected")
        return self._transport.call(cmd_pm[0], cmd_pm[1], data)
