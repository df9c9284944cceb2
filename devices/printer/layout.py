"""A device-level receipt document and its ESC/POS encoding.

The document holds already formatted strings (amounts, dates, masked PAN): formatting money and dates is
the bank's business, laying them out on 80 mm paper is ours. Chinese text is encoded as GB18030 inside
``FS &`` … ``FS .`` (see :mod:`devices.printer.escpos`); widths are counted in printer columns, where a
CJK character takes two.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from devices.printer.escpos import Align, EscPosBuilder, QrErrorLevel

RECEIPT_COLUMNS = 48  # 80 mm paper, font A (12x24 dots), 576 dots per line
MAX_VISIBLE_PAN_DIGITS = 10  # first 6 + last 4 at most

_LABELS: dict[str, dict[str, str]] = {
    "en": {"kiosk": "Kiosk", "date": "Date", "card": "Card", "reference": "Reference"},
    "zh": {"kiosk": "终端号", "date": "日期", "card": "卡号", "reference": "流水号"},
}


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    value: str


@dataclass(frozen=True)
class ReceiptDocument:
    bank_name: str
    kiosk_id: str
    date: str
    reference: str
    masked_pan: str = ""
    title: str = ""
    lines: tuple[ReceiptLine, ...] = ()
    amounts: tuple[ReceiptLine, ...] = ()
    qr_payload: str | None = None  # None → the reference
    footer: tuple[str, ...] = ()
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in _LABELS:
            raise ValueError(f"unsupported receipt language {self.language!r}")
        digits = re.findall(r"\d", self.masked_pan)
        if len(digits) > MAX_VISIBLE_PAN_DIGITS:
            # a full PAN must never reach paper: refuse rather than print it
            raise ValueError("masked_pan shows more than 10 digits; mask it (first 6 / last 4) first")
        if not self.reference:
            raise ValueError("a receipt needs a reference number")

    def __repr__(self) -> str:
        return f"ReceiptDocument(bank={self.bank_name!r}, kiosk={self.kiosk_id!r}, ref={self.reference!r})"


def display_width(text: str) -> int:
    """Printer columns used by ``text``: East Asian wide/fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def label_value_rows(label: str, value: str, columns: int = RECEIPT_COLUMNS) -> list[str]:
    """``label`` left and ``value`` right on one line, or value right-aligned on the next if too long."""
    gap = columns - display_width(label) - display_width(value)
    if gap >= 1:
        return [label + " " * gap + value]
    return [label, " " * max(0, columns - display_width(value)) + value]


@dataclass
class _Layout:
    columns: int
    out: EscPosBuilder = field(default_factory=EscPosBuilder)

    def rule(self) -> None:
        self.out.line("-" * self.columns)

    def rows(self, label: str, value: str) -> None:
        for row in label_value_rows(label, value, self.columns):
            self.out.line(row)


def encode_receipt(doc: ReceiptDocument, columns: int = RECEIPT_COLUMNS) -> bytes:
    """The ESC/POS bytes of one receipt, ending with a feed and a full cut."""
    labels = _LABELS[doc.language]
    lay = _Layout(columns)
    out = lay.out
    out.initialize()
    out.align(Align.CENTER).bold(True).size(2, 2).line(doc.bank_name).size(1, 1)
    if doc.title:
        out.line(doc.title)
    out.bold(False).align(Align.LEFT)
    lay.rule()
    lay.rows(labels["kiosk"], doc.kiosk_id)
    lay.rows(labels["date"], doc.date)
    if doc.masked_pan:
        lay.rows(labels["card"], doc.masked_pan)
    for item in doc.lines:
        lay.rows(item.label, item.value)
    if doc.amounts:
        lay.rule()
        out.bold(True)
        for item in doc.amounts:
            lay.rows(item.label, item.value)
        out.bold(False)
    lay.rule()
    lay.rows(labels["reference"], doc.reference)
    out.align(Align.CENTER)
    out.qr(doc.qr_payload if doc.qr_payload is not None else doc.reference, 6, QrErrorLevel.M)
    out.line()
    for text in doc.footer:
        out.line(text)
    out.align(Align.LEFT)
    out.feed(4).cut()
    return out.getvalue()
