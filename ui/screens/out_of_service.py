"""Shown when the terminal cannot serve anyone (database down, essential devices offline).

It never times out and offers the customer nothing to press; a technician still reaches maintenance
with the hidden corner gesture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import LANGUAGES, tr
from ui.screens.base import MaintenanceGesture, Screen
from ui.widgets.message_panel import MessagePanel

HOST_UNREACHABLE = "host_unreachable"
DEVICES_DOWN = "devices_down"  # every banking service needs a device that is down


class OutOfServiceScreen(Screen):
    name = "out_of_service"
    title_key = "out_of_service.title"
    idle_exempt = True

    maintenanceRequested = Signal()

    def __init__(self, kiosk_id: str, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.kiosk_id = kiosk_id
        self.reason = ""  # for technicians and logs; customers see the apology only
        self.body_key = "out_of_service.body"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 64, 96, 48)
        layout.setSpacing(24)
        self._panel = MessagePanel("warning", self)
        layout.addWidget(self._panel, 1)
        self._other = QLabel(self)
        self._other.setProperty("role", "subtitle")
        self._other.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._other)
        self._terminal = QLabel(self)
        self._terminal.setProperty("role", "muted")
        self._terminal.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self._terminal)
        self.gesture = MaintenanceGesture(self)
        self.gesture.triggered.connect(self.maintenanceRequested)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        other = next(code for code in LANGUAGES if code != lang)
        self._panel.set_message("warning", tr("out_of_service.title", lang), tr(self.body_key, lang))
        self._other.setText(tr("out_of_service.title", other))
        # Deliberately in the other language (the customer has not chosen yet): tests and speech read
        # the text's language from this property.
        self._other.setProperty("lang", other)
        self._terminal.setText(tr("out_of_service.terminal", lang, kiosk_id=self.kiosk_id))

    def on_enter(self, context: Mapping[str, Any]) -> None:
        self.reason = str(context.get("reason", ""))
        # The host unreachable gets its own plain words: nothing changed, and it comes back by itself.
        self.body_key = (
            "out_of_service.host.body" if self.reason == HOST_UNREACHABLE else "out_of_service.body"
        )
        super().on_enter(context)
        self.retranslate(self.lang)

    def panel(self) -> MessagePanel:
        return self._panel
