"""A thin ESC/POS codec: one byte builder for the commands a receipt needs, and the real-time status
(``DLE EOT n``) and paper-sensor (``GS r 1``) bit layouts from the Epson ESC/POS command reference.

Every command appends bytes to one buffer through :meth:`EscPosBuilder._raw` (the same shape as
python-escpos), so tests can pin a whole receipt byte for byte.

Status bytes (Epson ESC/POS, ``DLE EOT n``): bits 1 and 4 are always 1, bits 0 and 7 always 0, so a
reply is recognisable as ``b & 0x93 == 0x12``.

* n=1 printer status: bit 3 = offline.
* n=2 offline cause: bit 2 = cover open, bit 3 = paper being fed by the FEED button,
  bit 5 = printing stopped because the paper ran out, bit 6 = an error occurred.
* n=3 error cause: bit 2 = mechanical error, bit 3 = auto-cutter error, bit 5 = unrecoverable error,
  bit 6 = auto-recoverable error.
* n=4 roll paper sensor: bits 2+3 = near-end (paper low), bits 5+6 = paper end (no paper).

``GS r 1`` (paper sensor status, processed in order with print data, not in real time): bits 0+1 =
near-end, bits 2+3 = paper end, bit 4 always 0. Because it is answered only after every byte before it
was processed, the driver uses it as the "job done" marker before reading the status after a receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hostlink.safetext import strip_control

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"


class Align(IntEnum):
    LEFT = 0
    CENTER = 1
    RIGHT = 2


class QrErrorLevel(IntEnum):
    L = 48
    M = 49
    Q = 50
    H = 51


class StatusKind(IntEnum):
    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER = 4


STATUS_FIXED_MASK = 0x93  # bits 0, 1, 4, 7 carry fixed values in every DLE EOT reply
STATUS_FIXED_VALUE = 0x12


def is_status_byte(value: int) -> bool:
    """True if ``value`` has the fixed bits of a ``DLE EOT`` reply (GS r replies have bit 4 clear)."""
    return value & STATUS_FIXED_MASK == STATUS_FIXED_VALUE


def status_request(kind: StatusKind | int) -> bytes:
    n = int(kind)
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n must be 1..4, got {n}")
    return DLE + EOT + bytes([n])


PAPER_SENSOR_REQUEST = GS + b"r\x01"


@dataclass(frozen=True)
class PrinterStatus:
    """The four real-time status bytes, decoded."""

    offline: bool = False
    cover_open: bool = False
    feed_button: bool = False
    paper_end_stop: bool = False
    error: bool = False
    mechanical_error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    paper_near_end: bool = False
    paper_out: bool = False

    @property
    def paper(self) -> str:
        if self.paper_out:
            return "out"
        return "low" if self.paper_near_end else "ok"

    @property
    def has_error(self) -> bool:
        return (
            self.error
            or self.mechanical_error
            or self.cutter_error
            or self.unrecoverable_error
            or self.auto_recoverable_error
        )

    @property
    def ready(self) -> bool:
        """Can print: online, cover closed, paper present, no error (near-end is fine)."""
        return not (self.offline or self.cover_open or self.paper_out or self.has_error)

    def as_bytes(self) -> bytes:
        """The four ``DLE EOT 1..4`` replies this status corresponds to (the simulator answers these)."""
        b1 = STATUS_FIXED_VALUE | (0x08 if self.offline else 0)
        b2 = (
            STATUS_FIXED_VALUE
            | (0x04 if self.cover_open else 0)
            | (0x08 if self.feed_button else 0)
            | (0x20 if self.paper_end_stop else 0)
            | (0x40 if self.error else 0)
        )
        b3 = (
            STATUS_FIXED_VALUE
            | (0x04 if self.mechanical_error else 0)
            | (0x08 if self.cutter_error else 0)
            | (0x20 if self.unrecoverable_error else 0)
            | (0x40 if self.auto_recoverable_error else 0)
        )
        b4 = STATUS_FIXED_VALUE | (0x0C if self.paper_near_end else 0) | (0x60 if self.paper_out else 0)
        return bytes([b1, b2, b3, b4])

    @classmethod
    def from_bytes(cls, replies: bytes) -> PrinterStatus:
        """Decode the replies to ``DLE EOT 1``, ``2``, ``3``, ``4`` (in that order)."""
        if len(replies) != 4:
            raise ValueError(f"need 4 status bytes, got {len(replies)}")
        for n, value in enumerate(replies, start=1):
            if not is_status_byte(value):
                raise ValueError(f"DLE EOT {n} reply 0x{value:02X} lacks the fixed status bits")
        b1, b2, b3, b4 = replies
        return cls(
            offline=bool(b1 & 0x08),
            cover_open=bool(b2 & 0x04),
            feed_button=bool(b2 & 0x08),
            paper_end_stop=bool(b2 & 0x20),
            error=bool(b2 & 0x40),
            mechanical_error=bool(b3 & 0x04),
            cutter_error=bool(b3 & 0x08),
            unrecoverable_error=bool(b3 & 0x20),
            auto_recoverable_error=bool(b3 & 0x40),
            # either sensor bit counts: some models set only one of the pair
            paper_near_end=bool(b4 & 0x0C),
            paper_out=bool(b4 & 0x60),
        )


def paper_sensor_byte(near_end: bool, paper_out: bool) -> int:
    """The ``GS r 1`` reply for a sensor state."""
    return (0x03 if near_end else 0) | (0x0C if paper_out else 0)


def parse_paper_sensor(value: int) -> tuple[bool, bool]:
    """``GS r 1`` reply → (near_end, paper_out). Raises ValueError if bit 4 (fixed 0) is set."""
    if value & 0x90:
        raise ValueError(f"GS r 1 reply 0x{value:02X} has fixed-zero bits set")
    return bool(value & 0x03), bool(value & 0x0C)


def _is_ascii(text: str) -> bool:
    return all(ord(ch) < 0x80 for ch in text)


class EscPosBuilder:
    """Builds an ESC/POS byte stream. Non-ASCII text is sent as GB18030 inside ``FS &`` … ``FS .``
    (Chinese character mode), which Chinese-market receipt printers and our simulator understand."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def _raw(self, data: bytes) -> EscPosBuilder:
        self._buf += data
        return self

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    # -- commands ----------------------------------------------------------------------------
    def initialize(self) -> EscPosBuilder:
        return self._raw(ESC + b"@")

    def bold(self, on: bool) -> EscPosBuilder:
        return self._raw(ESC + b"E" + (b"\x01" if on else b"\x00"))

    def align(self, align: Align) -> EscPosBuilder:
        return self._raw(ESC + b"a" + bytes([int(align)]))

    def size(self, width: int = 1, height: int = 1) -> EscPosBuilder:
        """``GS !``: character magnification 1..8 in each direction."""
        if not (1 <= width <= 8 and 1 <= height <= 8):
            raise ValueError("character size must be 1..8")
        return self._raw(GS + b"!" + bytes([((width - 1) << 4) | (height - 1)]))

    def text(self, text: str) -> EscPosBuilder:
        # Text is printed, never obeyed: a control byte in a name (ESC @, GS V, ESC p …) would be a
        # printer command, so every control and format character is dropped here, whatever the caller
        # checked before (commands are sent only through this builder's own methods).
        text = strip_control(text)
        if _is_ascii(text):
            return self._raw(text.encode("ascii"))
        return self._raw(FS + b"&" + text.encode("gb18030") + FS + b".")

    def line(self, text: str = "") -> EscPosBuilder:
        return self.text(text)._raw(LF)

    def feed(self, lines: int) -> EscPosBuilder:
        """``ESC d n``: print and feed n lines."""
        if not 0 <= lines <= 255:
            raise ValueError("feed lines must be 0..255")
        return self._raw(ESC + b"d" + bytes([lines]))

    def cut(self, partial: bool = False, feed: int | None = None) -> EscPosBuilder:
        """``GS V m`` (function A) or, with ``feed``, ``GS V 65/66 n`` (feed n then cut)."""
        if feed is None:
            return self._raw(GS + b"V" + (b"\x01" if partial else b"\x00"))
        if not 0 <= feed <= 255:
            raise ValueError("cut feed must be 0..255")
        return self._raw(GS + b"V" + (b"B" if partial else b"A") + bytes([feed]))

    def qr(self, payload: str, module_size: int = 6, level: QrErrorLevel = QrErrorLevel.M) -> EscPosBuilder:
        """``GS ( k`` QR code, cn=49: model 2 (fn 65), module size (fn 67), error level (fn 69), store
        data (fn 80, m=48), print (fn 81, m=48)."""
        if not 1 <= module_size <= 16:
            raise ValueError("QR module size must be 1..16")
        data = payload.encode("utf-8")
        if not data or len(data) > 7089:
            raise ValueError("QR payload must be 1..7089 bytes")
        self._gs_k(b"1A" + b"2\x00")
        self._gs_k(b"1C" + bytes([module_size]))
        self._gs_k(b"1E" + bytes([int(level)]))
        self._gs_k(b"1P0" + data)
        return self._gs_k(b"1Q0")

    def _gs_k(self, body: bytes) -> EscPosBuilder:
        n = len(body)
        return self._raw(GS + b"(k" + bytes([n & 0xFF, n >> 8]) + body)

    def status_request(self, kind: StatusKind | int) -> EscPosBuilder:
        return self._raw(status_request(kind))

    def paper_sensor_request(self) -> EscPosBuilder:
        return self._raw(PAPER_SENSOR_REQUEST)
