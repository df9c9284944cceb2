"""Shows one ``*`` per PIN key the customer pressed on the EPP; it never sees, stores or shows a digit.

The PIN pad in encrypting mode reports only *that* a digit key was pressed. Should an event ever carry a
digit anyway, this widget still counts it as a key and drops the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import tr

FILLED = "*"
EMPTY = "_"


class PinDots(QWidget):
    changed = Signal(int)  # how many keys are entered
    completed = Signal()  # Enter pressed with at least min_length keys
    cancelled = Signal()

    def __init__(
        self, lang: str = "en", *, length: int = 6, min_length: int = 4, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._count = 0
        self._length = length
        self._min_length = min_length
        self._lang = lang
        layout = QVBoxLayout(self)
        self._dots = QLabel(self)
        self._dots.setProperty("role", "pin-dots")
        self._dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._dots)
        self._progress = QLabel(self)
        self._progress.setProperty("role", "muted")
        self._progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._progress)
        self._render()

    def count(self) -> int:
        return self._count

    def text(self) -> str:
        return self._dots.text()

    def reset(self) -> None:
        self._count = 0
        self._render()

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        self._render()

    def handle_key(self, key: str) -> None:
        """A key name as the EPP reports it: "*" (a masked digit), "BACKSPACE", "CLEAR", "ENTER",
        "CANCEL", or "F1".."F8" (ignored). Anything else counts as one digit key, its value dropped."""
        name = key.upper()
        if name in ("BACKSPACE", "BKSP"):
            self._count = max(0, self._count - 1)
        elif name == "CLEAR":
            self._count = 0
        elif name == "ENTER":
            if self._count >= self._min_length:
                self.completed.emit()
            return
        elif name == "CANCEL":
            self.cancelled.emit()
            return
        elif len(name) >= 2 and name[0] == "F" and name[1:].isdigit():
            return  # function keys beside the screen, not part of the PIN
        elif self._count < self._length:
            self._count += 1
        self._render()
        self.changed.emit(self._count)

    def handle_event(self, event: Any) -> None:
        """A devices.base.DeviceEvent from the PIN pad; only key presses made during PIN entry count."""
        if getattr(event, "kind", "") != "key_pressed":
            return
        data: Mapping[str, Any] = getattr(event, "data", {}) or {}
        if data.get("mode", "pin") != "pin":
            return
        self.handle_key(str(data.get("key", "*")))

    def _render(self) -> None:
        self._dots.setText(" ".join([FILLED] * self._count + [EMPTY] * (self._length - self._count)))
        self._progress.setText(tr("pin.progress", self._lang, count=self._count, length=self._length))
