"""Help: type a question (on-screen keyboard, pinyin with banking words) or pick a topic; call staff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QWidget

from kiosk.help.pinyin_terms import HELP_PHRASES
from kiosk.journeys.help import MAX_QUESTION_CHARS
from ui.screens.step import StepScreen
from ui.widgets.button import KioskButton
from ui.widgets.keyboard import OnScreenKeyboard
from ui.widgets.pinyin import Candidate


class HelpKeyboard(OnScreenKeyboard):
    """The shared keyboard with banking phrases first in the pinyin bar (``mima`` → 密码)."""

    def _all_candidates(self) -> list[Candidate]:
        typed = self.composition().lower()
        own = [Candidate(word, len(typed)) for word in HELP_PHRASES.get(typed, ())]
        rest = [c for c in super()._all_candidates() if c.text not in {o.text for o in own}]
        return own + rest


class HelpAskScreen(StepScreen):
    name = "help_ask"
    title_key = "help.ask.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(48, 24, 48, 16)
            layout.setSpacing(10)
        row = QHBoxLayout()
        row.setSpacing(16)
        self.field = QLineEdit(self)
        self.field.setMaxLength(MAX_QUESTION_CHARS)
        self.field.setMinimumHeight(64)
        self.field.setObjectName("help-question")
        self.field.returnPressed.connect(self.ask)
        self._ask = KioskButton(variant="primary", parent=self)
        self._ask.setObjectName("help-ask")
        self._ask.setMaximumWidth(220)
        self._ask.clicked.connect(self.ask)
        row.addWidget(self.field, 1)
        row.addWidget(self._ask)
        self.body.addLayout(row)
        self.topics = QGridLayout()
        self.topics.setSpacing(10)
        self.topic_buttons: dict[str, KioskButton] = {}
        self.body.addLayout(self.topics)
        self.keyboard = HelpKeyboard(lang, allow_chinese=True, parent=self)
        self.keyboard.set_target(self.field)
        self.body.addWidget(self.keyboard)
        self.add_button("done", "common.done")
        self.add_button("call_staff", "help.call_staff", "danger")

    def ask(self) -> None:
        self.emit_action("ask", {"text": self.field.text()})

    def on_enter(self, context: Mapping[str, Any]) -> None:
        if not context.get("error"):
            self.field.clear()
        super().on_enter(context)
        self.keyboard.set_chinese(self.lang == "zh_CN")
        self.field.setFocus()

    def refresh_view(self) -> None:
        self.set_header(self.t("help.ask.title"))
        self.field.setPlaceholderText(self.t("help.ask.placeholder"))
        self._ask.set_texts(self.t("help.ask.button"))
        topics = [str(t) for t in self.data("topics", [])]
        if list(self.topic_buttons) != topics:
            for button in self.topic_buttons.values():
                button.hide()
                button.setParent(None)
                button.deleteLater()
            self.topic_buttons = {}
            for n, topic in enumerate(topics):
                button = KioskButton(variant="secondary", parent=self)
                button.setMinimumHeight(60)
                button.setMaximumHeight(60)
                button.setObjectName(f"help-topic-{topic}")
                button.clicked.connect(lambda _=False, t=topic: self.emit_action("topic", {"topic": t}))
                self.topics.addWidget(button, n // 4, n % 4)
                self.topic_buttons[topic] = button
        for topic, button in self.topic_buttons.items():
            button.set_texts(self.t(f"help.topic.{topic}"))
        self.keyboard.retranslate(self.lang)
        render_staff_button(self, bool(self.data("staff_called", False)))


def render_staff_button(screen: StepScreen, called: bool) -> None:
    """Once staff are called the button says so and cannot page them twice."""
    button = screen.buttons.get("call_staff")
    if button is None:
        return
    button.set_texts(screen.t("help.staff.called" if called else "help.call_staff"))
    button.setEnabled(not called)
