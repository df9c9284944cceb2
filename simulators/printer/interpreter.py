"""An ESC/POS stream interpreter: enough of the command set for our driver and python-escpos.

It consumes a byte stream in arbitrary chunks and builds a :class:`Receipt` (lines of styled text, QR
codes, raster images) until a cut. Commands it does not render are still consumed with their exact
parameter lengths, so they never leak into the text. Real-time status requests are answered through the
``reply`` callback at the point they appear in the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# ESC x with a fixed number of parameter bytes (after the command letter).
_ESC_FIXED = {
    b"@"[0]: 0,
    b"E"[0]: 1,
    b"a"[0]: 1,
    b"!"[0]: 1,
    b"-"[0]: 1,
    b"M"[0]: 1,
    b"t"[0]: 1,
    b"d"[0]: 1,
    b"J"[0]: 1,
    b"G"[0]: 1,
    b"2"[0]: 0,
    b"3"[0]: 1,
    b"B"[0]: 2,
    b"p"[0]: 3,
    b"{"[0]: 1,
    b"r"[0]: 1,
    b"="[0]: 1,
    b"c"[0]: 2,
    b"V"[0]: 1,
    b"R"[0]: 1,
    b" "[0]: 1,
    b"$"[0]: 2,
    b"\\"[0]: 2,
    b"K"[0]: 1,
    b"?"[0]: 2,
    b"i"[0]: 0,
    b"m"[0]: 0,
    b"e"[0]: 1,
    b"U"[0]: 1,
    b"S"[0]: 0,
    b"L"[0]: 0,
    b"T"[0]: 1,
    b"%"[0]: 1,
    b"<"[0]: 0,
    b"f"[0]: 2,
    b"u"[0]: 1,
    b"v"[0]: 0,
    b"W"[0]: 8,
}
# GS x with a fixed number of parameter bytes (GS V, GS (, GS v, GS k, GS 8 are handled separately).
_GS_FIXED = {
    b"!"[0]: 1,
    b"B"[0]: 1,
    b"b"[0]: 1,
    b"H"[0]: 1,
    b"h"[0]: 1,
    b"w"[0]: 1,
    b"f"[0]: 1,
    b"L"[0]: 2,
    b"W"[0]: 2,
    b"|"[0]: 1,
    b"I"[0]: 1,
    b"a"[0]: 1,
    b"P"[0]: 2,
    b"$"[0]: 2,
    b"\\"[0]: 2,
    b"r"[0]: 1,
    b"^"[0]: 3,
    b"E"[0]: 1,
    b"T"[0]: 1,
    b"/"[0]: 1,
    b":"[0]: 0,
    b"*"[0]: 2,
    b"g"[0]: 3,
    b"z"[0]: 1,
    b"D"[0]: 1,
    b"j"[0]: 1,
}
_FS_FIXED = {
    b"&"[0]: 0,
    b"."[0]: 0,
    b"!"[0]: 1,
    b"-"[0]: 1,
    b"C"[0]: 1,
    b"W"[0]: 1,
    b"p"[0]: 2,
    b"S"[0]: 2,
    b"?"[0]: 2,
    b"q"[0]: 0,
}

_CODEPAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    255: "gb18030",
}


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    align: int = 0


@dataclass
class Segment:
    text: str
    style: Style


@dataclass
class TextLine:
    segments: list[Segment]
    align: int

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass
class QrBlock:
    payload: str
    module_size: int
    align: int


@dataclass
class ImageBlock:
    width: int
    height: int
    bits: bytes  # packed rows, MSB first, 1 = black
    align: int


Block = TextLine | QrBlock | ImageBlock


@dataclass
class Receipt:
    blocks: list[Block] = field(default_factory=list)
    cut: bool = False
    byte_count: int = 0

    def text_lines(self, columns: int = 48) -> list[str]:
        from simulators.printer.render import aligned_text  # local: rendering is optional

        return aligned_text(self, columns)


class NeedMore(Exception):
    """The buffer ends inside a command; wait for more bytes."""


class EscPosInterpreter:
    """Feed bytes with :meth:`feed`; completed receipts go to ``on_cut``, status requests to ``reply``.

    ``status_byte(n)`` answers ``DLE EOT n``; ``paper_sensor()`` answers ``GS r 1``.
    """

    def __init__(
        self,
        *,
        status_byte: Callable[[int], int],
        paper_sensor: Callable[[], int],
        on_cut: Callable[[Receipt], None],
        kanji_default: bool = True,
    ) -> None:
        self._status_byte = status_byte
        self._paper_sensor = paper_sensor
        self._on_cut = on_cut
        self._kanji_default = kanji_default
        self._buf = bytearray()
        self.receipt = Receipt()
        self._reset_modes()

    def _reset_modes(self) -> None:
        self.style = Style()
        self.kanji = self._kanji_default
        self.codepage = "cp437"
        self._line_bytes = bytearray()
        self._run_encoding = "cp437"
        self._segments: list[Segment] = []
        self._qr_payload = b""
        self._qr_module = 3

    # -- streaming ---------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        """Interpret ``data``; returns the bytes the printer sends back (status answers)."""
        self._buf += data
        out = bytearray()
        while self._buf:
            try:
                used = self._step(out)
            except NeedMore:
                break
            self.receipt.byte_count += used
            del self._buf[:used]
        return bytes(out)

    @property
    def has_content(self) -> bool:
        """True once the current job holds anything printable."""
        return bool(self.receipt.blocks or self._line_bytes or any(s.text for s in self._segments))

    @property
    def pending(self) -> int:
        """Bytes of an incomplete command waiting for the rest."""
        return len(self._buf)

    def _need(self, n: int) -> None:
        if len(self._buf) < n:
            raise NeedMore

    def _step(self, out: bytearray) -> int:
        b = self._buf
        c = b[0]
        if c == ESC:
            self._need(2)
            return self._esc(b[1])
        if c == GS:
            self._need(2)
            return self._gs(b[1], out)
        if c == FS:
            self._need(2)
            return self._fs(b[1])
        if c == DLE:
            self._need(2)
            return self._dle(b[1], out)
        if c == 0x0A or c == 0x0C:
            self._end_line()
            return 1
        if c == 0x09:
            self._add_text(b"    ")
            return 1
        if c < 0x20 or c == 0x7F:
            return 1  # other control bytes (CR, BEL, CAN...) do not print
        # printable text up to the next control byte
        end = 1
        while end < len(b) and b[end] >= 0x20 and b[end] != 0x7F:
            end += 1
        self._add_text(bytes(b[:end]))
        return end

    # -- text --------------------------------------------------------------------------------
    def _add_text(self, data: bytes) -> None:
        # Bytes of one run (same style and encoding) are decoded together when the run ends, so a
        # multi-byte character split across two network reads stays whole.
        encoding = "gb18030" if self.kanji else self.codepage
        if not self._segments or self._segments[-1].style != self.style or self._run_encoding != encoding:
            self._flush_run()
            self._segments.append(Segment("", self.style))
            self._run_encoding = encoding
        self._line_bytes += data

    def _flush_run(self) -> None:
        if self._line_bytes and self._segments:
            self._segments[-1].text += bytes(self._line_bytes).decode(self._run_encoding, errors="replace")
        self._line_bytes.clear()

    def _set_style(self, **changes: Any) -> None:
        self._flush_run()
        self.style = replace(self.style, **changes)

    def _set_encoding(self, kanji: bool | None = None, codepage: str | None = None) -> None:
        self._flush_run()
        if kanji is not None:
            self.kanji = kanji
        if codepage is not None:
            self.codepage = codepage

    def _end_line(self) -> None:
        self._flush_run()
        segments = [s for s in self._segments if s.text]
        self.receipt.blocks.append(TextLine(segments, self.style.align))
        self._segments = []

    def _end_pending_text(self) -> None:
        self._flush_run()
        if any(s.text for s in self._segments):
            self._end_line()
        self._segments = []

    def _feed_lines(self, n: int) -> None:
        """Print what is buffered and feed ``n`` lines in all (the printed line counts as one)."""
        self._flush_run()
        if any(s.text for s in self._segments):
            self._end_line()
            n -= 1
        self._segments = []
        for _ in range(max(0, n)):
            self.receipt.blocks.append(TextLine([], self.style.align))

    def _cut(self) -> None:
        self._end_pending_text()
        receipt = self.receipt
        receipt.cut = True
        self.receipt = Receipt()
        self._on_cut(receipt)

    # -- command groups ----------------------------------------------------------------------
    def _esc(self, cmd: int) -> int:
        b = self._buf
        if cmd == 0x2A:  # ESC * m nL nH d1..dk  column bit image
            self._need(5)
            m, n = b[2], b[3] + 256 * b[4]
            size = n * (3 if m in (32, 33) else 1)
            self._need(5 + size)
            self._end_pending_text()
            self.receipt.blocks.append(ImageBlock(n, 24 if m in (32, 33) else 8, b"", self.style.align))
            return 5 + size
        if cmd == 0x44:  # ESC D n1..nk NUL  tab stops
            end = b.find(b"\x00", 2)
            if end < 0:
                raise NeedMore
            return end + 1
        params = _ESC_FIXED.get(cmd)
        if params is None:
            return 2  # unknown ESC command: drop the pair
        self._need(2 + params)
        p = b[2 : 2 + params]
        if cmd == b"@"[0]:
            self._end_pending_text()
            self._reset_modes()
        elif cmd == b"E"[0] or cmd == b"G"[0]:
            self._set_style(bold=bool(p[0] & 1))
        elif cmd == b"-"[0]:
            self._set_style(underline=p[0] in (1, 2, 49, 50))
        elif cmd == b"!"[0]:
            self._set_style(
                bold=bool(p[0] & 0x08),
                height=2 if p[0] & 0x10 else 1,
                width=2 if p[0] & 0x20 else 1,
                underline=bool(p[0] & 0x80),
            )
        elif cmd == b"a"[0]:
            self._set_style(align=p[0] % 48 if p[0] >= 48 else min(p[0], 2))
        elif cmd == b"t"[0]:
            self._set_encoding(codepage=_CODEPAGES.get(p[0], "cp437"))
        elif cmd == b"d"[0]:
            self._feed_lines(p[0])
        elif cmd == b"i"[0] or cmd == b"m"[0]:
            self._cut()
        return 2 + params

    def _gs(self, cmd: int, out: bytearray) -> int:
        b = self._buf
        if cmd == b"V"[0]:
            self._need(3)
            length = 4 if b[2] in (65, 66, 97, 98, 103, 104) else 3
            self._need(length)
            if length == 4 and b[2] in (65, 66):
                self._feed_lines(b[3] // 24)  # n is in motion units (dots); ~24 dots per line
            self._cut()
            return length
        if cmd == b"("[0]:  # GS ( fn pL pH ...
            self._need(5)
            size = b[3] + 256 * b[4]
            self._need(5 + size)
            if b[2] == b"k"[0]:
                self._qr(bytes(b[5 : 5 + size]))
            return 5 + size
        if cmd == b"8"[0]:  # GS 8 L p1 p2 p3 p4 ...
            self._need(7)
            size = int.from_bytes(b[3:7], "little")
            self._need(7 + size)
            return 7 + size
        if cmd == b"v"[0]:  # GS v 0 m xL xH yL yH d...  raster bit image
            self._need(8)
            width_bytes = b[4] + 256 * b[5]
            height = b[6] + 256 * b[7]
            size = width_bytes * height
            self._need(8 + size)
            self._end_pending_text()
            self.receipt.blocks.append(
                ImageBlock(width_bytes * 8, height, bytes(b[8 : 8 + size]), self.style.align)
            )
            return 8 + size
        if cmd == b"k"[0]:  # barcode
            self._need(3)
            m = b[2]
            if m <= 6:
                end = b.find(b"\x00", 3)
                if end < 0:
                    raise NeedMore
                return end + 1
            self._need(4)
            self._need(4 + b[3])
            return 4 + b[3]
        params = _GS_FIXED.get(cmd)
        if params is None:
            return 2
        self._need(2 + params)
        p = b[2 : 2 + params]
        if cmd == b"!"[0]:
            self._set_style(width=(p[0] >> 4) + 1, height=(p[0] & 0x0F) + 1)
        elif cmd == b"r"[0]:
            if p[0] in (1, 49):
                out.append(self._paper_sensor())
            else:
                out.append(0x00)
        elif cmd == b"I"[0]:
            out += b"\x20"  # a model ID byte
        return 2 + params

    def _fs(self, cmd: int) -> int:
        params = _FS_FIXED.get(cmd)
        if params is None:
            return 2
        self._need(2 + params)
        if cmd == b"&"[0]:
            self._set_encoding(kanji=True)
        elif cmd == b"."[0]:
            self._set_encoding(kanji=False)
        return 2 + params

    def _dle(self, cmd: int, out: bytearray) -> int:
        b = self._buf
        if cmd == 0x04:  # DLE EOT n
            self._need(3)
            n = b[2]
            if n in (1, 2, 3, 4):
                out.append(self._status_byte(n))
            elif n in (7, 8):
                self._need(4)
                out.append(0x12)
                return 4
            return 3
        if cmd == 0x05:  # DLE ENQ n
            self._need(3)
            return 3
        if cmd == 0x14:  # DLE DC4 fn ...
            self._need(3)
            fn = b[2]
            length = {1: 5, 2: 5, 7: 4, 8: 10}.get(fn, 3)
            self._need(length)
            return length
        return 1  # a bare DLE byte

    def _qr(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:
            return  # other 2D symbologies are consumed, not rendered
        fn = body[1]
        if fn == 67 and len(body) >= 3:
            self._qr_module = body[2]
        elif fn == 80:
            self._qr_payload = body[3:]
        elif fn == 81:
            self._end_pending_text()
            self.receipt.blocks.append(
                QrBlock(self._qr_payload.decode("utf-8", "replace"), self._qr_module, self.style.align)
            )
