"""The attract loop: bank name, a slowly changing hint, and "touch to start" in both languages.

The screen is shown before anyone chose a language, so the call to action is bilingual. A hidden
maintenance gesture (hold the top-left corner 3 s, or Ctrl+Alt+M) emits ``maintenanceRequested``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEasingCurve, QPropertyAnimation, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QGraphicsOpacityEffect, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import LANGUAGES, tr
from ui.screens.base import MaintenanceGesture, Screen

HINT_KEYS = ("attract.hint.account", "attract.hint.card", "attract.hint.face", "attract.hint.safety")
HINT_INTERVAL_MS = 6000
FADE_MS = 900


class AttractScreen(Screen):
    name = "attract"
    title_key = "attract.welcome"
    idle_exempt = True

    maintenanceRequested = Signal()

    def __init__(self, bank_name: str, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.bank_name = bank_name
        self._hint_index = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 80, 80, 80)
        layout.setSpacing(24)
        layout.addStretch(2)
        self._bank = QLabel(bank_name, self)
        self._bank.setProperty("role", "hero")
        self._welcome = QLabel(self)
        self._welcome.setProperty("role", "subtitle")
        layout.addWidget(self._bank)
        layout.addWidget(self._welcome)
        layout.addStretch(1)
        self._hint = QLabel(self)
        self._hint.setProperty("role", "title")
        self._hint.setWordWrap(True)
        self._hint.setMinimumHeight(130)
        self._hint_effect = QGraphicsOpacityEffect(self._hint)
        self._hint_effect.setOpacity(1.0)
        self._hint.setGraphicsEffect(self._hint_effect)
        layout.addWidget(self._hint)
        layout.addStretch(2)
        self._touch = QLabel(self)
        self._touch.setProperty("role", "title")
        self._touch_other = QLabel(self)
        self._touch_other.setProperty("role", "subtitle")
        layout.addWidget(self._touch)
        layout.addWidget(self._touch_other)
        for label in (self._bank, self._welcome, self._hint, self._touch, self._touch_other):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._fade = QPropertyAnimation(self._hint_effect, b"opacity", self)
        self._fade.setDuration(FADE_MS)
        self._fade.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self._fade.finished.connect(self._fade_finished)
        self._rotate = QTimer(self)
        self._rotate.setInterval(HINT_INTERVAL_MS)
        self._rotate.timeout.connect(self._fade_out)

        self.gesture = MaintenanceGesture(self)
        self.gesture.triggered.connect(self.maintenanceRequested)
        self._shortcut = QShortcut(QKeySequence("Ctrl+Alt+M"), self)
        self._shortcut.activated.connect(self.maintenanceRequested)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        other = next(code for code in LANGUAGES if code != lang)
        self._bank.setText(self.bank_name)
        self._welcome.setText(tr("attract.welcome", lang))
        self._hint.setText(tr(HINT_KEYS[self._hint_index], lang))
        self._touch.setText(tr("attract.touch", lang))
        self._touch_other.setText(tr("attract.touch", other))
        # Deliberately in the other language (the customer has not chosen yet): tests and speech read
        # the text's language from this property.
        self._touch_other.setProperty("lang", other)

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self._hint_effect.setOpacity(1.0)
        self._rotate.start()

    def on_leave(self) -> None:
        self._rotate.stop()
        self._fade.stop()

    def hint_text(self) -> str:
        return self._hint.text()

    def next_hint(self) -> None:
        """Show the next hint at once (the timer does this with a fade)."""
        self._hint_index = (self._hint_index + 1) % len(HINT_KEYS)
        self._hint.setText(tr(HINT_KEYS[self._hint_index], self.lang))

    def _fade_out(self) -> None:
        self._fade.stop()
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.start()

    def _fade_finished(self) -> None:
        if self._hint_effect.opacity() < 0.5:
            self.next_hint()
            self._fade.setStartValue(0.0)
            self._fade.setEndValue(1.0)
            self._fade.start()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.gesture.fired:
            self.gesture.fired = False  # the hold opened maintenance; the release must not start a session
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self.emit_action("start")
