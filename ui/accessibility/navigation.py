"""Keypad-only navigation: move a focus ring across a screen's buttons, speak it, press it.

Keys (PIN pad function keys while the pad is idle, or a keyboard): F1 / ← / ↑ previous button, F2 / → /
↓ / Tab next, F3 repeat the screen and the focused button, ENTER press it, CANCEL / Esc the screen's
"cancel" (or "back") action. Whenever speech is on (ADA §707.5: repeat, interrupt, volume), also without
keypad-only: F3 repeat, F4 stop speaking, F5 quieter, F6 louder.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from ui.accessibility.reading import button_label, focusable_buttons

PREVIOUS, NEXT, REPEAT, ACTIVATE, CANCEL = "previous", "next", "repeat", "activate", "cancel"
STOP_SPEECH, QUIETER, LOUDER = "stop_speech", "quieter", "louder"
SPEECH_COMMANDS = frozenset({REPEAT, STOP_SPEECH, QUIETER, LOUDER})

PIN_PAD_KEYS: dict[str, str] = {
    "F1": PREVIOUS,
    "F2": NEXT,
    "F3": REPEAT,
    "F4": STOP_SPEECH,
    "F5": QUIETER,
    "F6": LOUDER,
    "ENTER": ACTIVATE,
    "CANCEL": CANCEL,
}
QT_KEYS: dict[int, str] = {
    int(Qt.Key.Key_Left): PREVIOUS,
    int(Qt.Key.Key_Up): PREVIOUS,
    int(Qt.Key.Key_Backtab): PREVIOUS,
    int(Qt.Key.Key_Right): NEXT,
    int(Qt.Key.Key_Down): NEXT,
    int(Qt.Key.Key_Tab): NEXT,
    int(Qt.Key.Key_F3): REPEAT,
    int(Qt.Key.Key_F4): STOP_SPEECH,
    int(Qt.Key.Key_F5): QUIETER,
    int(Qt.Key.Key_F6): LOUDER,
    int(Qt.Key.Key_Return): ACTIVATE,
    int(Qt.Key.Key_Enter): ACTIVATE,
    int(Qt.Key.Key_Escape): CANCEL,
}


class FocusNavigator:
    """The focus position on the current screen; ``announce(button, index, count)`` speaks it."""

    def __init__(self, announce: Callable[[QPushButton, int, int], None]) -> None:
        self._announce = announce
        self.screen: QWidget | None = None
        self.index = -1

    def buttons(self) -> list[QPushButton]:
        return focusable_buttons(self.screen) if self.screen is not None else []

    def reset(self, screen: QWidget | None) -> QPushButton | None:
        self.screen = screen
        self.index = -1
        buttons = self.buttons()
        if not buttons:
            return None
        self.index = 0
        buttons[0].setFocus(Qt.FocusReason.TabFocusReason)
        return buttons[0]

    def focused(self) -> QPushButton | None:
        buttons = self.buttons()
        return buttons[self.index] if 0 <= self.index < len(buttons) else None

    def move(self, step: int) -> QPushButton | None:
        buttons = self.buttons()
        if not buttons:
            return None
        self.index = (self.index + step) % len(buttons) if self.index >= 0 else 0
        button = buttons[self.index]
        button.setFocus(Qt.FocusReason.TabFocusReason)
        self._announce(button, self.index + 1, len(buttons))
        return button

    def activate(self) -> str:
        button = self.focused()
        if button is None:
            return ""
        label = button_label(button)
        button.click()
        return label
