"""The card journeys as plain state machines: effects out, answers in, no Qt, no devices, no bank."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kiosk.journeys.card_login import CardJourney, card_expired
from kiosk.journeys.card_return import CardReturn
from kiosk.journeys.core import Effect, Event, Journey, Step
from kiosk.journeys.enquiry import Enquiry, parse_day
from kiosk.journeys.session import CustomerSession, ServicesMenu, SessionConfig
from kiosk.journeys.transfer import Transfer, check_payee

PAN = "43219876543210987"
TODAY = date(2026, 5, 20)
CONFIG = SessionConfig(pin_reentry_threshold_minor=500_000, take_card_timeout_s=30, take_card_warning_s=10)
CARD_ROW = {
    "card_id": 1,
    "status": "active",
    "expiry": "3012",
    "customer_id": 7,
    "account_id": 11,
    "account_masked": "****0014",
    "has_pin": True,
    "tries_left": 3,
}
ACCOUNTS = [
    {
        "account_id": 11,
        "masked": "****0014",
        "kind": "current",
        "status": "active",
        "available_minor": 1_234_567,
    },
    {
        "account_id": 12,
        "masked": "****0020",
        "kind": "savings",
        "status": "active",
        "available_minor": 5_000_000,
    },
]


class Driver:
    """Feeds a journey and remembers the effects it asked for (what the runner would do)."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.effects: list[Effect] = []
        self.step = self._keep(journey.start())

    def _keep(self, step: Step) -> Step:
        self.effects.extend(step.effects)
        return step

    def pending(self, kind: str) -> Effect:
        matches = [e for e in self.effects if e.kind == kind and self.journey.is_awaiting(e.id)]
        assert matches, (
            f"no pending {kind}; awaiting {self.journey.awaiting}, effects {[e.kind for e in self.effects]}"
        )
        return matches[-1]

    def answer(self, kind: str, ok: bool = True, value: Any = None, code: str = "") -> Step:
        self.step = self._keep(self.journey.handle(Event.done(self.pending(kind), ok, value, code)))
        return self.step

    def ui(self, action: str, **data: Any) -> Step:
        self.step = self._keep(self.journey.handle(Event.ui(action, **data)))
        return self.step

    def event(self, kind: str, **data: Any) -> Step:
        self.step = self._keep(self.journey.handle(Event(kind, data)))
        return self.step

    @property
    def screen(self) -> str:
        view = self.journey.view
        innermost: Journey = self.journey
        while innermost.child is not None:
            innermost = innermost.child
        view = innermost.view or view
        return view.screen if view else ""

    def kinds(self) -> list[str]:
        return [e.kind for e in self.effects]


def card_journey() -> Driver:
    return Driver(CardJourney("S1", "en", CONFIG, TODAY))


def logged_in() -> Driver:
    d = card_journey()
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": "432198*******0987", "expiry": "3012"})
    d.answer("bank.card_lookup", value=CARD_ROW)
    d.answer("pin_pad.get_pin", value=b"\x01" * 8)
    d.answer("security.check_pin", value={"outcome": "ok", "tries_left": 3})
    assert d.screen == "services_menu"
    return d


def test_card_and_pin_reach_the_services_menu_and_the_pin_block_only_passes_through() -> None:
    d = card_journey()
    assert d.screen == "card_insert" and d.kinds() == ["card_reader.wait_for_card"]
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": "432198*******0987", "expiry": "3012"})
    assert d.pending("bank.card_lookup").params == {"pan": PAN}
    d.answer("bank.card_lookup", value=CARD_ROW)
    assert d.screen == "pin_entry"
    for key in ["*", "*", "BACKSPACE", "*", "*", "*"]:
        d.event("pin_pad.key_pressed", key=key, mode="pin")
    assert d.journey.child is not None and d.journey.child.view.data["digits"] == 4  # type: ignore[union-attr]
    block = b"\x9a" * 8
    d.answer("pin_pad.get_pin", value=block)
    check = d.pending("security.check_pin")
    assert check.params["pin_block"] == block and "journal" not in check.params
    d.answer("security.check_pin", value={"outcome": "ok", "tries_left": 3})
    assert d.screen == "services_menu"
    assert "printer.status" in d.kinds()
    # The block is nowhere in the journeys' state, and the PAN never reaches a view.
    for journey in (d.journey, d.journey.child):
        assert block not in repr(vars(journey)).encode("latin-1", "replace")
    assert PAN not in repr(d.journey.view) and PAN not in repr(d.journey) and PAN not in repr(d.journey.child)


def test_three_wrong_pins_capture_the_card_and_print_a_retain_receipt() -> None:
    d = card_journey()
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": "x", "expiry": "3012"})
    d.answer("bank.card_lookup", value=CARD_ROW)
    for left in (2, 1):
        d.answer("pin_pad.get_pin", value=b"\x00" * 8)
        d.answer("security.check_pin", value={"outcome": "wrong", "tries_left": left})
        assert d.journey.child.view.data == {  # type: ignore[union-attr]
            "digits": 0,
            "max_digits": 6,
            "tries_left": left,
            "error": "pin.wrong",
            "reentry": False,
        }
    d.answer("pin_pad.get_pin", value=b"\x00" * 8)
    d.answer("security.check_pin", value={"outcome": "retain", "tries_left": 0})
    capture = d.pending("card_reader.capture")
    assert capture.params["journal"]["reason"] == "retain.pin"
    d.answer("card_reader.capture", value=1)
    printing = d.pending("printer.print")
    assert printing.params["kind"] == "retain" and "card_reader.eject" not in d.kinds()
    step = d.answer("printer.print")
    assert step.outcome is not None and step.outcome.status == "retained"
    assert step.outcome.data["message"]["body_key"] == "retain.pin.body"


def test_retain_without_a_working_printer_says_there_is_no_receipt() -> None:
    d = card_journey()
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": "x", "expiry": "3012"})
    d.answer("bank.card_lookup", value={**CARD_ROW, "tries_left": 1})
    d.answer("pin_pad.get_pin", value=b"\x00" * 8)
    d.answer("security.check_pin", value={"outcome": "retain", "tries_left": 0})
    d.answer("card_reader.capture", value=1)
    step = d.answer("printer.print", ok=False, code="paper_out")
    assert (
        step.outcome is not None and step.outcome.data["message"]["body_key"] == "retain.pin.body_no_receipt"
    )


@pytest.mark.parametrize(
    ("row", "status"),
    [
        ({**CARD_ROW, "expiry": "2604"}, "expired"),
        ({**CARD_ROW, "status": "blocked"}, "card_not_usable"),
        (None, "unknown_card"),
    ],
)
def test_unusable_cards_are_returned_before_any_pin(row: Any, status: str) -> None:
    d = card_journey()
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": "x", "expiry": "3012"})
    d.answer("bank.card_lookup", value=row)
    assert d.screen == "card_take" and "pin_pad.get_pin" not in d.kinds()
    step = d.answer("card_reader.eject", value=True)
    assert step.outcome is not None and step.outcome.status == status


def test_card_expiry_is_the_end_of_the_month() -> None:
    assert not card_expired("2605", TODAY) and card_expired("2604", TODAY) and card_expired("26x5", TODAY)


def test_card_return_captures_a_card_not_taken_and_reports_a_jam() -> None:
    d = Driver(CardReturn("x", 30, 10))
    assert d.journey.view.data == {"countdown_s": 30, "warning_s": 10, "reason": "end"}  # type: ignore[union-attr]
    d.answer("card_reader.eject", ok=False, value=False, code="timeout")
    assert d.screen == "card_wait"
    assert d.answer("card_reader.capture", value=1).outcome.status == "retained"  # type: ignore[union-attr]
    taken_late = Driver(CardReturn("x", 30, 10))
    taken_late.answer("card_reader.eject", ok=False, code="timeout")
    assert taken_late.answer("card_reader.capture", ok=False, code="no_media").outcome.status == "taken"  # type: ignore[union-attr]
    jam = Driver(CardReturn("x", 30, 10))
    assert jam.answer("card_reader.eject", ok=False, code="media_jammed").outcome.status == "failed"  # type: ignore[union-attr]
    # Cancel and the idle timeout cannot interrupt a card on its way out.
    busy = Driver(CardReturn("x", 30, 10))
    busy.ui("cancel")
    busy.event("session.timeout")
    assert busy.journey.outcome is None


def test_cancel_while_waiting_for_a_card_drops_the_late_answer() -> None:
    d = card_journey()
    wait = d.pending("card_reader.wait_for_card")
    step = d.ui("cancel")
    assert step.outcome is not None and step.outcome.status == "cancelled"
    assert d.journey.handle(Event.done(wait, True, "inside")).outcome is None


def test_idle_timeout_deep_in_an_enquiry_returns_the_card() -> None:
    d = logged_in()
    d.ui("history")
    assert d.screen == "history_range"
    d.event("session.timeout")
    assert d.screen == "card_take"
    step = d.answer("card_reader.eject", value=True)
    assert step.outcome is not None and step.outcome.status == "timeout"
    assert step.outcome.data["message"]["title_key"] == "end.timeout.title"


def session() -> CustomerSession:
    return CustomerSession("S1", 7, 11, "****0014", pan=PAN, pan_masked="432198*******0987", today=TODAY)


def transfer_to_confirm(amount: str, kind: str = "customer") -> Driver:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value=kind)
    if kind == "own":
        d.ui("account", value=12)
    else:
        d.ui("payee", account="0001100000010030", name="李娜", bank_code="")
    d.ui("amount", value=amount)
    assert d.screen == "transfer_confirm", d.journey.view
    return d


def test_pin_reentry_starts_exactly_at_the_threshold() -> None:
    below = transfer_to_confirm("4999.99")
    below.ui("confirm")
    assert below.screen == "card_wait" and "bank.transfer" in below.kinds()
    at = transfer_to_confirm("5000.00")
    assert at.journey.view.data["pin_required"] is True  # type: ignore[union-attr]
    at.ui("confirm")
    assert at.screen == "pin_entry" and "bank.transfer" not in at.kinds()


def test_a_wrong_pin_on_reentry_keeps_the_same_idempotency_key() -> None:
    d = transfer_to_confirm("6000")
    d.ui("confirm")
    key = d.journey.idempotency_key  # type: ignore[attr-defined]
    d.answer("pin_pad.get_pin", value=b"\x00" * 8)
    d.answer("security.check_pin", value={"outcome": "wrong", "tries_left": 2})
    d.answer("pin_pad.get_pin", value=b"\x00" * 8)
    d.answer("security.check_pin", value={"outcome": "ok", "tries_left": 3})
    post = d.pending("bank.transfer")
    assert post.params["idempotency_key"] == key and post.params["journal"]["idempotency_key"] == key
    assert post.params["amount_minor"] == 600_000 and post.params["payee_name"] == "李娜"
    d.answer("bank.transfer", value={"reference": "TR0000000042", "status": "posted", "fee_minor": 0})
    assert d.screen == "transfer_result" and d.journey.view.data["reference"] == "TR0000000042"  # type: ignore[union-attr]


def test_retain_during_reentry_ends_the_transfer_with_retain() -> None:
    d = transfer_to_confirm("6000")
    d.ui("confirm")
    d.answer("pin_pad.get_pin", value=b"\x00" * 8)
    step = d.answer("security.check_pin", value={"outcome": "retain", "tries_left": 0})
    assert step.outcome is not None and step.outcome.status == "retain"


def test_face_sessions_cannot_send_large_transfers_without_a_card() -> None:
    face = CustomerSession("S2", 7, 11, "****0014", auth="face", today=TODAY)
    d = Driver(Transfer(face, CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value="own")
    d.ui("account", value=12)
    d.ui("amount", value="6000")
    d.ui("confirm")
    assert d.screen == "notice" and d.journey.view.data["title_key"] == "transfer.needs_card.title"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "transfer.error.amount_zero"),
        ("12.345", "transfer.error.amount_format"),
        ("50000.01", "transfer.error.amount_max"),
        ("12345.68", "transfer.error.amount_funds"),
    ],
)
def test_amount_limits(value: str, problem: str) -> None:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value="own")
    d.ui("account", value=12)
    d.ui("amount", value=value)
    assert d.screen == "transfer_amount" and d.journey.view.data["error"] == problem  # type: ignore[union-attr]


def test_other_bank_fee_counts_against_the_available_money() -> None:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=[{**ACCOUNTS[0], "available_minor": 10_000}])
    d.ui("kind", value="other_bank")
    d.ui("payee", account="62220000111122223333", name="Zhao Lei", bank_code="102")
    d.ui("amount", value="100.00")
    assert d.journey.view.data["error"] == "transfer.error.amount_funds"  # type: ignore[union-attr]
    d.ui("amount", value="98.00")
    assert d.journey.view.data["total_minor"] == 10_000  # type: ignore[union-attr]


def test_amount_typed_on_the_pin_pad_in_clear_text() -> None:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value="own")
    d.ui("account", value=12)
    d.ui("use_pin_pad")
    for key in "12.5":
        d.event("pin_pad.key_pressed", key=key, mode="clear")
    assert d.journey.view.data["entry"] == "12.5"  # type: ignore[union-attr]
    d.answer("pin_pad.get_amount", value=1250)
    assert d.screen == "transfer_confirm" and d.journey.view.data["amount_minor"] == 1250  # type: ignore[union-attr]


def test_a_bank_failure_that_posted_nothing_says_so() -> None:
    d = transfer_to_confirm("10")
    d.ui("confirm")
    d.answer("bank.transfer", ok=False, value={"posted": False}, code="not_posted")
    assert d.journey.view.data["title_key"] == "transfer.not_done.title"  # type: ignore[union-attr]
    unknown = transfer_to_confirm("10")
    unknown.ui("confirm")
    unknown.answer("bank.transfer", ok=False, value={}, code="unknown")
    assert unknown.journey.view.data["title_key"] == "transfer.unknown.title"  # type: ignore[union-attr]
    refused = transfer_to_confirm("10")
    refused.ui("confirm")
    refused.answer("bank.transfer", value={"refused": "daily_limit"})
    assert refused.journey.view.data["body_key"] == "transfer.refused.daily_limit"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "account", "name", "bank", "problem"),
    [
        ("customer", "0001100000010030", "李娜", "", ""),
        ("customer", "123", "李娜", "", "transfer.error.account"),
        ("customer", "0001100000010030", " ", "", "transfer.error.name"),
        ("other_bank", "62220000111122223333", "Zhao", "102", ""),
        ("other_bank", "62220000111122223333", "Zhao", "888", "transfer.error.own_bank"),
        ("other_bank", "62220000111122223333", "Zhao", "12", "transfer.error.bank_code"),
        ("other_bank", "1234567", "Zhao", "102", "transfer.error.account_other"),
    ],
)
def test_payee_checks(kind: str, account: str, name: str, bank: str, problem: str) -> None:
    assert check_payee(kind, account, name, bank, "888") == problem


def test_history_ranges_and_paging() -> None:
    d = Driver(Enquiry(session(), CONFIG, "history"))
    assert d.screen == "history_range"
    for start, end, error in [
        ("2026-05-02", "2026-05-01", "history.error.order"),
        ("20260501", "20260521", "history.error.future"),
        ("20250101", "20260501", "history.error.too_long"),
        ("2026-13-01", "20260501", "history.error.date"),
    ]:
        d.ui("range", start=start, end=end)
        assert d.journey.view.data["error"] == error  # type: ignore[union-attr]
    d.ui("range", days=7)
    first = d.pending("bank.history")
    assert (first.params["start"], first.params["end"], first.params["before"]) == (
        "2026-05-14",
        "2026-05-20",
        None,
    )
    line = {"date": "2026-05-20", "description": "x", "amount_minor": -1, "balance_minor": 5}
    d.answer("bank.history", value={"lines": [line], "next_cursor": 40})
    assert d.journey.view.data["has_next"] and not d.journey.view.data["has_previous"]  # type: ignore[union-attr]
    d.ui("next")
    assert d.pending("bank.history").params["before"] == 40
    d.answer("bank.history", value={"lines": [line], "next_cursor": None})
    assert d.journey.view.data["page"] == 2 and not d.journey.view.data["has_next"]  # type: ignore[union-attr]
    d.ui("previous")
    assert d.pending("bank.history").params["before"] is None


def test_parse_day() -> None:
    assert parse_day("2024-02-29") == date(2024, 2, 29)
    assert parse_day("20230229") is None and parse_day("2024-2-1") is None


def test_services_menu_asks_anything_else_after_each_service() -> None:
    d = Driver(ServicesMenu(session(), CONFIG))
    d.answer("printer.status", value={"ready": False})
    assert d.journey.view.data["printer_ok"] is False  # type: ignore[union-attr]
    d.ui("balance")
    d.answer("bank.balance", value={"ledger_minor": 1, "available_minor": 1, "pending_minor": 0})
    assert d.journey.child.view.data["printer_ok"] is False  # type: ignore[union-attr]
    d.ui("print")
    assert d.screen == "notice"
    d.ui("continue")
    assert d.screen == "anything_else"
    d.ui("yes")
    assert d.screen == "services_menu"
    d.ui("transfer")
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("cancel")
    assert d.screen == "services_menu"
    assert d.ui("finish").outcome.status == "completed"  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["100.0000000000000000000000000001", "9" * 5000])
def test_an_amount_the_money_rules_refuse_is_shown_as_a_format_error(value: str) -> None:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value="own")
    d.ui("account", value=12)
    d.ui("amount", value=value)
    assert d.screen == "transfer_amount"
    assert d.journey.view.data["error"] == "transfer.error.amount_format"  # type: ignore[union-attr]
    assert "bank.transfer" not in d.kinds()


def test_a_payee_name_typed_with_printer_commands_is_refused_on_the_payee_screen() -> None:
    d = Driver(Transfer(session(), CONFIG))
    d.answer("bank.accounts", value=ACCOUNTS)
    d.ui("kind", value="customer")
    d.ui("payee", account="0001100000010030", name="李娜\x1bp\x00\x1b@\x1dV\x00", bank_code="")
    assert d.screen == "transfer_payee"
    assert d.journey.view.data["error"] == "transfer.error.name_characters"  # type: ignore[union-attr]
    d.ui("payee", account="0001100000010030", name="李娜", bank_code="")
    assert d.screen == "transfer_amount"
