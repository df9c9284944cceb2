"""A generic result or error screen: a big icon, a title, a body and one action button.

The context says what to show, by catalogue key so it re-renders in the other language:
``{"kind": "error", "title_key": ..., "body_key": ..., "params": {...}, "button_key": "common.ok",
"next": "menu"}``. With ``countdown_s`` a banner counts down (``countdown_key``/``warning_key``, warning
style for the last ``warning_s``) and the screen emits ``timeout`` when it ends: the take-your-card
screen is this screen with a countdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.screens.base import Screen
from ui.widgets.button import KioskButton
from ui.widgets.countdown import CountdownBanner
from ui.widgets.message_panel import Kind, MessagePanel

DEFAULT_TITLES: dict[str, str] = {
    "success": "message.success.title",
    "error": "message.error.title",
    "info": "message.info.title",
    "warning": "message.warning.title",
}


class MessageScreen(Screen):
    name = "message"
    title_key = "message.info.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 56, 96, 48)
        layout.setSpacing(28)
        self._panel = MessagePanel("info", self)
        layout.addWidget(self._panel, 1)
        self.countdown = CountdownBanner(lang, self)
        self.countdown.expired.connect(lambda: self.emit_action("timeout", self.context.get("next")))
        layout.addWidget(self.countdown)
        self._button = KioskButton(variant="primary", parent=self)
        self._button.setMaximumWidth(560)
        self._button.clicked.connect(lambda: self.emit_action("done", self.context.get("next")))
        layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignHCenter)

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self._render()
        seconds = context.get("countdown_s")
        if seconds:
            self.countdown.start(
                float(seconds),
                warning_s=float(context.get("warning_s", 0)),
                message_key=str(context.get("countdown_key", "common.seconds")),
                warning_key=context.get("warning_key"),
            )
        else:
            self.countdown.stop()

    def on_leave(self) -> None:
        self.countdown.stop()

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.countdown.retranslate(lang)
        self._render()

    def panel(self) -> MessagePanel:
        return self._panel

    def button_text(self) -> str:
        return self._button.title()

    def _render(self) -> None:
        ctx = self.context
        kind: Kind = ctx.get("kind", "info")
        params: Mapping[str, Any] = ctx.get("params", {})
        title = tr(str(ctx.get("title_key", DEFAULT_TITLES[kind])), self.lang, **params)
        body_key = ctx.get("body_key")
        body = tr(str(body_key), self.lang, **params) if body_key else ""
        self._panel.set_message(kind, title, body)
        button_key = ctx.get("button_key", "common.ok")
        self._button.set_texts(tr(str(button_key), self.lang) if button_key else "")
        self._button.setVisible(bool(button_key))
