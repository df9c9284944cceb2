"""A big numeric keypad for amounts, phone numbers and ID numbers (18 characters, last may be X).

The rules of what may be typed are plain functions (:func:`accept_key`, :func:`parse_amount_minor`) so they
are tested without Qt; the widget only forwards keys and refuses what the rules refuse.
Money is integer minor units: ``"12.5"`` is 1250, never a float.
"""

from __future__ import annotations

import re
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QSizePolicy, QWidget

from kiosk.i18n import tr
from ui.theme import MIN_TOUCH_PX

Mode = Literal["amount", "phone", "id", "digits"]

DEFAULT_MAX_LENGTH: dict[str, int] = {"amount": 12, "phone": 11, "id": 18, "digits": 20}
AMOUNT_MAX_INTEGER_DIGITS = 9  # ¥999,999,999.99: far above any kiosk limit, and fits in a 64-bit int
ID_LENGTH = 18
BACKSPACE = "⌫"

_AMOUNT = re.compile(r"^(0|[1-9]\d*)(\.\d{1,2})?$")


def accept_key(mode: Mode, current: str, key: str, max_length: int | None = None) -> str | None:
    """The text after typing ``key`` (one character), or None when the key is not allowed here."""
    limit = max_length if max_length is not None else DEFAULT_MAX_LENGTH[mode]
    if len(key) != 1:
        return None
    if mode == "amount":
        return _accept_amount_key(current, key, limit)
    if len(current) >= limit:
        return None
    if key.isdigit() and key.isascii():
        return current + key
    if mode == "id" and key.upper() == "X" and len(current) == ID_LENGTH - 1:
        return current + "X"  # the check character of a PRC resident ID is 0-9 or X, last only
    return None


def _accept_amount_key(current: str, key: str, limit: int) -> str | None:
    if len(current) >= limit:
        return None
    if key == ".":
        if "." in current:
            return None
        return (current or "0") + "."
    if not (key.isdigit() and key.isascii()):
        return None
    whole, dot, fraction = current.partition(".")
    if dot:
        return current + key if len(fraction) < 2 else None
    if whole == "0":
        return key  # no leading zeros: "0" then "5" is "5"
    if len(whole) >= AMOUNT_MAX_INTEGER_DIGITS:
        return None
    return current + key


def parse_amount_minor(text: str) -> int | None:
    """``"12.5"`` → 1250 minor units; None for anything that is not a complete amount."""
    candidate = text.strip()
    if candidate.endswith("."):
        candidate = candidate[:-1]
    if not _AMOUNT.match(candidate):
        return None
    whole, _, fraction = candidate.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


def is_complete(mode: Mode, text: str, max_length: int | None = None) -> bool:
    """Whether Confirm may be pressed."""
    if mode == "amount":
        amount = parse_amount_minor(text)
        return amount is not None and amount > 0
    if mode == "id":
        return len(text) == ID_LENGTH
    if mode == "phone":
        return len(text) == (max_length or DEFAULT_MAX_LENGTH["phone"])
    return bool(text)


class NumericKeypad(QWidget):
    """Keys 0-9, then "." (amount) or "X" (ID), backspace, Clear and Confirm."""

    submitted = Signal(str)

    def __init__(
        self,
        mode: Mode = "digits",
        lang: str = "en",
        *,
        max_length: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._mode: Mode = mode
        self._lang = lang
        self._max_length = max_length
        self._target: QLineEdit | None = None
        grid = QGridLayout(self)
        grid.setSpacing(10)
        grid.setContentsMargins(0, 0, 0, 0)
        for index, digit in enumerate("123456789"):
            grid.addWidget(self._key(digit), index // 3, index % 3)
        extra = {"amount": ".", "id": "X"}.get(mode)
        self._extra = self._key(extra or "")
        self._extra.setVisible(extra is not None)
        grid.addWidget(self._extra, 3, 0)
        grid.addWidget(self._key("0"), 3, 1)
        grid.addWidget(self._key(BACKSPACE), 3, 2)
        self._clear = self._action("", self.clear)
        self._confirm = self._action("", self._submit)
        self._confirm.setProperty("variant", "primary")
        grid.addWidget(self._clear, 4, 0)
        grid.addWidget(self._confirm, 4, 1, 1, 2)
        self.retranslate(lang)

    def set_target(self, line_edit: QLineEdit) -> None:
        self._target = line_edit
        self._update_confirm()

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        self._clear.setText(tr("keypad.clear", lang))
        self._confirm.setText(tr("keypad.confirm", lang))

    def text(self) -> str:
        return self._target.text() if self._target is not None else ""

    def amount_minor(self) -> int | None:
        return parse_amount_minor(self.text())

    def press(self, key: str) -> bool:
        """Type one key as if touched; False when the key was refused."""
        if self._target is None:
            return False
        if key == BACKSPACE:
            self._target.setText(self._target.text()[:-1])
            self._update_confirm()
            return True
        updated = accept_key(self._mode, self._target.text(), key, self._max_length)
        if updated is None:
            return False
        self._target.setText(updated)
        self._update_confirm()
        return True

    def clear(self) -> None:
        if self._target is not None:
            self._target.clear()
        self._update_confirm()

    def _submit(self) -> None:
        if is_complete(self._mode, self.text(), self._max_length):
            self.submitted.emit(self.text())

    def _update_confirm(self) -> None:
        self._confirm.setEnabled(is_complete(self._mode, self.text(), self._max_length))

    def _key(self, label: str) -> QPushButton:
        button = self._action(label, lambda: self.press(label))
        button.setProperty("variant", "key")
        button.setMinimumSize(88, 72)
        return button

    def _action(self, label: str, slot: object) -> QPushButton:
        button = QPushButton(label, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setMinimumSize(MIN_TOUCH_PX, MIN_TOUCH_PX)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        button.clicked.connect(slot)
        return button
