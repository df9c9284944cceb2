"""A journey step screen: title, subtitle, an error line, a body, and a row of big buttons.

Journey screens are dumb: they render the view data a journey sent (``on_enter(context)``) in the current
language, and emit ``action(name, payload)`` when the customer touches something; the running journey
decides what follows. Subclasses build their body in ``__init__`` (into ``self.body``) and fill it in
``refresh_view()``, which runs on every new view and on every language change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLayout, QVBoxLayout, QWidget

from hostlink.money import Money
from kiosk.i18n import tr
from ui.screens.base import Screen
from ui.theme import PALETTE
from ui.widgets.button import KioskButton, Variant


def money_text(minor: int, currency: str, lang: str) -> str:
    return Money(int(minor), currency).format("zh_CN" if lang == "zh_CN" else "en")


def clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()  # gone now, not at the next event-loop turn (a grab may come first)
            widget.setParent(None)
            widget.deleteLater()
        elif item is not None:
            inner = item.layout()
            if inner is not None:
                clear_layout(inner)


class StepScreen(Screen):
    """Base of the card journeys' screens (and any journey that wants the same shape)."""

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(64, 40, 64, 32)
        outer.setSpacing(18)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title.setWordWrap(True)
        self._subtitle = QLabel(self)
        self._subtitle.setProperty("role", "subtitle")
        self._subtitle.setWordWrap(True)
        self._error = QLabel(self)
        self._error.setWordWrap(True)
        self._error.setStyleSheet(
            f"background: {PALETTE.warning_bg}; color: {PALETTE.on_warning}; font-weight: 700;"
            " padding: 10px 16px; border-radius: 8px;"
        )
        self._error.hide()
        outer.addWidget(self._title)
        outer.addWidget(self._subtitle)
        outer.addWidget(self._error)
        self.body = QVBoxLayout()
        self.body.setSpacing(14)
        outer.addLayout(self.body, 1)
        self._button_row = QHBoxLayout()
        self._button_row.setSpacing(24)
        outer.addLayout(self._button_row)
        self.buttons: dict[str, KioskButton] = {}
        self._button_keys: dict[str, str] = {}

    # -- building ---------------------------------------------------------------------------
    def add_button(
        self, action: str, key: str, variant: Variant = "secondary", payload: object = None
    ) -> KioskButton:
        button = KioskButton(tr(key, self.lang), variant=variant, parent=self)
        button.setObjectName(f"{self.name}-{action}")
        button.clicked.connect(lambda _=False: self.emit_action(action, payload))
        self._button_row.addWidget(button)
        self.buttons[action] = button
        self._button_keys[action] = key
        return button

    def value_label(self, role: str = "") -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        if role:
            label.setProperty("role", role)
        return label

    # -- rendering ----------------------------------------------------------------------------
    def set_header(self, title: str, subtitle: str = "") -> None:
        self._title.setText(title)
        self._subtitle.setText(subtitle)
        self._subtitle.setVisible(bool(subtitle))

    def set_error(self, text: str) -> None:
        self._error.setText(text)
        self._error.setVisible(bool(text))

    def error_text(self) -> str:
        return self._error.text() if not self._error.isHidden() else ""

    def title_text(self) -> str:
        return self._title.text()

    def t(self, key: str, **params: Any) -> str:
        return tr(key, self.lang, **params)

    def data(self, key: str, default: Any = None) -> Any:
        return self.context.get(key, default)

    def refresh_view(self) -> None:
        """Fill the texts from ``self.context`` in ``self.lang``; subclasses override."""

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        error = str(context.get("error") or "")
        self.set_error(self.t(error, tries=context.get("tries_left", "")) if error else "")
        self.refresh_view()

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        for action, key in self._button_keys.items():
            self.buttons[action].set_texts(tr(key, lang))
        error = str(self.context.get("error") or "")
        self.set_error(self.t(error, tries=self.context.get("tries_left", "")) if error else "")
        self.refresh_view()


def detail_grid(rows: list[tuple[str, str]], parent: QWidget) -> QGridLayout:
    """Label / value pairs, values right-aligned and bold (confirmation, balance)."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(32)
    grid.setVerticalSpacing(10)
    for index, (label, value) in enumerate(rows):
        left = QLabel(label, parent)
        left.setProperty("role", "subtitle")
        right = QLabel(value, parent)
        right.setStyleSheet("font-weight: 700;")
        right.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        right.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        grid.addWidget(left, index, 0)
        grid.addWidget(right, index, 1)
    return grid
