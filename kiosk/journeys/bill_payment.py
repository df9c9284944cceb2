"""Bill payment and phone top-up for a logged-in customer, and their scheduled monthly payments.

Steps: choose the biller (or "my scheduled payments") → the customer number on the keypad → the bill as
the biller states it (amount due, month, due date) or the top-up amounts → a confirmation with every
detail → PIN re-entry at or above the transfer threshold → the payment (one ledger transfer, idempotency
key per confirmation, journaled intent/outcome by the ``billing.pay`` effect) → the result with the
reference → receipt or not → optionally "pay this every month" on a day of the month.

Scheduled payments: listed with biller, masked number, amount (or "amount due") and day; each can be
cancelled. Outcomes: ``completed`` (→ "anything else?"), ``cancelled`` (→ the services menu), or what a
PIN re-entry ended with (``retain``, ``timeout``, ``failed`` with a message).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hostlink.billers import BILLERS, BillerKind
from kiosk.journeys.confirmed import ConfirmedMovement
from kiosk.journeys.core import NOTHING, Event, Step
from kiosk.journeys.session import CustomerSession, SessionConfig, register_logged_in_service

MAX_NUMBER_DIGITS = 11


class BillPayment(ConfirmedMovement):
    name = "bill_payment"

    def __init__(self, session: CustomerSession, config: SessionConfig) -> None:
        super().__init__(session, config)
        self.biller = ""
        self.number = ""  # the customer number at the biller (kept for this journey only)
        self.bill: dict[str, Any] = {}
        self.result: dict[str, Any] = {}
        self.schedules: list[dict[str, Any]] = []
        self.schedule_message = ""

    # -- biller and number ----------------------------------------------------------------------
    def on_start(self) -> Step:
        return self._choose_biller()

    def _choose_biller(self) -> Step:
        self.bill, self.amount_minor, self.idempotency_key = {}, 0, ""
        return self.go(
            "billing_biller",
            billers=[{"code": b.code, "kind": b.kind.value} for b in BILLERS.values()],
        )

    def on_billing_biller(self, event: Event) -> Step:
        if event.kind == "ui.scheduled":
            return self._load_schedules()
        if event.kind != "ui.biller":
            return NOTHING
        code = str(event.data.get("value", ""))
        if code not in BILLERS:
            return NOTHING
        self.biller = code
        self.number = ""
        return self._ask_number()

    def _ask_number(self, error: str = "") -> Step:
        biller = BILLERS[self.biller]
        return self.go(
            "billing_account",
            biller=self.biller,
            kind=biller.kind.value,
            digits=biller.account_length,
            number=self.number,
            error=error,
        )

    def on_billing_account(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._choose_biller()
        if event.kind != "ui.number":
            return NOTHING
        number = "".join(str(event.data.get("value", "")).split())
        biller = BILLERS[self.biller]
        self.number = number[:MAX_NUMBER_DIGITS]
        if not (number.isascii() and number.isdigit() and len(number) == biller.account_length):
            return self._ask_number("billing.error.format")
        return self.go("billing_lookup", "card_wait", message_key="billing.wait.lookup").then(
            self.run("billing.lookup", biller=self.biller, number=number)
        )

    def on_billing_lookup(self, event: Event) -> Step:
        if event.kind != "billing.lookup.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if not event.ok:
            return self.notice("error", "error.bank.title", "error.bank.body")
        if value.get("refused"):
            return self._ask_number(f"billing.error.{value['refused']}")
        self.bill = dict(value)
        if BILLERS[self.biller].kind is BillerKind.TOPUP:
            return self._ask_topup()
        return self._show_bill()

    def _show_bill(self) -> Step:
        return self.go("billing_bill", **self.bill, currency=self.config.currency)

    def on_billing_bill(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._ask_number()
        if event.kind == "ui.pay" and int(self.bill.get("due_minor", 0)) > 0:
            self.amount_minor = int(self.bill["due_minor"])
            return self._confirm()
        return NOTHING

    def _ask_topup(self) -> Step:
        return self.go(
            "billing_topup",
            account_masked=self.bill.get("account_masked", ""),
            amounts=list(self.bill.get("topup_amounts_minor", [])),
            currency=self.config.currency,
        )

    def on_billing_topup(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._ask_number()
        if event.kind != "ui.amount":
            return NOTHING
        amount = int(event.data.get("value", 0))
        if amount not in [int(a) for a in self.bill.get("topup_amounts_minor", [])]:
            return NOTHING
        self.amount_minor = amount
        return self._confirm()

    # -- confirmation, PIN, payment -----------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        return {
            "biller": self.biller,
            "kind": BILLERS[self.biller].kind.value,
            "account_masked": str(self.bill.get("account_masked", "")),
            "period": self.bill.get("period"),
            "from_account": self.session.account_masked,
            "amount_minor": self.amount_minor,
            "currency": self.config.currency,
        }

    def _confirm(self) -> Step:
        return self.go("billing_confirm", **self.details(), pin_required=self.pin_required())

    def on_billing_confirm(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._ask_topup() if BILLERS[self.biller].kind is BillerKind.TOPUP else self._show_bill()
        if event.kind != "ui.confirm":
            return NOTHING
        return self.confirmed()

    def _post(self) -> Step:
        details = self.details()
        return self.go("billing_paying", "card_wait", message_key="billing.wait.paying").then(
            self.run(
                "billing.pay",
                idempotency_key=self.idempotency_key,
                customer_id=self.session.customer_id,
                from_account_id=self.session.account_id,
                biller=self.biller,
                number=self.number,
                amount_minor=self.amount_minor,
                currency=self.config.currency,
                session_id=self.session.session_id,
                pan=self.session.pan,  # memory only: a card session pays over ISO 8583
                journal={
                    "idempotency_key": self.idempotency_key,
                    "kind": "bill_payment",
                    "biller": self.biller,
                    "to": details["account_masked"],
                    "from": details["from_account"],
                    "amount_minor": self.amount_minor,
                    "currency": self.config.currency,
                },
            )
        )

    def on_billing_paying(self, event: Event) -> Step:
        if event.kind != "billing.pay.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if event.ok and value.get("reference"):
            self.result = {**self.details(), "reference": str(value["reference"])}
            return self._show_result()
        if event.ok and value.get("refused"):
            reason = str(value["refused"])
            body = f"billing.refused.{reason}" if reason in _KNOWN_REFUSALS else "billing.refused.other"
            return self.notice("error", "billing.refused.title", body)
        if value.get("posted") is False:
            return self.notice("error", "transfer.not_done.title", "transfer.not_done.body")
        return self.notice(
            "error", "transfer.unknown.title", "transfer.unknown.body", key=self.idempotency_key
        )

    def _show_result(self) -> Step:
        return self.go(
            "billing_result",
            **self.result,
            printer_ok=self.session.printer_ok,
            schedule_message=self.schedule_message,
        )

    def on_billing_result(self, event: Event) -> Step:
        if event.kind == "ui.done":
            return self.finish("completed", reference=self.result.get("reference", ""))
        if event.kind == "ui.schedule" and not self.schedule_message:
            return self.go("billing_schedule_day", **self.details(), day=min(self.session.today.day, 28))
        if event.kind == "ui.print":
            if not self.session.printer_ok:
                return self.notice(
                    "warning", "receipt.unavailable.title", "receipt.unavailable.body", buttons=("continue",)
                )
            reference = str(self.result.get("reference", ""))
            return self.go("billing_printing", "card_wait", message_key="card.wait.printing").then(
                self.run(
                    "billing.print",
                    lang=self.session.lang,
                    pan_masked=self.session.pan_masked,
                    reference=reference,
                    data=dict(self.result),
                    journal={"receipt": "bill_payment", "reference": reference},
                )
            )
        return NOTHING

    def on_billing_printing(self, event: Event) -> Step:
        if event.kind != "billing.print.done":
            return NOTHING
        if event.ok:
            return self.finish("completed", reference=self.result.get("reference", ""), printed=True)
        self.session.printer_ok = False
        return self.notice("warning", "receipt.failed.title", "receipt.failed.body", buttons=("continue",))

    # -- scheduling this payment ----------------------------------------------------------------------
    def on_billing_schedule_day(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._show_result()
        if event.kind != "ui.day":
            return NOTHING
        try:
            day = int(event.data.get("value", 0))
        except (TypeError, ValueError):
            day = 0
        if not 1 <= day <= 28:
            return self.stay(error="billing.error.day")
        topup = BILLERS[self.biller].kind is BillerKind.TOPUP
        return self.go("billing_scheduling", "card_wait", message_key="billing.wait.scheduling").then(
            self.run(
                "billing.schedule_create",
                customer_id=self.session.customer_id,
                from_account_id=self.session.account_id,
                biller=self.biller,
                number=self.number,
                day_of_month=day,
                amount_minor=self.amount_minor if topup else None,
                currency=self.config.currency,
                session_id=self.session.session_id,
            )
        )

    def on_billing_scheduling(self, event: Event) -> Step:
        if event.kind != "billing.schedule_create.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if event.ok and value.get("schedule_id"):
            self.schedule_message = "billing.schedule.created"
            return self.go(
                "billing_result",
                **self.result,
                printer_ok=self.session.printer_ok,
                schedule_message=self.schedule_message,
                schedule_day=int(value.get("day_of_month", 0)),
            )
        return self.notice("error", "billing.schedule.failed.title", "billing.schedule.failed.body")

    # -- the scheduled payments list --------------------------------------------------------------------
    def _load_schedules(self) -> Step:
        return self.go("billing_schedules_loading", "card_wait", message_key="billing.wait.lookup").then(
            self.run("billing.schedules", customer_id=self.session.customer_id)
        )

    def on_billing_schedules_loading(self, event: Event) -> Step:
        if event.kind not in ("billing.schedules.done", "billing.schedule_cancel.done"):
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if not event.ok:
            return self.notice("error", "error.bank.title", "error.bank.body")
        self.schedules = [dict(s) for s in value.get("schedules", [])]
        return self.go(
            "billing_schedules",
            schedules=self.schedules,
            currency=self.config.currency,
            error=str(value.get("error", "")),
            cancelled=value.get("cancelled"),
        )

    def on_billing_schedules(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._choose_biller()
        if event.kind == "ui.done":
            return self.finish("completed")
        if event.kind != "ui.cancel_schedule":
            return NOTHING
        schedule_id = int(event.data.get("value", 0))
        if schedule_id not in [int(s["schedule_id"]) for s in self.schedules]:
            return NOTHING
        return self.go("billing_schedules_loading", "card_wait", message_key="billing.wait.cancelling").then(
            self.run(
                "billing.schedule_cancel",
                customer_id=self.session.customer_id,
                schedule_id=schedule_id,
                session_id=self.session.session_id,
            )
        )

    # -- notices and cancel -----------------------------------------------------------------------------
    def on_notice(self, event: Event) -> Step:
        if event.kind not in ("ui.ok", "ui.continue"):
            return NOTHING
        if self.result.get("reference"):
            return self.finish("completed", reference=self.result["reference"])
        return self.finish("cancelled")

    def cancel(self) -> Step:
        if self.state in ("billing_paying", "billing_printing", "billing_scheduling"):
            return NOTHING  # the money is moving or has moved: the result decides what follows
        if self.result.get("reference"):
            return self.finish("completed", reference=self.result["reference"])
        return self.finish("cancelled")


_KNOWN_REFUSALS = frozenset(
    {
        "insufficient_funds",
        "daily_limit",
        "daily_count_limit",
        "account_frozen",
        "account_closed",
        "nothing_due",
        "amount",
    }
)


# Offered in the logged-in services menu (kiosk.journeys.session imports this module for that).
register_logged_in_service("bill_payment", BillPayment, label_key="billing.menu", order=30)
