"""Bill-payment screens: biller, customer number, bill, top-up amount, confirmation, result, schedules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from ui.screens.step import StepScreen, clear_layout, detail_grid, money_text
from ui.widgets.button import KioskButton
from ui.widgets.keypad import NumericKeypad
from ui.widgets.message_panel import MessagePanel


def biller_name(screen: StepScreen, code: str) -> str:
    return screen.t(f"billing.biller.{code}") if code else ""


class BillerScreen(StepScreen):
    name = "billing_biller"
    title_key = "billing.biller.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._grid = QGridLayout()
        self._grid.setSpacing(20)
        self.body.addLayout(self._grid, 1)
        self.biller_buttons: dict[str, KioskButton] = {}
        self.scheduled_button = KioskButton(variant="secondary", parent=self)
        self.scheduled_button.setObjectName("billing-scheduled")
        self.scheduled_button.hide()  # placed with the billers on the first view
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(self.t("billing.biller.title"), self.t("billing.biller.body"))
        billers = list(self.data("billers", []))
        if [b["code"] for b in billers] != list(self.biller_buttons):
            clear_layout(self._grid)
            self.scheduled_button.deleteLater()
            self.biller_buttons = {}
            for index, biller in enumerate(billers):
                code = str(biller["code"])
                button = KioskButton(variant="primary", parent=self)
                button.setObjectName(f"billing-biller-{code}")
                button.setMinimumHeight(120)
                button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
                button.clicked.connect(lambda _=False, c=code: self.emit_action("biller", {"value": c}))
                self.biller_buttons[code] = button
                self._grid.addWidget(button, index // 2, index % 2)
            self.scheduled_button = KioskButton(variant="secondary", parent=self)
            self.scheduled_button.setObjectName("billing-scheduled")
            self.scheduled_button.clicked.connect(lambda _=False: self.emit_action("scheduled"))
            self._grid.addWidget(self.scheduled_button, (len(billers) + 1) // 2, 0, 1, 2)
        for biller in billers:
            code = str(biller["code"])
            self.biller_buttons[code].set_texts(
                biller_name(self, code), self.t(f"billing.biller.hint.{biller['kind']}")
            )
        self.scheduled_button.set_texts(self.t("billing.scheduled"), self.t("billing.scheduled.hint"))


class BillAccountScreen(StepScreen):
    """The customer number at the biller (or the mobile number) on the on-screen keypad."""

    name = "billing_account"
    title_key = "billing.account.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(32)
        left = QGridLayout()
        self._label = self.value_label("subtitle")
        self.number_field = QLineEdit(self)
        self.number_field.setObjectName("billing-number")
        self.number_field.setReadOnly(True)
        self.number_field.setMinimumHeight(80)
        self.number_field.setStyleSheet("font-size: 40px; font-weight: 700; letter-spacing: 4px;")
        left.addWidget(self._label, 0, 0)
        left.addWidget(self.number_field, 1, 0)
        left.setRowStretch(2, 1)
        self.keypad = NumericKeypad("digits", lang, max_length=11, parent=self)
        self.keypad.set_target(self.number_field)
        self.keypad.submitted.connect(lambda text: self.emit_action("number", {"value": text}))
        row.addLayout(left, 1)
        row.addWidget(self.keypad, 1)
        self.body.addLayout(row, 1)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")

    def on_enter(self, context: Mapping[str, Any]) -> None:
        self.keypad.clear()
        self.number_field.setText(str(context.get("number", "")))
        self.number_field.setMaxLength(int(context.get("digits", 11)))
        super().on_enter(context)

    def refresh_view(self) -> None:
        biller = str(self.data("biller", ""))
        digits = int(self.data("digits", 10))
        body = "billing.account.body_phone" if self.data("kind") == "topup" else "billing.account.body"
        self.set_header(self.t("billing.account.title"), biller_name(self, biller))
        self._label.setText(self.t(body, digits=digits, biller=biller_name(self, biller)))
        self.keypad.retranslate(self.lang)


class BillScreen(StepScreen):
    name = "billing_bill"
    title_key = "billing.bill.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._details = QGridLayout()
        self.body.addLayout(self._details)
        self._note = self.value_label("subtitle")
        self.body.addWidget(self._note)
        self.body.addStretch(1)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")
        self.add_button("pay", "billing.bill.pay", "primary")

    def rows(self) -> list[tuple[str, str]]:
        currency = str(self.data("currency", "CNY"))
        rows = [
            (self.t("billing.detail.biller"), biller_name(self, str(self.data("biller", "")))),
            (self.t("billing.detail.number"), str(self.data("account_masked", ""))),
            (self.t("billing.detail.period"), str(self.data("period", ""))),
            (
                self.t("billing.detail.billed"),
                money_text(int(self.data("billed_minor", 0)), currency, self.lang),
            ),
        ]
        if int(self.data("paid_minor", 0)):
            rows.append(
                (
                    self.t("billing.detail.paid"),
                    money_text(int(self.data("paid_minor", 0)), currency, self.lang),
                )
            )
        rows.append(
            (self.t("billing.detail.due"), money_text(int(self.data("due_minor", 0)), currency, self.lang))
        )
        rows.append((self.t("billing.detail.due_date"), str(self.data("due_date", ""))))
        return rows

    def refresh_view(self) -> None:
        self.set_header(self.t("billing.bill.title"))
        clear_layout(self._details)
        self._details.addLayout(detail_grid(self.rows(), self), 0, 0)
        due = int(self.data("due_minor", 0))
        self.buttons["pay"].setEnabled(due > 0)
        self._note.setText("" if due > 0 else self.t("billing.bill.nothing_due"))


class TopupScreen(StepScreen):
    name = "billing_topup"
    title_key = "billing.topup.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._grid = QGridLayout()
        self._grid.setSpacing(20)
        self.body.addLayout(self._grid, 1)
        self.amount_buttons: dict[int, KioskButton] = {}
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(
            self.t("billing.topup.title"),
            self.t("billing.topup.body", number=self.data("account_masked", "")),
        )
        clear_layout(self._grid)
        self.amount_buttons = {}
        currency = str(self.data("currency", "CNY"))
        for index, amount in enumerate(self.data("amounts", [])):
            button = KioskButton(money_text(int(amount), currency, self.lang), variant="primary", parent=self)
            button.setObjectName(f"billing-topup-{amount}")
            button.setMinimumHeight(110)
            button.clicked.connect(lambda _=False, a=int(amount): self.emit_action("amount", {"value": a}))
            self.amount_buttons[int(amount)] = button
            self._grid.addWidget(button, index // 2, index % 2)


class BillConfirmScreen(StepScreen):
    name = "billing_confirm"
    title_key = "billing.confirm.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._details = QGridLayout()
        self.body.addLayout(self._details)
        self.body.addStretch(1)
        self._pin_note = self.value_label("subtitle")
        self.body.addWidget(self._pin_note)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")
        self.add_button("confirm", "billing.confirm.pay", "primary")

    def rows(self) -> list[tuple[str, str]]:
        currency = str(self.data("currency", "CNY"))
        rows = [
            (self.t("billing.detail.biller"), biller_name(self, str(self.data("biller", "")))),
            (self.t("billing.detail.number"), str(self.data("account_masked", ""))),
        ]
        if self.data("period"):
            rows.append((self.t("billing.detail.period"), str(self.data("period"))))
        rows.append((self.t("billing.detail.from"), str(self.data("from_account", ""))))
        rows.append(
            (
                self.t("billing.detail.amount"),
                money_text(int(self.data("amount_minor", 0)), currency, self.lang),
            )
        )
        return rows

    def refresh_view(self) -> None:
        self.set_header(self.t("billing.confirm.title"), self.t("billing.confirm.body"))
        clear_layout(self._details)
        self._details.addLayout(detail_grid(self.rows(), self), 0, 0)
        self._pin_note.setText(self.t("transfer.confirm.pin_needed") if self.data("pin_required") else "")


class BillResultScreen(StepScreen):
    name = "billing_result"
    title_key = "billing.result.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.panel = MessagePanel("success", self)
        self.body.addWidget(self.panel, 1)
        self._note = self.value_label("subtitle")
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self._note)
        self.add_button("print", "enquiry.print")
        self.add_button("schedule", "billing.result.schedule")
        self.add_button("done", "common.done", "primary")

    def reference(self) -> str:
        return str(self.data("reference", ""))

    def refresh_view(self) -> None:
        self._title.hide()
        self._subtitle.hide()
        currency = str(self.data("currency", "CNY"))
        body = self.t(
            "billing.result.body",
            amount=money_text(int(self.data("amount_minor", 0)), currency, self.lang),
            biller=biller_name(self, str(self.data("biller", ""))),
            number=str(self.data("account_masked", "")),
            reference=self.reference(),
        )
        self.panel.set_message("success", self.t("billing.result.title"), body)
        self.buttons["print"].setEnabled(bool(self.data("printer_ok", True)))
        scheduled = str(self.data("schedule_message", ""))
        self.buttons["schedule"].setVisible(not scheduled)
        notes = []
        if scheduled:
            notes.append(self.t(scheduled, day=self.data("schedule_day", "")))
        if not self.data("printer_ok", True):
            notes.append(self.t("receipt.unavailable.short"))
        self._note.setText("\n".join(notes))


class ScheduleDayScreen(StepScreen):
    name = "billing_schedule_day"
    title_key = "billing.schedule.day.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(32)
        left = QGridLayout()
        self._what = self.value_label("subtitle")
        self.day_field = QLineEdit(self)
        self.day_field.setObjectName("billing-day")
        self.day_field.setReadOnly(True)
        self.day_field.setMinimumHeight(80)
        self.day_field.setStyleSheet("font-size: 40px; font-weight: 700;")
        left.addWidget(self._what, 0, 0)
        left.addWidget(self.day_field, 1, 0)
        left.setRowStretch(2, 1)
        self.keypad = NumericKeypad("digits", lang, max_length=2, parent=self)
        self.keypad.set_target(self.day_field)
        self.keypad.submitted.connect(lambda text: self.emit_action("day", {"value": text}))
        row.addLayout(left, 1)
        row.addWidget(self.keypad, 1)
        self.body.addLayout(row, 1)
        self.add_button("previous", "common.back")

    def on_enter(self, context: Mapping[str, Any]) -> None:
        self.keypad.clear()
        self.day_field.setText(str(context.get("day", "")))
        self.keypad.set_target(self.day_field)
        super().on_enter(context)

    def refresh_view(self) -> None:
        biller = biller_name(self, str(self.data("biller", "")))
        self.set_header(
            self.t("billing.schedule.day.title"),
            self.t("billing.schedule.day.body", biller=biller, number=self.data("account_masked", "")),
        )
        currency = str(self.data("currency", "CNY"))
        if self.data("kind") == "topup":
            amount = money_text(int(self.data("amount_minor", 0)), currency, self.lang)
            self._what.setText(self.t("billing.schedule.day.amount_fixed", amount=amount))
        else:
            self._what.setText(self.t("billing.schedule.day.amount_due"))
        self.keypad.retranslate(self.lang)


class SchedulesScreen(StepScreen):
    name = "billing_schedules"
    title_key = "billing.schedules.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._list = QGridLayout()
        self._list.setHorizontalSpacing(20)
        self._list.setVerticalSpacing(12)
        self.body.addLayout(self._list)
        self._note = self.value_label("subtitle")
        self.body.addWidget(self._note)
        self.body.addStretch(1)
        self.cancel_buttons: dict[int, KioskButton] = {}
        self.add_button("previous", "common.back")
        self.add_button("done", "common.done", "primary")

    def row_texts(self) -> list[str]:
        currency = str(self.data("currency", "CNY"))
        texts = []
        for schedule in self.data("schedules", []):
            amount = schedule.get("amount_minor")
            texts.append(
                self.t(
                    "billing.schedules.row",
                    biller=biller_name(self, str(schedule["biller"])),
                    number=schedule["account_masked"],
                    amount=self.t("billing.schedules.amount_due")
                    if amount is None
                    else money_text(int(amount), currency, self.lang),
                    day=schedule["day_of_month"],
                )
            )
        return texts

    def refresh_view(self) -> None:
        self.set_header(self.t("billing.schedules.title"), self.t("billing.schedules.body"))
        clear_layout(self._list)
        self.cancel_buttons = {}
        schedules = list(self.data("schedules", []))
        for index, (schedule, text) in enumerate(zip(schedules, self.row_texts(), strict=True)):
            label = QLabel(text, self)
            label.setStyleSheet("font-weight: 700;")
            button = KioskButton(self.t("billing.schedules.cancel"), variant="danger", parent=self)
            schedule_id = int(schedule["schedule_id"])
            button.setObjectName(f"billing-cancel-{schedule_id}")
            button.setMaximumWidth(220)
            button.clicked.connect(
                lambda _=False, s=schedule_id: self.emit_action("cancel_schedule", {"value": s})
            )
            self.cancel_buttons[schedule_id] = button
            self._list.addWidget(label, index, 0)
            self._list.addWidget(button, index, 1)
        notes = []
        if not schedules:
            notes.append(self.t("billing.schedules.none"))
        if self.data("cancelled"):
            notes.append(self.t("billing.schedules.cancelled"))
        self._note.setText("\n".join(notes))


BILLING_SCREENS = (
    BillerScreen,
    BillAccountScreen,
    BillScreen,
    TopupScreen,
    BillConfirmScreen,
    BillResultScreen,
    ScheduleDayScreen,
    SchedulesScreen,
)
