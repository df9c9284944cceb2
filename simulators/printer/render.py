"""Render an interpreted receipt to plain text and to a PNG of the paper (576 dots = 80 mm at 203 dpi)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

from simulators.printer.interpreter import ImageBlock, QrBlock, Receipt, TextLine

PAPER_DOTS = 576
CELL_W, CELL_H = 12, 24  # font A
CJK_FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)


def char_cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _pad(text: str, width: int, align: int, columns: int) -> str:
    free = max(0, columns - width)
    left = 0 if align == 0 else (free // 2 if align == 1 else free)
    return " " * left + text


def aligned_text(receipt: Receipt, columns: int = 48) -> list[str]:
    """The receipt as text lines, alignment applied; QR codes and images as bracketed notes."""
    lines: list[str] = []
    for block in receipt.blocks:
        if isinstance(block, TextLine):
            width = sum(char_cells(ch) * seg.style.width for seg in block.segments for ch in seg.text)
            lines.append(_pad(block.text, width, block.align, columns).rstrip())
        elif isinstance(block, QrBlock):
            note = f"[QR: {block.payload}]"
            lines.append(_pad(note, len(note), block.align, columns))
        else:
            note = f"[image {block.width}x{block.height}]"
            lines.append(_pad(note, len(note), block.align, columns))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in CJK_FONT_CANDIDATES:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()


class ReceiptRenderer:
    """Draws receipts; fonts are loaded once per size."""

    def __init__(self) -> None:
        self._fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self._fonts:
            self._fonts[size] = _load_font(size)
        return self._fonts[size]

    def to_image(self, receipt: Receipt) -> Image.Image:
        pieces: list[Image.Image] = []
        for block in receipt.blocks:
            if isinstance(block, TextLine):
                pieces.append(self._text_line(block))
            elif isinstance(block, QrBlock):
                pieces.append(self._placed(_qr_image(block), block.align))
            elif isinstance(block, ImageBlock):
                pieces.append(self._placed(_raster_image(block), block.align))
        height = sum(p.height for p in pieces) + 2 * CELL_H
        paper = Image.new("L", (PAPER_DOTS, max(height, CELL_H)), 255)
        y = CELL_H
        for piece in pieces:
            paper.paste(piece, (0, y))
            y += piece.height
        return paper

    def _placed(self, image: Image.Image, align: int) -> Image.Image:
        row = Image.new("L", (PAPER_DOTS, image.height), 255)
        free = max(0, PAPER_DOTS - image.width)
        x = 0 if align == 0 else (free // 2 if align == 1 else free)
        row.paste(image.crop((0, 0, min(image.width, PAPER_DOTS), image.height)), (x, 0))
        return row

    def _text_line(self, line: TextLine) -> Image.Image:
        scale_h = max((seg.style.height for seg in line.segments), default=1)
        row = Image.new("L", (PAPER_DOTS, CELL_H * scale_h), 255)
        draw = ImageDraw.Draw(row)
        total = sum(char_cells(ch) * CELL_W * seg.style.width for seg in line.segments for ch in seg.text)
        free = max(0, PAPER_DOTS - total)
        x = 0 if line.align == 0 else (free // 2 if line.align == 1 else free)
        for seg in line.segments:
            style = seg.style
            font = self.font(CELL_H * style.height - 2)
            for ch in seg.text:
                advance = char_cells(ch) * CELL_W * style.width
                if ch != " ":
                    draw.text(
                        (x, row.height - (CELL_H * style.height) // 5),
                        ch,
                        anchor="ls",  # baseline-anchored: tall CJK ascenders must not be clipped
                        fill=0,
                        font=font,
                        stroke_width=1 if style.bold else 0,
                        stroke_fill=0,
                    )
                if style.underline:
                    draw.line((x, row.height - 2, x + advance, row.height - 2), fill=0, width=2)
                x += advance
        return row

    def save(self, receipt: Receipt, png_path: Path) -> None:
        self.to_image(receipt).save(png_path)


def _qr_image(block: QrBlock) -> Image.Image:
    code = qrcode.QRCode(
        box_size=max(1, block.module_size), border=2, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    code.add_data(block.payload)
    code.make(fit=True)
    matrix = np.array(code.get_matrix(), dtype=bool)
    pixels = np.where(matrix, 0, 255).astype(np.uint8)
    pixels = np.kron(pixels, np.ones((block.module_size, block.module_size), dtype=np.uint8))
    return Image.fromarray(pixels, "L")


def _raster_image(block: ImageBlock) -> Image.Image:
    if not block.bits:
        return Image.new("L", (max(1, block.width), max(1, block.height)), 200)  # column images: a grey box
    packed = np.frombuffer(block.bits, dtype=np.uint8).reshape(block.height, block.width // 8)
    bits = np.unpackbits(packed, axis=1)
    return Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), "L")
