"""Change PIN as a plain state machine, inside a whole card session: effects out, answers in, no Qt."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.journeys.card_login import CardJourney
from kiosk.journeys.core import Effect, Event, Journey, Step
from kiosk.journeys.pin_change import PinChange
from kiosk.journeys.session import CustomerSession, ServicesMenu, SessionConfig

PAN = "43219876543210987"
MASKED = "432198*******0987"
TODAY = date(2026, 5, 20)
CONFIG = SessionConfig(take_card_timeout_s=30, take_card_warning_s=10)
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
CURRENT, NEW, OTHER = b"\x11" * 8, b"\x22" * 8, b"\x33" * 8


class Driver:
    """Feeds a journey and remembers the effects it asked for (what the runner would do)."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.effects: list[Effect] = []
        self._keep(journey.start())

    def _keep(self, step: Step) -> Step:
        self.effects.extend(step.effects)
        return step

    def pending(self, kind: str) -> Effect:
        matches = [e for e in self.effects if e.kind == kind and self.journey.is_awaiting(e.id)]
        assert matches, f"no pending {kind}; awaiting {self.journey.awaiting}"
        return matches[-1]

    def answer(self, kind: str, ok: bool = True, value: Any = None, code: str = "") -> Step:
        return self._keep(self.journey.handle(Event.done(self.pending(kind), ok, value, code)))

    def ui(self, action: str, **data: Any) -> Step:
        return self._keep(self.journey.handle(Event.ui(action, **data)))

    def event(self, kind: str, **data: Any) -> Step:
        return self._keep(self.journey.handle(Event(kind, data)))

    def innermost(self) -> Journey:
        journey = self.journey
        while journey.child is not None:
            journey = journey.child
        return journey

    @property
    def screen(self) -> str:
        view = self.innermost().view
        return view.screen if view else ""

    @property
    def data(self) -> dict[str, Any]:
        view = self.innermost().view
        return dict(view.data) if view else {}

    def kinds(self) -> list[str]:
        return [e.kind for e in self.effects]

    def enter(self, block: bytes) -> None:
        """The customer types a PIN and ENTER; the pad answers with its block."""
        assert self.screen == "pin_entry", self.screen
        self.answer("pin_pad.get_pin", value=block)


def card_session() -> Driver:
    d = Driver(CardJourney("S1", "en", CONFIG, TODAY))
    d.answer("card_reader.wait_for_card", value="inside")
    d.answer("card_reader.read", value={"pan": PAN, "pan_masked": MASKED, "expiry": "3012"})
    d.answer("bank.card_lookup", value=CARD_ROW)
    d.answer("pin_pad.get_pin", value=b"\x01" * 8)
    d.answer("security.check_pin", value={"outcome": "ok", "tries_left": 3})
    d.answer("printer.status", value={"ready": True})
    assert d.screen == "services_menu"
    return d


def change_pin_started() -> Driver:
    d = card_session()
    assert "change_pin" in [e["action"] for e in d.data["extra"]]
    d.ui("change_pin")
    assert isinstance(d.innermost(), PinChange)
    return d


def up_to_the_bank(d: Driver, current: bytes = CURRENT, new: bytes = NEW) -> Effect:
    assert d.data["title_key"] == "pin_change.current.title"
    d.enter(current)
    assert d.data["title_key"] == "pin_change.new.title"
    d.enter(new)
    assert d.data["title_key"] == "pin_change.confirm.title"
    d.enter(new)
    assert d.screen == "card_wait" and d.data["message_key"] == "pin_change.wait"
    return d.pending("bank.change_pin")


def blocks_gone(journey: Journey) -> bool:
    state = repr(vars(journey)).encode("latin-1", "replace")
    return all(block not in state for block in (CURRENT, NEW, OTHER))


def test_the_pin_is_changed_with_the_blocks_as_the_pad_made_them_then_anything_else() -> None:
    d = change_pin_started()
    journey = d.innermost()
    assert d.data == {
        "digits": 0,
        "max_digits": 6,
        "tries_left": 3,
        "error": "",
        "title_key": "pin_change.current.title",
        "body_key": "pin_change.current.body",
    }
    assert d.pending("pin_pad.get_pin").params == {"pan": PAN, "min_len": 4, "max_len": 6, "timeout": 30.0}
    for key in ["*", "*", "BACKSPACE", "*", "*", "*", "F1"]:
        d.event("pin_pad.key_pressed", key=key, mode="pin")
    assert d.data["digits"] == 4
    change = up_to_the_bank(d)
    assert change.params == {
        "pan": PAN,
        "old_block": CURRENT,
        "new_block": NEW,
        "session_id": "S1",
    }  # nothing for the dispatcher's journal: the effect journals the outcome with the masked PAN
    d.answer("bank.change_pin", value={"outcome": "changed"}, code="changed")
    assert d.screen == "notice"
    assert (d.data["kind"], d.data["title_key"], d.data["buttons"]) == (
        "success",
        "pin_change.done.title",
        ["ok"],
    )
    assert blocks_gone(journey) and PAN not in repr(journey) and MASKED in repr(journey)
    d.ui("ok")
    assert d.screen == "anything_else"
    assert journey.outcome is not None and journey.outcome.status == "completed"
    assert dict(journey.outcome.data) == {"changed": True}


def test_two_different_new_pins_say_so_and_ask_for_the_new_pin_again() -> None:
    d = change_pin_started()
    d.enter(CURRENT)
    d.enter(NEW)
    d.enter(OTHER)  # the blocks differ: the PINs differ
    assert "bank.change_pin" not in d.kinds()
    assert (d.data["title_key"], d.data["error"]) == ("pin_change.new.title", "pin_change.mismatch")
    d.enter(OTHER)
    d.enter(OTHER)
    assert d.pending("bank.change_pin").params["new_block"] == OTHER
    assert d.pending("bank.change_pin").params["old_block"] == CURRENT


def test_a_wrong_current_pin_shows_the_tries_left_and_asks_only_for_the_current_pin_again() -> None:
    d = change_pin_started()
    up_to_the_bank(d, current=OTHER)
    d.answer("bank.change_pin", value={"outcome": "wrong", "tries_left": 2}, code="wrong")
    assert d.screen == "pin_entry"
    assert (d.data["title_key"], d.data["error"], d.data["tries_left"]) == (
        "pin_change.current.title",
        "pin_change.wrong",
        2,
    )
    d.enter(CURRENT)  # the new PIN, entered twice already, is kept
    change = d.pending("bank.change_pin")
    assert (change.params["old_block"], change.params["new_block"]) == (CURRENT, NEW)
    d.answer("bank.change_pin", value={"outcome": "changed"}, code="changed")
    d.ui("ok")
    assert d.screen == "anything_else"


def test_the_third_wrong_current_pin_retains_the_card_as_at_login() -> None:
    d = change_pin_started()
    journey = d.innermost()
    up_to_the_bank(d, current=OTHER)
    for left in (2, 1):
        d.answer("bank.change_pin", value={"outcome": "wrong", "tries_left": left}, code="wrong")
        d.enter(OTHER)
    d.answer("bank.change_pin", value={"outcome": "retain", "tries_left": 0}, code="retain")
    assert blocks_gone(journey)
    capture = d.pending("card_reader.capture")
    assert capture.params["journal"] == {"pan": MASKED, "reason": "retain.pin_change"}
    d.answer("card_reader.capture")
    receipt = d.pending("printer.print")
    assert receipt.params["kind"] == "retain" and receipt.params["data"] == {
        "reason_key": "retain.pin_change"
    }
    d.answer("printer.print")
    assert d.journey.outcome is not None and d.journey.outcome.status == "retained"
    msg = d.journey.outcome.data["message"]
    assert (msg["title_key"], msg["body_key"]) == ("retain.pin.title", "retain.pin.body")
    assert "card_reader.eject" not in d.kinds()  # kept, not returned


def test_a_weak_new_pin_is_refused_by_the_host_and_a_new_one_asked_for() -> None:
    d = change_pin_started()
    up_to_the_bank(d)
    d.answer("bank.change_pin", value={"outcome": "weak"}, code="weak")
    assert (d.data["title_key"], d.data["error"]) == ("pin_change.new.title", "pin_change.weak")
    d.enter(OTHER)
    d.enter(OTHER)
    change = d.pending("bank.change_pin")
    assert (change.params["old_block"], change.params["new_block"]) == (CURRENT, OTHER)


def test_three_new_pins_not_taken_change_nothing() -> None:
    d = change_pin_started()
    journey = d.innermost()
    up_to_the_bank(d)
    d.answer("bank.change_pin", value={"outcome": "weak"}, code="weak")
    d.enter(NEW)
    d.enter(OTHER)  # mismatch
    d.enter(NEW)
    d.enter(NEW)
    d.answer("bank.change_pin", value={"outcome": "weak"}, code="weak")
    assert d.screen == "notice"
    assert (d.data["title_key"], d.data["body_key"]) == (
        "pin_change.refused.title",
        "pin_change.too_many.body",
    )
    assert blocks_gone(journey)
    d.ui("ok")
    assert d.screen == "anything_else"


def test_no_host_answer_says_nothing_was_changed() -> None:
    d = change_pin_started()
    up_to_the_bank(d)
    d.ui("cancel")  # the host is at it: its answer decides
    d.answer("bank.change_pin", ok=False, value={"outcome": "host_unavailable"}, code="host_unavailable")
    assert (d.data["kind"], d.data["title_key"], d.data["body_key"]) == (
        "error",
        "pin_change.unavailable.title",
        "pin_change.unavailable.body",
    )
    d.ui("ok")
    assert d.screen == "anything_else"


def test_without_the_card_link_the_change_is_not_available() -> None:
    d = change_pin_started()
    up_to_the_bank(d)
    d.answer("bank.change_pin", ok=False, value={"outcome": "not_available"}, code="not_available")
    assert (d.data["title_key"], d.data["body_key"]) == (
        "pin_change.not_available.title",
        "pin_change.not_available.body",
    )


def test_other_refusals_say_the_pin_could_not_be_changed() -> None:
    d = change_pin_started()
    up_to_the_bank(d)
    d.answer("bank.change_pin", value={"outcome": "refused", "reason": "card_blocked"}, code="refused")
    assert (d.data["title_key"], d.data["body_key"]) == (
        "pin_change.refused.title",
        "pin_change.refused.body",
    )


def test_cancel_on_the_screen_or_the_pad_goes_back_to_the_menu_and_a_pad_fault_ends_the_session() -> None:
    d = change_pin_started()
    d.enter(CURRENT)
    d.ui("cancel")
    assert d.screen == "services_menu"
    d.ui("change_pin")
    d.answer("pin_pad.get_pin", ok=False, code="cancelled")  # CANCEL on the pad
    assert d.screen == "services_menu"
    d.ui("change_pin")
    d.answer("pin_pad.get_pin", ok=False, code="hardware_error")
    assert d.pending("card_reader.eject")  # the card goes back first
    d.answer("card_reader.eject", value=True)
    assert d.journey.outcome is not None and d.journey.outcome.status == "failed"
    assert d.journey.outcome.data["message"]["title_key"] == "error.pin_pad.title"


def test_an_idle_timeout_during_the_entries_ends_the_session() -> None:
    d = change_pin_started()
    d.enter(CURRENT)
    d.event("session.timeout")
    assert d.pending("card_reader.eject")


def test_not_offered_after_a_face_login() -> None:
    session = CustomerSession("S2", customer_id=7, account_id=11, account_masked="****0014", auth="face")
    d = Driver(ServicesMenu(session, CONFIG))
    assert "change_pin" not in [e["action"] for e in d.data["extra"]]
    assert {"bill_payment", "loan", "wealth_advice"} <= {e["action"] for e in d.data["extra"]}
    d.ui("change_pin")
    assert d.screen == "services_menu" and d.journey.child is None
