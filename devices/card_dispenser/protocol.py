"""Card dispenser codec (modelled on Creator CRT-541; see docs/protocols.md).

Frame: ``STX 0x02``, one ASCII address character (default ``0``), a 2-letter command, data, ``ETX 0x03``,
``BCC`` = XOR of every byte from STX to ETX inclusive. The device answers ``ACK 0x06`` (or ``NAK 0x15``)
and then a reply frame of the same shape echoing the command, whose data is three status characters
(stock ``0`` ok / ``1`` low / ``2`` empty; position ``0`` none / ``1`` at the encoder / ``2`` at the gate;
``0`` ok / ``1`` jam), then ``P`` (done) or ``N`` + a 2-digit error code, then any reply data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.serial_link import ProtocolError, Rejected

STX = 0x02
ETX = 0x03
DEFAULT_ADDRESS = "0"
MAX_FRAME_LEN = 128  # longer than any command or reply; anything bigger is line noise

STATUS = "RF"
RESET = "RS"
MOVE_TO_ENCODER = "DC"
WRITE_TRACK2 = "WT"
PRESENT = "DP"
CAPTURE = "CP"
COMMANDS = (STATUS, RESET, MOVE_TO_ENCODER, WRITE_TRACK2, PRESENT, CAPTURE)


class FrameError(ProtocolError):
    """A dispenser frame or reply that does not follow the protocol; the message is the reason."""


class Stock(StrEnum):
    OK = "0"
    LOW = "1"
    EMPTY = "2"


class Position(StrEnum):
    NONE = "0"
    AT_ENCODER = "1"
    AT_GATE = "2"


STOCK_NAMES = {Stock.OK: "ok", Stock.LOW: "low", Stock.EMPTY: "empty"}
POSITION_NAMES = {Position.NONE: "none", Position.AT_ENCODER: "encoder", Position.AT_GATE: "gate"}


class ErrorCode(StrEnum):
    UNKNOWN_COMMAND = "00"
    BAD_DATA = "01"
    NO_CARD = "10"
    POSITION_OCCUPIED = "11"
    STOCK_EMPTY = "20"
    WRITE_FAILED = "30"
    CARD_JAM = "40"
    BIN_FULL = "41"


ERROR_TEXT = {
    ErrorCode.UNKNOWN_COMMAND: "unknown command",
    ErrorCode.BAD_DATA: "bad data",
    ErrorCode.NO_CARD: "no card at that position",
    ErrorCode.POSITION_OCCUPIED: "a card is already in the transport",
    ErrorCode.STOCK_EMPTY: "card stock empty",
    ErrorCode.WRITE_FAILED: "track write failed",
    ErrorCode.CARD_JAM: "card jam",
    ErrorCode.BIN_FULL: "reject bin full",
}


def bcc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


@dataclass(frozen=True)
class Frame:
    address: str
    command: str
    data: bytes


def encode_frame(command: str, data: bytes = b"", address: str = DEFAULT_ADDRESS) -> bytes:
    if len(address) != 1 or not address.isprintable():
        raise FrameError("address is one printable ASCII character")
    if len(command) != 2 or not command.isascii() or not command.isalpha():
        raise FrameError("command is two ASCII letters")
    if STX in data or ETX in data:
        raise FrameError("data may not contain STX or ETX")
    body = bytes([STX]) + (address + command).encode("ascii") + data + bytes([ETX])
    if len(body) + 1 > MAX_FRAME_LEN:
        raise FrameError(f"frame longer than {MAX_FRAME_LEN} bytes")
    return body + bytes([bcc(body)])


def decode_frame(frame: bytes) -> Frame:
    if len(frame) < 6:
        raise FrameError(f"truncated frame: {len(frame)} bytes")
    if frame[0] != STX:
        raise FrameError(f"frame starts with 0x{frame[0]:02X}, not STX 0x02")
    if frame[-2] != ETX:
        raise FrameError("no ETX before the BCC")
    body = frame[:-1]
    if ETX in body[1:-1] or STX in body[1:]:
        raise FrameError("STX or ETX inside the frame")
    if bcc(body) != frame[-1]:
        raise FrameError(f"BCC mismatch: frame has 0x{frame[-1]:02X}, computed 0x{bcc(body):02X}")
    try:
        head = body[1:4].decode("ascii")
    except UnicodeDecodeError as exc:
        raise FrameError("address/command not ASCII") from exc
    if not head[1:].isalpha():
        raise FrameError(f"command {head[1:]!r} is not two letters")
    return Frame(head[0], head[1:], bytes(body[4:-1]))


class FrameDecoder:
    """Incremental decoder: yields whole, checked frames (bytes) and :class:`Rejected` notes; resyncs on
    the next STX after garbage, a bad BCC or an overlong frame."""

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
            end = self._buf.find(ETX, 1)
            restart = self._buf.find(STX, 1)
            if restart > 0 and (end < 0 or restart < end):
                del self._buf[:restart]  # a new STX before any ETX: the earlier start was noise
                out.append(Rejected("frame interrupted by a new STX", restart, bad_frame=True))
                continue
            if end < 0:
                if len(self._buf) >= MAX_FRAME_LEN:
                    del self._buf[:1]
                    out.append(Rejected(f"no ETX within {MAX_FRAME_LEN} bytes", 1, bad_frame=True))
                    continue
                break
            if len(self._buf) < end + 2:
                break  # the BCC has not arrived yet
            frame = bytes(self._buf[: end + 2])
            try:
                decode_frame(frame)
            except FrameError as exc:
                del self._buf[:1]
                out.append(Rejected(str(exc), 1, bad_frame=True))
                continue
            del self._buf[: end + 2]
            out.append(frame)
        return out


@dataclass(frozen=True)
class DispenserStatus:
    stock: Stock
    position: Position
    jammed: bool


@dataclass(frozen=True)
class Reply:
    command: str
    status: DispenserStatus
    positive: bool
    error: ErrorCode | None
    data: bytes


def encode_reply(
    command: str,
    status: DispenserStatus,
    error: ErrorCode | None = None,
    data: bytes = b"",
    address: str = DEFAULT_ADDRESS,
) -> bytes:
    head = f"{status.stock.value}{status.position.value}{int(status.jammed)}"
    result = "P" if error is None else f"N{error.value}"
    return encode_frame(command, (head + result).encode("ascii") + data, address)


def parse_reply(frame: bytes) -> Reply:
    decoded = decode_frame(frame)
    data = decoded.data
    if len(data) < 4:
        raise FrameError(f"reply data too short: {len(data)} bytes")
    try:
        status = DispenserStatus(Stock(chr(data[0])), Position(chr(data[1])), _flag(data[2]))
    except ValueError as exc:
        raise FrameError(f"bad status characters {data[:3]!r}") from exc
    if data[3:4] == b"P":
        return Reply(decoded.command, status, True, None, bytes(data[4:]))
    if data[3:4] == b"N" and len(data) >= 6:
        try:
            error = ErrorCode(data[4:6].decode("ascii"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise FrameError(f"unknown error code {data[4:6]!r}") from exc
        return Reply(decoded.command, status, False, error, bytes(data[6:]))
    raise FrameError("reply result must be P or N + 2-digit code")


def _flag(byte: int) -> bool:
    if byte not in (0x30, 0x31):
        raise ValueError("flag must be 0 or 1")
    return byte == 0x31
