"""A visible countdown (idle timeout, take-your-card) that turns to a warning colour near the end.

The deadline is a monotonic time, so a busy GUI thread never stretches the countdown: each tick shows
what is really left. ``expired`` fires once; ``extend_requested`` when the customer taps the button.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kiosk.i18n import tr

TICK_MS = 200


class CountdownBanner(QFrame):
    expired = Signal()
    tick = Signal(int)  # whole seconds left
    extend_requested = Signal()

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "banner")
        self.setProperty("level", "normal")
        self._lang = lang
        self._deadline = 0.0
        self._warning_s = 0.0
        self._key = "idle.warning"
        self._warning_key = "idle.warning"
        self._button_key = ""
        self._fired = False
        self._last_shown = -1
        self._clock: Callable[[], float] = time.monotonic
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._update)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 12, 12, 12)
        self._label = QLabel(self)
        self._label.setWordWrap(True)
        self._label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._label, 1)
        self._button = QPushButton(self)
        self._button.clicked.connect(self.extend_requested)
        self._button.hide()
        layout.addWidget(self._button)
        self.hide()

    def start(
        self,
        seconds: float,
        *,
        warning_s: float = 0,
        message_key: str = "idle.warning",
        warning_key: str | None = None,
        button_key: str = "",
    ) -> None:
        """Count ``seconds`` down; the last ``warning_s`` use the warning style and ``warning_key`` text."""
        self._deadline = self._clock() + seconds
        self._warning_s = warning_s
        self._key = message_key
        self._warning_key = warning_key or message_key
        self._button_key = button_key
        self._fired = False
        self._last_shown = -1
        self._button.setVisible(bool(button_key))
        self._update()
        self._timer.start()
        self.show()
        self.raise_()

    def stop(self) -> None:
        self._timer.stop()
        self.hide()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def remaining(self) -> float:
        return max(0.0, self._deadline - self._clock())

    def is_warning(self) -> bool:
        return bool(self.property("level") == "warning")

    def text(self) -> str:
        return self._label.text()

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        self._last_shown = -1
        if self.is_running():
            self._update()

    def _update(self) -> None:
        left = self.remaining()
        seconds = math.ceil(left)
        warning = left <= self._warning_s
        level = "warning" if warning else "normal"
        if level != self.property("level"):
            self._last_shown = -1  # the warning has its own text: render it now
            self.setProperty("level", level)
            self.style().unpolish(self)
            self.style().polish(self)
            for child in self.findChildren(QWidget):
                child.style().unpolish(child)
                child.style().polish(child)
        if seconds != self._last_shown:
            self._last_shown = seconds
            key = self._warning_key if warning else self._key
            self._label.setText(tr(key, self._lang, seconds=seconds))
            if self._button_key:
                self._button.setText(tr(self._button_key, self._lang))
            self.tick.emit(seconds)
        if left <= 0 and not self._fired:
            self._fired = True
            self._timer.stop()
            self.expired.emit()
