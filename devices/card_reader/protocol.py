"""Card reader codec: the ``C`` command set over the Sankyo frame layer (see docs/protocols.md).

Host command TEXT: ``C`` + command char + parameter char + data. Reply TEXT: ``P`` + cmd + pm + st1 + st0
+ data, or ``N`` + cmd + pm + e1 + e0. For the card reader st1 st0 is the card position.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.sankyo_frame import FrameError, Reply, command_text

COMMAND_LETTER = "C"

# (command char, parameter char)


INITIALISE = ("0", "0")
STATUS = ("1", "0")
PERMIT_ENTRY = (":", "0")
PROHIBIT_ENTRY = (":", "1")
EJECT = ("3", "0")
CAPTURE = ("3", "1")
READ_TRACK = {1: ("6", "1"), 2: ("6", "2"), 3: ("6", "3")}


class Position(StrEnum):
    """st1 st0 of a positive reply."""

    NONE = "00"
    AT_GATE = "01"
    INSIDE = "02"


MEDIA_NAMES = {Position.NONE: "none", Position.AT_GATE: "at_gate", Position.INSIDE: "inside"}


class ErrorCode(StrEnum):
    """e1 e0 of a negative reply."""

    UNKNOWN_COMMAND = "00"
    BAD_PARAMETER = "01"
    NO_CARD = "10"
    CARD_JAM = "40"
    BIN_FULL = "41"
    TRACK_UNREADABLE = "60"


ERROR_TEXT = {
    ErrorCode.UNKNOWN_COMMAND: "unknown command",
    ErrorCode.BAD_PARAMETER: "bad parameter",
    ErrorCode.NO_CARD: "no card",
    ErrorCode.CARD_JAM: "card jam",
    ErrorCode.BIN_FULL: "retain bin full",
    ErrorCode.TRACK_UNREADABLE: "track unreadable",
}


def command(cmd_pm: tuple[str, str], data: bytes = b"") -> bytes:
    return command_text(COMMAND_LETTER, cmd_pm[0], cmd_pm[1], data)


def positive(cmd_pm: tuple[str, str], position: Position, data: bytes = b"") -> bytes:
    return f"P{cmd_pm[0]}{cmd_pm[1]}{position.value}".encode("ascii") + data


def negative(cmd_pm: tuple[str, str], error: ErrorCode) -> bytes:
    return f"N{cmd_pm[0]}{cmd_pm[1]}{error.value}".encode("ascii")


def parse_command(text: bytes) -> tuple[str, str, bytes]:
    """Device side: ``C`` + cmd + pm + data → (cmd, pm, data)."""
    if len(text) < 3:
        raise FrameError(f"command TEXT too short: {len(text)} bytes")
    if text[0:1] != COMMAND_LETTER.encode():
        raise FrameError(f"command letter {text[0:1]!r} is not {COMMAND_LETTER!r}")
    if not all(0x20 <= b < 0x7F for b in text[1:3]):
        raise FrameError("command and parameter must be printable ASCII")
    return chr(text[1]), chr(text[2]), bytes(text[3:])


def reply_position(reply: Reply) -> Position:
    try:
        return Position(reply.code)
    except ValueError as exc:
        raise FrameError(f"unknown card position {reply.code!r}") from exc


def reply_error(reply: Reply) -> ErrorCode:
    try:
        return ErrorCode(reply.code)
    except ValueError as exc:
        raise FrameError(f"unknown error code {reply.code!r}") from exc


@dataclass(frozen=True)
class ReaderStatus:
    """The ``C10`` reply: position (st1 st0) and data ``RRR CCC J`` = retained, bin capacity, jam flag."""

    position: Position
    retained: int
    capacity: int
    jammed: bool

    @property
    def bin_full(self) -> bool:
        return self.retained >= self.capacity


def encode_status_data(retained: int, capacity: int, jammed: bool) -> bytes:
    return f"{min(retained, 999):03d}{min(capacity, 999):03d}{int(jammed)}".encode("ascii")


def parse_status(reply: Reply) -> ReaderStatus:
    data = reply.data
    if len(data) != 7 or not data.isdigit() or data[6:7] not in (b"0", b"1"):
        raise FrameError(f"status data must be RRRCCCJ, got {len(data)} bytes")
    return ReaderStatus(reply_position(reply), int(data[0:3]), int(data[3:6]), data[6:7] == b"1")


def parse_count(reply: Reply) -> int:
    """The ``C31`` reply data: the retain bin count after the capture, 3 digits."""
    if len(reply.data) != 3 or not reply.data.isdigit():
        raise FrameError("capture reply data must be a 3-digit retained count")
    return int(reply.data)
