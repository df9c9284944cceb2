"""The accessibility choices screen, and the small button that opens it from the language screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.accessibility.modes import MODE_NAMES, AccessibilityModes
from kiosk.i18n import tr
from ui.screens.base import Screen
from ui.widgets.button import KioskButton

MODE_KEYS = {
    "speech": "a11y.speech",
    "keypad_only": "a11y.keypad",
    "elderly": "a11y.elderly",
    "assisted": "a11y.assisted",
}


class AccessibilityScreen(Screen):
    """Four toggles (On / Off in the hint) and Done; emits ``toggle`` with the mode, ``done``."""

    name = "accessibility"
    title_key = "a11y.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.modes = AccessibilityModes()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 40, 64, 32)
        layout.setSpacing(20)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._body = QLabel(self)
        self._body.setProperty("role", "subtitle")
        self._body.setWordWrap(True)
        layout.addWidget(self._title)
        layout.addWidget(self._body)
        grid = QGridLayout()
        grid.setSpacing(24)
        self.toggles: dict[str, KioskButton] = {}
        for n, mode in enumerate(MODE_NAMES):
            button = KioskButton(variant="secondary", parent=self)
            button.setObjectName(f"a11y-{mode}")
            button.setMinimumHeight(140)
            button.clicked.connect(lambda _=False, m=mode: self.emit_action("toggle", m))
            grid.addWidget(button, n // 2, n % 2)
            self.toggles[mode] = button
        layout.addLayout(grid)
        layout.addStretch(1)
        self._done = KioskButton(variant="primary", parent=self)
        self._done.setObjectName("a11y-done")
        self._done.clicked.connect(lambda: self.emit_action("done"))
        layout.addWidget(self._done)

    def show_modes(self, modes: AccessibilityModes) -> None:
        self.modes = modes
        self.retranslate(self.lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self._title.setText(tr("a11y.title", lang))
        self._body.setText(tr("a11y.body", lang))
        for mode, button in self.toggles.items():
            on = bool(getattr(self.modes, mode))
            state = tr("a11y.on" if on else "a11y.off", lang)
            key = MODE_KEYS[mode]
            button.set_texts(f"{'✓ ' if on else ''}{tr(key, lang)} — {state}", tr(f"{key}.hint", lang))
        self._done.set_texts(tr("a11y.done", lang))

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self.retranslate(self.lang)


class CornerButton(QObject):
    """Keeps a small button in the top-right corner of ``host`` (the language screen)."""

    def __init__(self, host: QWidget, button: KioskButton, margin: int = 24) -> None:
        super().__init__(host)
        self.host = host
        self.button = button
        self.margin = margin
        host.installEventFilter(self)
        self.place()

    def place(self) -> None:
        hint = self.button.sizeHint()
        width = max(hint.width(), 260)
        self.button.setGeometry(self.host.width() - width - self.margin, self.margin, width, 72)
        self.button.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.host and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.place()
        return False


def accessibility_button(parent: QWidget, lang: str) -> KioskButton:
    button = KioskButton(f"♿ {tr('a11y.button', lang)}", variant="secondary", parent=parent)
    button.setObjectName("a11y-open")
    button.setMinimumHeight(72)
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return button
