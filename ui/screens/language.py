"""Language choice: two big buttons, each labelled in its own language."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import LANGUAGES, tr
from ui.screens.base import Screen
from ui.widgets.button import KioskButton


class LanguageScreen(Screen):
    name = "language"
    title_key = "language.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 60, 80, 60)
        layout.setSpacing(24)
        layout.addStretch(1)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title_other = QLabel(self)
        self._title_other.setProperty("role", "subtitle")
        for label in (self._title, self._title_other):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addSpacing(48)
        row = QHBoxLayout()
        row.setSpacing(48)
        self.buttons: dict[str, KioskButton] = {}
        for code in LANGUAGES:
            # Each button names its language in that language, whatever the current one is.
            button = KioskButton(tr(f"language.{code}", code), variant="primary", parent=self)
            button.setMinimumHeight(160)
            button.setObjectName(f"lang-{code}")
            button.setProperty("lang", code)  # named in its own language, whatever the current one
            button.clicked.connect(lambda _=False, c=code: self.emit_action("language", c))
            self.buttons[code] = button
            row.addWidget(button)
        layout.addLayout(row)
        layout.addStretch(2)
        self._back = KioskButton(variant="secondary", parent=self)
        self._back.setMaximumWidth(320)
        self._back.clicked.connect(lambda: self.emit_action("back"))
        layout.addWidget(self._back, 0, Qt.AlignmentFlag.AlignLeft)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        other = next(code for code in LANGUAGES if code != lang)
        self._title.setText(tr("language.title", lang))
        self._title_other.setText(tr("language.title", other))
        # Deliberately in the other language (the customer has not chosen yet): tests and speech read
        # the text's language from this property.
        self._title_other.setProperty("lang", other)
        self._back.set_texts(tr("common.back", lang))
