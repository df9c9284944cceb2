"""Help: an answer with related questions, "did you mean" or a polite decline, a topic's questions, staff."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.help.faq import ENTRIES
from ui.screens.help_ask import render_staff_button
from ui.screens.step import StepScreen, clear_layout
from ui.widgets.button import KioskButton


class _QuestionList(StepScreen):
    """A list of FAQ questions as buttons (``entry`` action with the id)."""

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.list_title = self.value_label("muted")
        self.questions = QGridLayout()
        self.questions.setSpacing(12)
        self.question_buttons: dict[str, KioskButton] = {}

    def add_list(self) -> None:
        self.body.addWidget(self.list_title)
        self.body.addLayout(self.questions)

    def render_questions(self, ids: list[str], columns: int = 1) -> None:
        clear_layout(self.questions)
        self.question_buttons = {}
        for n, entry_id in enumerate(i for i in ids if i in ENTRIES):
            entry = ENTRIES[entry_id]
            button = KioskButton(
                entry.question.get(self.lang, entry.question["en"]), variant="secondary", parent=self
            )
            button.setMinimumHeight(72)
            button.setObjectName(f"help-entry-{entry_id}")
            button.clicked.connect(lambda _=False, i=entry_id: self.emit_action("entry", {"id": i}))
            self.questions.addWidget(button, n // columns, n % columns)
            self.question_buttons[entry_id] = button
        self.list_title.setVisible(bool(self.question_buttons))


class HelpAnswerScreen(_QuestionList):
    name = "help_answer"
    title_key = "help.ask.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        frame = QFrame(self)
        frame.setProperty("role", "panel")
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(24, 20, 24, 20)
        self.answer = QLabel(frame)
        self.answer.setWordWrap(True)
        self.answer.setObjectName("help-answer")
        self.answer.setStyleSheet("font-size: 30px;")
        inner.addWidget(self.answer)
        self.body.addWidget(frame)
        self.add_list()
        self.body.addStretch(1)
        self.add_button("ask_again", "help.ask_again")
        self.add_button("call_staff", "help.call_staff", "danger")
        self.add_button("done", "common.done", "primary")

    def refresh_view(self) -> None:
        entry = ENTRIES.get(str(self.data("entry", "")))
        if entry is None:
            return
        self.set_header(entry.question.get(self.lang, entry.question["en"]))
        self.answer.setText(entry.answer.get(self.lang, entry.answer["en"]))
        self.list_title.setText(self.t("help.answer.related"))
        self.render_questions([str(i) for i in self.data("related", [])], columns=2)
        render_staff_button(self, bool(self.data("staff_called", False)))

    def answer_text(self) -> str:
        return self.answer.text()


class HelpNotSureScreen(_QuestionList):
    name = "help_not_sure"
    title_key = "help.not_sure.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.add_list()
        self.body.addStretch(1)
        self.add_button("ask_again", "help.ask_again")
        self.add_button("call_staff", "help.call_staff", "danger")
        self.add_button("done", "common.done")

    def refresh_view(self) -> None:
        suggestions = [str(i) for i in self.data("suggestions", [])]
        if self.data("declined", False) or not suggestions:
            self.set_header(self.t("help.not_sure.title"), self.t("help.not_sure.body"))
            suggestions = []
        else:
            self.set_header(self.t("help.did_you_mean.title"), self.t("help.did_you_mean.body"))
        self.list_title.setText("")
        self.render_questions(suggestions)
        render_staff_button(self, bool(self.data("staff_called", False)))


class HelpTopicScreen(_QuestionList):
    name = "help_topic"
    title_key = "help.topics"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.add_list()
        self.body.addStretch(1)
        self.add_button("back", "common.back")
        self.add_button("call_staff", "help.call_staff", "danger")

    def refresh_view(self) -> None:
        topic = str(self.data("topic", ""))
        if not topic:
            return
        self.set_header(self.t("help.topic.title", topic=self.t(f"help.topic.{topic}")))
        self.list_title.setText("")
        self.render_questions([str(i) for i in self.data("entries", [])], columns=2)
        render_staff_button(self, bool(self.data("staff_called", False)))


class HelpStaffScreen(StepScreen):
    name = "help_staff"
    title_key = "help.staff.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.body.addStretch(1)
        self.add_button("ask_again", "help.ask_again")
        self.add_button("done", "common.done", "primary")

    def refresh_view(self) -> None:
        if self.data("error"):
            self.set_header(self.t("help.staff.failed"))
        else:
            self.set_header(self.t("help.staff.title"), self.t("help.staff.body"))
