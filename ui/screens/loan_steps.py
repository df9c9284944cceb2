"""Loan pre-qualification screens: the application form, the summary with consent, the decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ui.screens.step import StepScreen, clear_layout, detail_grid, money_text
from ui.theme import PALETTE
from ui.widgets.keypad import NumericKeypad
from ui.widgets.message_panel import Kind, MessagePanel

FIELDS = ("amount", "income", "debt")


def choice_button(text: str, name: str, parent: QWidget) -> QPushButton:
    """A compact checkable choice (term, purpose): amber when chosen, >= 52 px tall."""
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setProperty("variant", "key")
    button.setCheckable(True)
    button.setMinimumHeight(52)
    button.setStyleSheet(
        "QPushButton { font-size: 20px; padding: 0 4px; }"
        f" QPushButton:checked {{ background: {PALETTE.accent}; color: {PALETTE.on_accent};"
        f" border-color: {PALETTE.accent}; }}"
    )
    return button


class LoanFormScreen(StepScreen):
    """Three amounts on the keypad (the touched field is the keypad's target), term and purpose buttons."""

    name = "loan_form"
    title_key = "loan.form.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(28)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(12)
        self.labels: dict[str, QLabel] = {}
        self.fields: dict[str, QLineEdit] = {}
        for index, name in enumerate(FIELDS):
            label = self.value_label("subtitle")
            edit = QLineEdit(self)
            edit.setObjectName(f"loan-{name}")
            edit.setReadOnly(True)
            edit.setMinimumHeight(56)
            edit.installEventFilter(self)
            label.setMaximumWidth(300)
            self.labels[name], self.fields[name] = label, edit
            grid.addWidget(label, index, 0)
            grid.addWidget(edit, index, 1)
        self._term_label = self.value_label("subtitle")
        self._terms = QGridLayout()
        self._terms.setSpacing(8)
        grid.addWidget(self._term_label, 3, 0)
        grid.addLayout(self._terms, 3, 1)
        self._purpose_label = self.value_label("subtitle")
        self._purposes = QGridLayout()
        self._purposes.setSpacing(8)
        grid.addWidget(self._purpose_label, 4, 0)
        grid.addLayout(self._purposes, 4, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(5, 1)
        self.keypad = NumericKeypad("amount", lang, max_length=10, parent=self)
        self.keypad.submitted.connect(lambda _text: self._next_field())
        row.addLayout(grid, 2)
        row.addWidget(self.keypad, 1)
        self.body.addLayout(row, 1)
        self.term_buttons: dict[int, QPushButton] = {}
        self.purpose_buttons: dict[str, QPushButton] = {}
        self.term = 0
        self.purpose = ""
        self.add_button("cancel", "common.cancel")
        self.add_button("apply", "loan.form.check", "primary")
        self.buttons["apply"].clicked.disconnect()
        self.buttons["apply"].clicked.connect(self.submit)
        self.target = "amount"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(watched, QLineEdit):
            self.focus_field(next(n for n, f in self.fields.items() if f is watched))
        return False

    def focus_field(self, name: str) -> None:
        self.target = name
        self.keypad.set_target(self.fields[name])
        for field_name, edit in self.fields.items():
            edit.setStyleSheet(
                "font-size: 26px; font-weight: 700;"
                + (f" border: 4px solid {PALETTE.accent};" if field_name == name else "")
            )

    def _next_field(self) -> None:
        index = FIELDS.index(self.target)
        if index + 1 < len(FIELDS):
            self.focus_field(FIELDS[index + 1])

    def choose_term(self, months: int) -> None:
        self.term = months
        for value, button in self.term_buttons.items():
            button.setChecked(value == months)

    def choose_purpose(self, purpose: str) -> None:
        self.purpose = purpose
        for value, button in self.purpose_buttons.items():
            button.setChecked(value == purpose)

    def submit(self) -> None:
        payload = {name: self.fields[name].text() for name in FIELDS}
        self.emit_action("apply", {**payload, "term": self.term, "purpose": self.purpose})

    def on_enter(self, context: Mapping[str, Any]) -> None:
        for name in FIELDS:
            self.fields[name].setText(str(context.get(name, "")))
        self.term = int(context.get("term", 0) or 0)
        self.purpose = str(context.get("purpose", ""))
        super().on_enter(context)
        self.focus_field("amount")

    def refresh_view(self) -> None:
        currency = str(self.data("currency", "CNY"))
        limits = self.t(
            "loan.form.limits",
            min=money_text(int(self.data("min_minor", 0)), currency, self.lang),
            max=money_text(int(self.data("max_minor", 0)), currency, self.lang),
        )
        self.set_header(self.t("loan.form.title"), self.t("loan.form.body"))
        self.fields["amount"].setPlaceholderText(limits)
        for name in FIELDS:
            self.labels[name].setText(self.t(f"loan.form.{name}"))
        self._term_label.setText(self.t("loan.form.term"))
        self._purpose_label.setText(self.t("loan.form.purpose"))
        clear_layout(self._terms)
        self.term_buttons = {}
        for index, months in enumerate(self.data("terms", [])):
            button = choice_button(self.t("loan.form.term_short", months=months), f"loan-term-{months}", self)
            button.clicked.connect(lambda _=False, m=int(months): self.choose_term(m))
            self.term_buttons[int(months)] = button
            self._terms.addWidget(button, index // 3, index % 3)
        clear_layout(self._purposes)
        self.purpose_buttons = {}
        for index, purpose in enumerate(self.data("purposes", [])):
            button = choice_button(self.t(f"loan.purpose.{purpose}"), f"loan-purpose-{purpose}", self)
            button.clicked.connect(lambda _=False, p=str(purpose): self.choose_purpose(p))
            self.purpose_buttons[str(purpose)] = button
            self._purposes.addWidget(button, index // 4, index % 4)
        self.choose_term(self.term)
        self.choose_purpose(self.purpose)
        self.keypad.retranslate(self.lang)


class LoanConfirmScreen(StepScreen):
    name = "loan_confirm"
    title_key = "loan.confirm.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._details = QGridLayout()
        self.body.addLayout(self._details)
        self._consent = self.value_label("subtitle")
        self.body.addWidget(self._consent)
        self.body.addStretch(1)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")
        self.add_button("confirm", "loan.confirm.check", "primary")

    def rows(self) -> list[tuple[str, str]]:
        currency = str(self.data("currency", "CNY"))

        def money(key: str) -> str:
            return money_text(int(self.data(key, 0)), currency, self.lang)

        rate = int(self.data("rate_bp", 0))
        return [
            (self.t("loan.confirm.amount"), money("amount_minor")),
            (
                self.t("loan.confirm.term"),
                self.t("loan.form.term_months", months=self.data("term_months", 0)),
            ),
            (self.t("loan.confirm.purpose"), self.t(f"loan.purpose.{self.data('purpose', 'other')}")),
            (self.t("loan.confirm.income"), money("income_minor")),
            (self.t("loan.confirm.debt"), money("debt_minor")),
            (
                self.t("loan.confirm.rate"),
                self.t("loan.confirm.rate_value", rate=f"{rate // 100}.{rate % 100:02d}"),
            ),
            (self.t("loan.confirm.instalment"), money("instalment_minor")),
        ]

    def refresh_view(self) -> None:
        self.set_header(self.t("loan.confirm.title"))
        clear_layout(self._details)
        self._details.addLayout(detail_grid(self.rows(), self), 0, 0)
        self._consent.setText(self.t("loan.confirm.consent"))


class LoanResultScreen(StepScreen):
    name = "loan_result"
    title_key = "loan.result.approve.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.panel = MessagePanel("info", self)
        self.body.addWidget(self.panel, 1)
        self._reasons = self.value_label("subtitle")
        self._reasons.setObjectName("loan-reasons")
        self.body.addWidget(self._reasons)
        self.add_button("done", "common.done", "primary")

    def outcome(self) -> str:
        return str(self.data("outcome", ""))

    def reason_lines(self) -> list[str]:
        return [self.t(str(key)) for key in self.data("reasons", [])]

    def refresh_view(self) -> None:
        self._title.hide()
        self._subtitle.hide()
        outcome = self.outcome() or "decline"
        currency = str(self.data("currency", "CNY"))
        kinds: dict[str, Kind] = {"approve": "success", "refer": "info"}
        kind = kinds.get(outcome, "warning")
        body = self.t(
            f"loan.result.{outcome}.body",
            amount=money_text(int(self.data("amount_minor", 0)), currency, self.lang),
            months=self.data("term_months", 0),
            instalment=money_text(int(self.data("instalment_minor", 0)), currency, self.lang),
            reference=self.data("reference", ""),
        )
        self.panel.set_message(kind, self.t(f"loan.result.{outcome}.title"), body)
        lines = self.reason_lines() if outcome != "approve" else []
        self._reasons.setText("\n".join(f"• {line}" for line in lines))


LOAN_SCREENS = (LoanFormScreen, LoanConfirmScreen, LoanResultScreen)
