"""Transfer screens: kind, own account, payee, amount, confirmation, result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from ui.screens.step import StepScreen, clear_layout, detail_grid, money_text
from ui.widgets.button import KioskButton
from ui.widgets.keyboard import OnScreenKeyboard
from ui.widgets.keypad import NumericKeypad
from ui.widgets.message_panel import MessagePanel

KINDS = ("own", "customer", "other_bank")


class TransferKindScreen(StepScreen):
    name = "transfer_kind"
    title_key = "transfer.kind.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.kind_buttons: dict[str, KioskButton] = {}
        for kind in KINDS:
            button = KioskButton(variant="primary", parent=self)
            button.setObjectName(f"transfer-kind-{kind}")
            button.setMinimumHeight(130)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, k=kind: self.emit_action("kind", {"value": k}))
            self.kind_buttons[kind] = button
            self.body.addWidget(button, 1)
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(self.t("transfer.kind.title"))
        for kind, button in self.kind_buttons.items():
            button.set_texts(self.t(f"transfer.kind.{kind}"), self.t(f"transfer.kind.{kind}.hint"))
        own = bool(self.data("own_possible", True))
        self.kind_buttons["own"].setEnabled(own)
        if not own:
            self.kind_buttons["own"].set_texts(self.t("transfer.kind.own"), self.t("transfer.kind.own.none"))


class TransferOwnAccountScreen(StepScreen):
    name = "transfer_own_account"
    title_key = "transfer.own.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._list = QGridLayout()
        self._list.setSpacing(20)
        self.body.addLayout(self._list)
        self.body.addStretch(1)
        self.account_buttons: dict[int, KioskButton] = {}
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(self.t("transfer.own.title"))
        clear_layout(self._list)
        self.account_buttons = {}
        for index, account in enumerate(self.data("accounts", [])):
            account_id = int(account["account_id"])
            button = KioskButton(
                str(account["masked"]), hint=self.t(f"account.kind.{account['kind']}"), parent=self
            )
            button.setObjectName(f"transfer-account-{account_id}")
            button.clicked.connect(lambda _=False, a=account_id: self.emit_action("account", {"value": a}))
            self.account_buttons[account_id] = button
            self._list.addWidget(button, index, 0)


class TransferPayeeScreen(StepScreen):
    """Bank code (another bank only), account number and name, typed on the on-screen keyboard."""

    name = "transfer_payee"
    title_key = "transfer.payee.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        self.labels: dict[str, QLabel] = {}
        self.fields: dict[str, QLineEdit] = {}
        for row, name in enumerate(("bank_code", "account", "name")):
            label = self.value_label("subtitle")
            edit = QLineEdit(self)
            edit.setObjectName(f"payee-{name}")
            edit.setMinimumHeight(60)
            edit.installEventFilter(self)
            self.labels[name], self.fields[name] = label, edit
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
        self.fields["bank_code"].setMaxLength(3)
        self.fields["account"].setMaxLength(34)
        self.fields["name"].setMaxLength(60)
        self.body.addLayout(grid)
        self.keyboard = OnScreenKeyboard(lang, allow_chinese=True, parent=self)
        self.keyboard.submitted.connect(self._next_field)
        self.body.addWidget(self.keyboard, 1)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")
        self.add_button("continue", "common.continue", "primary")
        self.buttons["continue"].clicked.disconnect()
        self.buttons["continue"].clicked.connect(self.submit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QLineEdit):
            self.keyboard.set_target(watched)
        return False

    def _visible_fields(self) -> list[str]:
        names = ["account", "name"]
        return ["bank_code", *names] if self.data("kind") == "other_bank" else names

    def _next_field(self) -> None:
        names = self._visible_fields()
        target = self.keyboard.target()
        current = next((n for n in names if self.fields[n] is target), None)
        if current is None or current == names[-1]:
            self.submit()
            return
        following = self.fields[names[names.index(current) + 1]]
        following.setFocus()
        self.keyboard.set_target(following)

    def submit(self) -> None:
        self.keyboard.set_target(self.keyboard.target())  # commit a pinyin composition in progress
        self.emit_action("payee", {name: self.fields[name].text() for name in self._visible_fields()})

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        for name in ("bank_code", "account", "name"):
            self.fields[name].setText(str(context.get(name, "")))
        first = self.fields[self._visible_fields()[0]]
        first.setFocus()
        self.keyboard.set_target(first)

    def refresh_view(self) -> None:
        kind = str(self.data("kind", "customer"))
        self.set_header(self.t("transfer.payee.title"), self.t(f"transfer.kind.{kind}"))
        other = kind == "other_bank"
        for name in ("bank_code", "account", "name"):
            self.labels[name].setText(self.t(f"transfer.payee.{name}"))
        self.labels["bank_code"].setVisible(other)
        self.fields["bank_code"].setVisible(other)
        self.keyboard.retranslate(self.lang)


class TransferAmountScreen(StepScreen):
    """The amount on the on-screen keypad, or on the PIN pad in clear-text mode; the limits shown."""

    name = "transfer_amount"
    title_key = "transfer.amount.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(32)
        left = QGridLayout()
        self._limits = self.value_label("subtitle")
        self.amount_field = QLineEdit(self)
        self.amount_field.setObjectName("transfer-amount")
        self.amount_field.setReadOnly(True)
        self.amount_field.setMinimumHeight(80)
        self.amount_field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount_field.setStyleSheet("font-size: 40px; font-weight: 700;")
        self._pad_hint = self.value_label("subtitle")
        self._use_pad = KioskButton(variant="secondary", parent=self)
        self._use_pad.setObjectName("transfer-use-pin-pad")
        self._use_pad.clicked.connect(self._toggle_pad)
        left.addWidget(self.amount_field, 0, 0)
        left.addWidget(self._limits, 1, 0)
        left.addWidget(self._pad_hint, 2, 0)
        left.addWidget(self._use_pad, 3, 0)
        left.setRowStretch(4, 1)
        self.keypad = NumericKeypad("amount", lang, max_length=12, parent=self)
        self.keypad.set_target(self.amount_field)
        self.keypad.submitted.connect(lambda text: self.emit_action("amount", {"value": text}))
        row.addLayout(left, 1)
        row.addWidget(self.keypad, 1)
        self.body.addLayout(row, 1)
        self.add_button("previous", "common.back")
        self.add_button("cancel", "common.cancel")

    def _toggle_pad(self) -> None:
        self.emit_action("keypad" if self.data("pin_pad_entry") else "use_pin_pad")

    def on_enter(self, context: Mapping[str, Any]) -> None:
        # A new view starts with an empty field; during PIN pad entry the field mirrors the pad's digits.
        if context.get("pin_pad_entry"):
            self.amount_field.setText(str(context.get("entry", "")))
        else:
            self.keypad.clear()
        super().on_enter(context)

    def refresh_view(self) -> None:
        currency = str(self.data("currency", "CNY"))
        self.set_header(self.t("transfer.amount.title"), self.t("transfer.amount.body"))
        lines = [
            self.t(
                "transfer.amount.available",
                amount=money_text(int(self.data("available_minor", 0)), currency, self.lang),
            ),
            self.t(
                "transfer.amount.max", amount=money_text(int(self.data("max_minor", 0)), currency, self.lang)
            ),
            self.t(
                "transfer.amount.pin_above",
                amount=money_text(int(self.data("threshold_minor", 0)), currency, self.lang),
            ),
        ]
        if int(self.data("fee_minor", 0)):
            lines.append(
                self.t(
                    "transfer.amount.fee", amount=money_text(int(self.data("fee_minor")), currency, self.lang)
                )
            )
        self._limits.setText("\n".join(lines))
        pad = bool(self.data("pin_pad_entry"))
        self.keypad.setEnabled(not pad)
        self._pad_hint.setText(self.t("transfer.amount.pad_hint") if pad else "")
        self._use_pad.set_texts(
            self.t("transfer.amount.use_keypad" if pad else "transfer.amount.use_pin_pad")
        )
        self.keypad.retranslate(self.lang)


class TransferConfirmScreen(StepScreen):
    name = "transfer_confirm"
    title_key = "transfer.confirm.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._details = QGridLayout()
        self.body.addLayout(self._details)
        self.body.addStretch(1)
        self._pin_note = self.value_label("subtitle")
        self.body.addWidget(self._pin_note)
        self.add_button("cancel", "common.cancel")
        self.add_button("change_amount", "transfer.confirm.change_amount")
        self.add_button("confirm", "transfer.confirm.confirm", "primary")

    def rows(self) -> list[tuple[str, str]]:
        currency = str(self.data("currency", "CNY"))
        kind = str(self.data("kind", "") or "own")
        rows = [
            (self.t("transfer.detail.kind"), self.t(f"transfer.kind.{kind}")),
            (self.t("transfer.detail.from"), str(self.data("from_account", ""))),
            (self.t("transfer.detail.to"), str(self.data("to_account", ""))),
        ]
        if self.data("payee_name"):
            rows.append((self.t("transfer.detail.payee"), str(self.data("payee_name"))))
        if self.data("bank_code"):
            rows.append((self.t("transfer.detail.bank"), str(self.data("bank_code"))))
        rows.append(
            (
                self.t("transfer.detail.amount"),
                money_text(int(self.data("amount_minor", 0)), currency, self.lang),
            )
        )
        rows.append(
            (self.t("transfer.detail.fee"), money_text(int(self.data("fee_minor", 0)), currency, self.lang))
        )
        rows.append(
            (
                self.t("transfer.detail.total"),
                money_text(int(self.data("total_minor", 0)), currency, self.lang),
            )
        )
        return rows

    def refresh_view(self) -> None:
        self.set_header(self.t("transfer.confirm.title"), self.t("transfer.confirm.body"))
        clear_layout(self._details)
        self._details.addLayout(detail_grid(self.rows(), self), 0, 0)
        self._pin_note.setText(self.t("transfer.confirm.pin_needed") if self.data("pin_required") else "")


class TransferResultScreen(StepScreen):
    name = "transfer_result"
    title_key = "transfer.result.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.panel = MessagePanel("success", self)
        self.body.addWidget(self.panel, 1)
        self._printer_note = self.value_label("muted")
        self.body.addWidget(self._printer_note)
        self.add_button("print", "enquiry.print")
        self.add_button("done", "common.done", "primary")

    def reference(self) -> str:
        return str(self.data("reference", ""))

    def refresh_view(self) -> None:
        self._title.hide()
        self._subtitle.hide()
        currency = str(self.data("currency", "CNY"))
        status = str(self.data("status", "posted"))
        amount = money_text(int(self.data("amount_minor", 0)), currency, self.lang)
        body = self.t(
            f"transfer.result.{status}",
            amount=amount,
            to=str(self.data("to_account_masked", "")),
            reference=self.reference(),
        )
        self.panel.set_message("success", self.t("transfer.result.title"), body)
        ready = bool(self.data("printer_ok", True))
        self.buttons["print"].setEnabled(ready)
        self._printer_note.setText("" if ready else self.t("receipt.unavailable.short"))
