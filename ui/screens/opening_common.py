"""Shared layout for the account-opening and face-login screens, and the "please wait" step.

Every step has a title, an optional body, its own content, and a bottom row with Cancel on the left and
the step's main action on the right: the same places on every screen, big targets, nothing hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.screens.base import Screen
from ui.theme import PALETTE
from ui.widgets.busy import _Spinner
from ui.widgets.button import KioskButton


class StepScreen(Screen):
    """Title, body, content, then [Cancel] … [primary]. Subclasses fill ``self.content``."""

    cancel_action = "cancel"
    primary_key = ""  # catalogue key of the main button; empty: no main button

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(64, 40, 64, 36)
        outer.setSpacing(20)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title.setWordWrap(True)
        outer.addWidget(self._title)
        self._body = QLabel(self)
        self._body.setProperty("role", "subtitle")
        self._body.setWordWrap(True)
        outer.addWidget(self._body)
        self.content = QVBoxLayout()
        self.content.setSpacing(16)
        outer.addLayout(self.content, 1)
        self._error = QLabel(self)
        self._error.setObjectName("step-error")
        self._error.setWordWrap(True)
        self._error.setStyleSheet(f"color: {PALETTE.error_text}; font-weight: 700;")
        self._error.hide()
        outer.addWidget(self._error)
        row = QHBoxLayout()
        row.setSpacing(24)
        self.cancel_button = KioskButton(variant="secondary", parent=self)
        self.cancel_button.setObjectName("step-cancel")
        self.cancel_button.setMaximumWidth(360)
        self.cancel_button.clicked.connect(lambda: self.emit_action(self.cancel_action))
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        self.primary_button = KioskButton(variant="primary", parent=self)
        self.primary_button.setObjectName("step-primary")
        self.primary_button.setMaximumWidth(520)
        self.primary_button.clicked.connect(self.on_primary)
        row.addWidget(self.primary_button)
        outer.addLayout(row)

    # -- for subclasses -------------------------------------------------------------------------
    def title_text(self) -> str:
        return tr(self.title_key, self.lang) if self.title_key else ""

    def body_text(self) -> str:
        return ""

    def on_primary(self) -> None:
        self.emit_action("confirm")

    def render_content(self) -> None:
        """Fill the content from ``self.context`` in ``self.lang`` (not ``render``: that is QWidget's)."""

    def show_cancel(self) -> bool:
        return True

    # -- Screen -----------------------------------------------------------------------------------
    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self._refresh()

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self._refresh()

    def set_error(self, key: str, **params: Any) -> None:
        self._error.setText(tr(key, self.lang, **params) if key else "")
        self._error.setVisible(bool(key))

    def error_text(self) -> str:
        return self._error.text() if self._error.isVisible() or self._error.text() else ""

    def _refresh(self) -> None:
        self._title.setText(self.title_text())
        body = self.body_text()
        self._body.setText(body)
        self._body.setVisible(bool(body))
        self.cancel_button.set_texts(tr("common.cancel", self.lang))
        self.cancel_button.setVisible(self.show_cancel())
        self.primary_button.set_texts(tr(self.primary_key, self.lang) if self.primary_key else "")
        self.primary_button.setVisible(bool(self.primary_key))
        self.set_error(str(self.context.get("error", "") or ""), **dict(self.context))
        self.render_content()


class OpeningWorkingScreen(StepScreen):
    """A step where the kiosk works (the bank, the dispenser): a spinner and what is happening."""

    name = "opening_working"
    title_key = "opening.working.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.spinner = _Spinner(self)
        self.spinner.setFixedSize(120, 120)
        self.content.addStretch(1)
        self.content.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self.content.addStretch(1)

    def body_text(self) -> str:
        return tr(str(self.context.get("body_key", "common.please_wait")), self.lang)

    def show_cancel(self) -> bool:
        return False
