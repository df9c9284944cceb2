"""Transfers: to an own account, to another customer of this bank, or to another bank.

Steps: kind → payee (own account from a list; account number and name on the keyboard; plus the bank
code for another bank) → amount (on-screen keypad, or the PIN pad in clear-text mode) with the limits
shown → a confirmation with every detail (from, to, payee, bank, amount, fee, total) → PIN re-entry when
the amount is at or above ``pin_reentry_threshold_minor`` → the bank posts it (one idempotency key per
confirmation, so a retry never posts twice) → the result with the reference → receipt or not.

Nothing is half-done: the ``bank.transfer`` effect is journaled as an intent with the idempotency key
before it runs, and when the bank call fails the effect asks the ledger by that key whether anything was
posted, so the customer is told either the reference or "no money moved".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hostlink.money import Money, MoneyError
from hostlink.redaction import mask_account
from hostlink.safetext import has_control
from kiosk.journeys.confirmed import ConfirmedMovement
from kiosk.journeys.core import NOTHING, Event, Step
from kiosk.journeys.session import CustomerSession, SessionConfig

KINDS = ("own", "customer", "other_bank")
AMOUNT_MAX_DIGITS = 9


def check_payee(kind: str, account: str, name: str, bank_code: str, own_bank_code: str) -> str:
    """The catalogue key of what is wrong with the payee, or ""."""
    account, name, bank_code = account.strip(), name.strip(), bank_code.strip()
    if kind == "other_bank":
        if not (bank_code.isdigit() and len(bank_code) == 3):
            return "transfer.error.bank_code"
        if bank_code == own_bank_code:
            return "transfer.error.own_bank"
        if not (account.isdigit() and 8 <= len(account) <= 34):
            return "transfer.error.account_other"
    elif not (account.isdigit() and len(account) == 16):
        return "transfer.error.account"
    if not name:
        return "transfer.error.name"
    if len(name) > 60:
        return "transfer.error.name"
    if has_control(name):
        # Control characters would reach the receipt printer as commands (ESC/POS injection).
        return "transfer.error.name_characters"
    return ""


class Transfer(ConfirmedMovement):
    name = "transfer"

    def __init__(self, session: CustomerSession, config: SessionConfig) -> None:
        super().__init__(session, config)
        self.accounts: list[dict[str, Any]] = []
        self.kind = ""
        self.payee: dict[str, str] = {}
        self.reference = ""
        self.result: dict[str, Any] = {}
        self.entry = ""  # clear-text digits typed on the PIN pad, shown as they come

    # -- accounts and kind ------------------------------------------------------------------------
    def on_start(self) -> Step:
        return self.go("loading", "card_wait", message_key="enquiry.wait").then(
            self.run("bank.accounts", customer_id=self.session.customer_id)
        )

    def on_loading(self, event: Event) -> Step:
        if event.kind != "bank.accounts.done":
            return NOTHING
        if not event.ok or not isinstance(event.value, list):
            return self.notice("error", "error.bank.title", "error.bank.body")
        self.accounts = [dict(a) for a in event.value]
        return self._choose_kind()

    def _choose_kind(self) -> Step:
        return self.go("transfer_kind", own_possible=len(self._own_targets()) > 0)

    def _source(self) -> dict[str, Any]:
        for account in self.accounts:
            if int(account["account_id"]) == self.session.account_id:
                return account
        return {
            "account_id": self.session.account_id,
            "masked": self.session.account_masked,
            "available_minor": 0,
        }

    def _own_targets(self) -> list[dict[str, Any]]:
        return [
            a
            for a in self.accounts
            if int(a["account_id"]) != self.session.account_id and a.get("status") == "active"
        ]

    def on_transfer_kind(self, event: Event) -> Step:
        if event.kind != "ui.kind":
            return NOTHING
        kind = str(event.data.get("value", ""))
        if kind not in KINDS:
            return NOTHING
        self.kind = kind
        if kind == "own":
            targets = self._own_targets()
            if not targets:
                return self._choose_kind()
            return self.go(
                "transfer_own_account",
                accounts=[
                    {"account_id": a["account_id"], "masked": a["masked"], "kind": a["kind"]} for a in targets
                ],
            )
        return self._ask_payee()

    def on_transfer_own_account(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._choose_kind()
        if event.kind != "ui.account":
            return NOTHING
        wanted = int(event.data.get("value", -1))
        target = next((a for a in self._own_targets() if int(a["account_id"]) == wanted), None)
        if target is None:
            return NOTHING
        self.payee = {"account_id": str(target["account_id"]), "masked": str(target["masked"])}
        return self._ask_amount()

    def _ask_payee(self, error: str = "") -> Step:
        return self.go(
            "transfer_payee",
            kind=self.kind,
            account=self.payee.get("account", ""),
            name=self.payee.get("name", ""),
            bank_code=self.payee.get("bank_code", ""),
            error=error,
        )

    def on_transfer_payee(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._choose_kind()
        if event.kind != "ui.payee":
            return NOTHING
        account = str(event.data.get("account", "")).replace(" ", "")
        name = str(event.data.get("name", "")).strip()
        bank_code = str(event.data.get("bank_code", "")).strip() if self.kind == "other_bank" else ""
        self.payee = {
            "account": account,
            "name": name,
            "bank_code": bank_code,
            "masked": mask_account(account),
        }
        problem = check_payee(self.kind, account, name, bank_code, self.config.own_bank_code)
        if problem:
            return self._ask_payee(problem)
        return self._ask_amount()

    # -- amount -------------------------------------------------------------------------------------
    def _fee(self) -> int:
        return self.config.other_bank_fee_minor if self.kind == "other_bank" else 0

    def _ask_amount(self, error: str = "", **extra: Any) -> Step:
        source = self._source()
        return self.go(
            "transfer_amount",
            currency=self.config.currency,
            available_minor=int(source.get("available_minor", 0)),
            max_minor=self.config.transfer_max_minor,
            fee_minor=self._fee(),
            threshold_minor=self.config.pin_reentry_threshold_minor,
            error=error,
            pin_pad_entry=False,
            entry="",
            **extra,
        )

    def _check_amount(self, minor: int) -> str:
        if minor <= 0:
            return "transfer.error.amount_zero"
        if minor > self.config.transfer_max_minor:
            return "transfer.error.amount_max"
        if minor + self._fee() > int(self._source().get("available_minor", 0)):
            return "transfer.error.amount_funds"
        return ""

    def _amount_chosen(self, minor: int) -> Step:
        problem = self._check_amount(minor)
        if problem:
            return self._ask_amount(problem)
        self.amount_minor = minor
        return self._confirm()

    def on_transfer_amount(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._ask_payee() if self.kind != "own" else self._choose_kind()
        if event.kind == "ui.amount":
            try:
                money = Money.parse(str(event.data.get("value", "")), self.config.currency)
            except MoneyError:
                return self._ask_amount("transfer.error.amount_format")
            return self._amount_chosen(money.minor)
        if event.kind == "ui.use_pin_pad":
            self.entry = ""
            return self.go(
                "transfer_amount_pad", "transfer_amount", **self._amount_view(pin_pad_entry=True)
            ).then(
                self.run(
                    "pin_pad.get_amount", max_digits=AMOUNT_MAX_DIGITS, timeout=self.config.pin_timeout_s
                )
            )
        return NOTHING

    def _amount_view(self, **changes: Any) -> dict[str, Any]:
        base = dict(self.view.data) if self.view is not None else {}
        base.update(changes)
        return base

    def on_transfer_amount_pad(self, event: Event) -> Step:
        if event.kind == "pin_pad.key_pressed" and event.data.get("mode") == "clear":
            key = str(event.data.get("key", ""))
            if key.isdigit() or key == ".":
                self.entry += key
            elif key == "BACKSPACE":
                self.entry = self.entry[:-1]
            elif key == "CLEAR":
                self.entry = ""
            else:
                return NOTHING
            return self.stay(entry=self.entry)
        if event.kind == "ui.keypad":  # back to the on-screen keypad: the pad entry is abandoned
            return self._ask_amount()
        if event.kind != "pin_pad.get_amount.done":
            return NOTHING
        if event.ok and isinstance(event.value, int):
            return self._amount_chosen(int(event.value))
        if event.code == "cancelled":
            return self._ask_amount()
        if event.code == "user_error":
            return self._ask_amount("transfer.error.amount_format")
        return self._ask_amount("transfer.error.pin_pad")

    # -- confirmation and PIN re-entry -----------------------------------------------------------
    def details(self) -> dict[str, Any]:
        source = self._source()
        fee = self._fee()
        return {
            "kind": self.kind,
            "from_account": str(source.get("masked", self.session.account_masked)),
            "to_account": self.payee.get("account", self.payee.get("masked", "")),
            "to_account_masked": self.payee.get("masked", ""),
            "payee_name": self.payee.get("name", ""),
            "bank_code": self.payee.get("bank_code", ""),
            "amount_minor": self.amount_minor,
            "fee_minor": fee,
            "total_minor": self.amount_minor + fee,
            "currency": self.config.currency,
        }

    def _confirm(self) -> Step:
        return self.go("transfer_confirm", **self.details(), pin_required=self.pin_required())

    def on_transfer_confirm(self, event: Event) -> Step:
        if event.kind == "ui.change_amount":
            return self._ask_amount()
        if event.kind != "ui.confirm":
            return NOTHING
        return self.confirmed()

    # -- posting and result -----------------------------------------------------------------------
    def _post(self) -> Step:
        details = self.details()
        params: dict[str, Any] = {
            "kind": self.kind,
            "idempotency_key": self.idempotency_key,
            "from_account_id": self.session.account_id,
            "amount_minor": self.amount_minor,
            "currency": self.config.currency,
            "pan": self.session.pan,  # memory only: a card session's transfer goes over ISO 8583
        }
        if self.kind == "own":
            params["to_account_id"] = int(self.payee["account_id"])
        else:
            params.update(payee_account=self.payee["account"], payee_name=self.payee["name"])
            if self.kind == "other_bank":
                params["bank_code"] = self.payee["bank_code"]
        params["journal"] = {
            "idempotency_key": self.idempotency_key,
            "kind": self.kind,
            "from": details["from_account"],
            "to": details["to_account_masked"],
            "amount_minor": self.amount_minor,
            "currency": self.config.currency,
        }
        return self.go("posting", "card_wait", message_key="transfer.wait").then(
            self.run("bank.transfer", **params)
        )

    def on_posting(self, event: Event) -> Step:
        if event.kind != "bank.transfer.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if event.ok and value.get("reference"):
            self.reference = str(value["reference"])
            self.result = {
                **self.details(),
                "status": str(value.get("status", "posted")),
                "fee_minor": int(value.get("fee_minor", self._fee())),
                "reference": self.reference,
            }
            return self._show_result()
        if event.ok and value.get("refused"):
            reason = str(value["refused"])
            return self.notice(
                "error", "transfer.refused.title", f"transfer.refused.{reason}", buttons=("ok",)
            )
        if value.get("posted") is False:
            return self.notice("error", "transfer.not_done.title", "transfer.not_done.body")
        return self.notice(
            "error", "transfer.unknown.title", "transfer.unknown.body", key=self.idempotency_key
        )

    def _show_result(self) -> Step:
        return self.go("transfer_result", **self.result, printer_ok=self.session.printer_ok)

    def on_transfer_result(self, event: Event) -> Step:
        if event.kind == "ui.done":
            return self.finish("completed", reference=self.reference)
        if event.kind == "ui.print":
            if not self.session.printer_ok:
                return self.notice(
                    "warning", "receipt.unavailable.title", "receipt.unavailable.body", buttons=("continue",)
                )
            return self.go("printing", "card_wait", message_key="card.wait.printing").then(
                self.run(
                    "printer.print",
                    kind="transfer",
                    lang=self.session.lang,
                    pan_masked=self.session.pan_masked,
                    reference=self.reference,
                    data=dict(self.result),
                    journal={"receipt": "transfer", "reference": self.reference},
                )
            )
        return NOTHING

    def on_printing(self, event: Event) -> Step:
        if event.kind != "printer.print.done":
            return NOTHING
        if event.ok:
            return self.finish("completed", reference=self.reference, printed=True)
        self.session.printer_ok = False
        return self.notice("warning", "receipt.failed.title", "receipt.failed.body", buttons=("continue",))

    def on_notice(self, event: Event) -> Step:
        if event.kind in ("ui.ok", "ui.continue"):
            return self.finish("completed", reference=self.reference)
        return NOTHING

    def cancel(self) -> Step:
        if self.state in ("posting", "printing"):
            return NOTHING  # the money is moving or has moved: the result decides what comes next
        if self.state == "transfer_result":
            return self.finish("completed", reference=self.reference)
        return self.finish("cancelled")
