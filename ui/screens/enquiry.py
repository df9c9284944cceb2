"""Enquiry screens: balance, mini-statement, history range, history page."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from kiosk.journeys.statement_text import describe_line
from ui.screens.step import StepScreen, clear_layout, detail_grid, money_text
from ui.widgets.button import KioskButton
from ui.widgets.keypad import NumericKeypad


class _PrintableScreen(StepScreen):
    """Print (only when the printer is ready) and Done."""

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.content = QGridLayout()
        self.body.addLayout(self.content)
        self.body.addStretch(1)
        self._printer_note = self.value_label("muted")
        self.body.addWidget(self._printer_note)

    def add_print_and_done(self) -> None:
        self.add_button("print", "enquiry.print", "secondary")
        self.add_button("done", "common.done", "primary")

    def render_printer(self) -> None:
        ready = bool(self.data("printer_ok", True))
        self.buttons["print"].setEnabled(ready)
        self._printer_note.setText("" if ready else self.t("receipt.unavailable.short"))

    def render_lines(self, lines: list[dict[str, Any]]) -> None:
        clear_layout(self.content)
        currency = str(self.data("currency", "CNY"))
        if not lines:
            empty = QLabel(self.t("enquiry.no_lines"), self)
            empty.setProperty("role", "subtitle")
            self.content.addWidget(empty, 0, 0)
            return
        headers = ("enquiry.col.date", "enquiry.col.description", "enquiry.col.amount", "enquiry.col.balance")
        for col, key in enumerate(headers):
            head = QLabel(self.t(key), self)
            head.setProperty("role", "muted")
            self.content.addWidget(head, 0, col)
        for row, line in enumerate(lines, start=1):
            cells = (
                str(line["date"]),
                describe_line(str(line["description"]), self.lang),
                money_text(int(line["amount_minor"]), currency, self.lang),
                money_text(int(line["balance_minor"]), currency, self.lang),
            )
            for col, text in enumerate(cells):
                label = QLabel(text, self)
                if col >= 2:
                    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.content.addWidget(label, row, col)
        self.content.setColumnStretch(1, 1)


class BalanceScreen(_PrintableScreen):
    name = "balance"
    title_key = "balance.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.add_print_and_done()

    def refresh_view(self) -> None:
        currency = str(self.data("currency", "CNY"))
        self.set_header(self.t("balance.title"), self.t("services.account", account=self.data("account", "")))
        rows = [
            (
                self.t("balance.available"),
                money_text(int(self.data("available_minor", 0)), currency, self.lang),
            ),
            (self.t("balance.ledger"), money_text(int(self.data("ledger_minor", 0)), currency, self.lang)),
        ]
        if int(self.data("pending_minor", 0)):
            rows.append(
                (self.t("balance.pending"), money_text(int(self.data("pending_minor")), currency, self.lang))
            )
        if int(self.data("overdraft_minor", 0)):
            rows.append(
                (
                    self.t("balance.overdraft"),
                    money_text(int(self.data("overdraft_minor")), currency, self.lang),
                )
            )
        clear_layout(self.content)
        self.content.addLayout(detail_grid(rows, self), 0, 0)
        self.render_printer()


class StatementScreen(_PrintableScreen):
    name = "statement"
    title_key = "statement.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.add_print_and_done()

    def refresh_view(self) -> None:
        self.set_header(
            self.t("statement.title"), self.t("services.account", account=self.data("account", ""))
        )
        self.render_lines(list(self.data("lines", [])))
        self.render_printer()


class HistoryRangeScreen(StepScreen):
    """Last 7 / 30 / 90 days, or two dates typed on the keypad (YYYYMMDD)."""

    name = "history_range"
    title_key = "history.range.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        presets = QHBoxLayout()
        presets.setSpacing(20)
        self.preset_buttons: dict[int, KioskButton] = {}
        for days in (7, 30, 90):
            button = KioskButton(variant="primary", parent=self)
            button.setObjectName(f"history-days-{days}")
            button.clicked.connect(lambda _=False, d=days: self.emit_action("range", {"days": d}))
            self.preset_buttons[days] = button
            presets.addWidget(button)
        self.body.addLayout(presets)
        row = QHBoxLayout()
        row.setSpacing(20)
        fields = QGridLayout()
        self._from_label, self._to_label = self.value_label("subtitle"), self.value_label("subtitle")
        self.start_field, self.end_field = QLineEdit(self), QLineEdit(self)
        for index, (label, edit) in enumerate(
            ((self._from_label, self.start_field), (self._to_label, self.end_field))
        ):
            edit.setMaxLength(8)
            edit.setMinimumHeight(64)
            fields.addWidget(label, index, 0)
            fields.addWidget(edit, index, 1)
        self.keypad = NumericKeypad("digits", lang, max_length=8, parent=self)
        self._editing = self.start_field
        self.keypad.set_target(self.start_field)
        self.keypad.submitted.connect(self._field_done)
        for edit in (self.start_field, self.end_field):
            edit.installEventFilter(self)
        self._search = KioskButton(variant="primary", parent=self)
        self._search.setObjectName("history-search")
        self._search.clicked.connect(self.search)
        left = QGridLayout()
        left.addLayout(fields, 0, 0)
        left.addWidget(self._search, 1, 0)
        row.addLayout(left, 1)
        row.addWidget(self.keypad, 1)
        self.body.addLayout(row, 1)
        self.add_button("cancel", "common.cancel")

    def eventFilter(self, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.FocusIn and watched in (self.start_field, self.end_field):
            self._editing = watched
            self.keypad.set_target(watched)
        return False

    def _field_done(self, _text: str) -> None:
        """Confirm on the keypad: from the start date go to the end date; from the end date search."""
        if self._editing is self.start_field:
            self._edit(self.end_field)
        else:
            self.search()

    def _edit(self, field: QLineEdit) -> None:
        self._editing = field
        self.keypad.set_target(field)
        field.setFocus()

    def search(self) -> None:
        self.emit_action("range", {"start": self.start_field.text(), "end": self.end_field.text()})

    def on_enter(self, context: Any) -> None:
        super().on_enter(context)
        if not context.get("error"):
            self.start_field.clear()
            self.end_field.clear()
        self._edit(self.start_field)

    def refresh_view(self) -> None:
        self.set_header(self.t("history.range.title"), self.t("history.range.body"))
        for days, button in self.preset_buttons.items():
            button.set_texts(self.t("history.range.days", days=days))
        self._from_label.setText(self.t("history.range.from"))
        self._to_label.setText(self.t("history.range.to"))
        for edit in (self.start_field, self.end_field):
            edit.setPlaceholderText(self.t("history.range.placeholder"))
        self._search.set_texts(self.t("history.range.search"))
        self.keypad.retranslate(self.lang)


class HistoryScreen(_PrintableScreen):
    name = "history"
    title_key = "history.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._page = self.value_label("muted")
        self.body.addWidget(self._page)
        self.add_button("previous", "history.previous")
        self.add_button("next", "history.next")
        self.add_button("change_range", "history.change_range")
        self.add_print_and_done()

    def refresh_view(self) -> None:
        self.set_header(
            self.t("history.title"),
            self.t(
                "history.range_text",
                start=self.data("start", ""),
                end=self.data("end", ""),
                account=self.data("account", ""),
            ),
        )
        self.render_lines(list(self.data("lines", [])))
        self._page.setText(self.t("history.page", page=self.data("page", 1)))
        self.buttons["previous"].setEnabled(bool(self.data("has_previous", False)))
        self.buttons["next"].setEnabled(bool(self.data("has_next", False)))
        self.render_printer()
