"""Account opening as a plain state machine: every step, refusal, failure and the all-or-nothing rule,
plus the bank-side void against a real (SQLite) bank."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.journeys.core import Effect, Event, Step
from kiosk.journeys.opening import (
    OpeningJourney,
    OpeningRules,
    masked_phone,
    valid_phone,
)

TODAY = dt.date(2026, 3, 10)
GOOD_ID = {
    "name": "李明华",
    "sex": "男",
    "sex_en": "male",
    "ethnicity": "汉",
    "birth_date": "1985-03-12",
    "address": "北京市朝阳区建国路88号院3号楼1单元502室",
    "id_number": "110105198503122317",
    "authority": "北京市公安局朝阳分局",
    "valid_from": "2015-06-01",
    "valid_until": "2035-06-01",
    "check_digit_ok": True,
    "photo": b"\xff\xd8jpeg",
}
OPENED = {
    "customer_id": 7,
    "account_id": 9,
    "card_id": 11,
    "account_number": "6222020000123456",
    "pan": "6288880000000000012",
    "pan_masked": "628888******0012",
    "card_expiry": "3603",
}


def only(step: Step, kind: str) -> Effect:
    matching = [e for e in step.effects if e.kind == kind]
    assert len(matching) == 1, [e.kind for e in step.effects]
    return matching[0]


def screen(journey: OpeningJourney) -> str:
    assert journey.view is not None
    return journey.view.screen


class Driver:
    """Walks a journey through its steps, answering its effects the way the handlers would."""

    def __init__(self, rules: OpeningRules | None = None) -> None:
        self.journey = OpeningJourney(rules or OpeningRules(), today=TODAY, session_id="S1")
        self.step = self.journey.start()

    def answer(self, kind: str, ok: bool = True, value: Any = None, code: str = "") -> Step:
        effect = only(self.step, kind)
        self.step = self.journey.handle(Event.done(effect, ok, value, code))
        return self.step

    def ui(self, action: str, **data: Any) -> Step:
        self.step = self.journey.handle(Event.ui(action, **data))
        return self.step

    def to_identity(self, identity: dict[str, Any] | None = None) -> None:
        self.answer("id_reader.read", value=identity or GOOD_ID)
        self.answer("opening.is_customer", value=False)
        assert screen(self.journey) == "opening_identity"

    def to_details(self) -> None:
        self.to_identity()
        self.ui("confirm")
        self.answer("camera.face_check", value={"matched": True, "template": b"T" * 1024})
        assert screen(self.journey) == "opening_details"

    def to_pin(self) -> None:
        self.to_details()
        self.ui("submit", phone="138 0013 8000", address=GOOD_ID["address"], occupation="employee")
        self.ui("accept")
        self.ui("choose", kind="savings")
        self.answer("card_dispenser.ready")
        self.answer("opening.open_account", value=dict(OPENED))
        assert screen(self.journey) == "opening_pin"

    def to_take_card(self) -> None:
        self.to_pin()
        self.answer("opening.set_pin", value="ok")
        self.journey.handle(Event("card_dispenser.card_presented"))  # self.step keeps the dispense effect
        assert screen(self.journey) == "opening_take_card"


def test_the_happy_path_opens_an_account_and_shows_its_number() -> None:
    d = Driver()
    assert screen(d.journey) == "opening_id"
    read = only(d.step, "id_reader.read")
    assert read.params["journal"] == {"purpose": "account_opening"}
    d.to_identity()
    view = d.journey.view
    assert view is not None and view.data["name"] == "李明华" and view.data["refusal"] == ""
    face = only(d.ui("confirm"), "camera.face_check")
    assert face.params["reference_photo"] == GOOD_ID["photo"] and face.params["enrol"] is True
    # Liveness prompts arrive as progress events and re-render the face screen.
    d.journey.handle(Event("camera.face_progress", {"prompt": "liveness.blink", "challenge": "blink"}))
    assert d.journey.view is not None and d.journey.view.data["challenge"] == "blink"
    d.answer("camera.face_check", value={"matched": True, "template": b"T" * 1024})
    details = d.journey.view
    assert details is not None and details.data["address"] == GOOD_ID["address"]  # pre-filled from the ID
    d.ui("submit", phone="138-0013-8000", address="  上海市 徐汇区  漕溪北路595号 ", occupation="student")
    assert screen(d.journey) == "opening_terms"
    d.ui("accept")
    assert screen(d.journey) == "opening_account_type"
    d.ui("choose", kind="current")
    d.answer("card_dispenser.ready")
    opening = only(d.step, "opening.open_account")
    assert opening.params["phone"] == "13800138000"
    assert opening.params["address"] == "上海市 徐汇区 漕溪北路595号"
    assert opening.params["occupation"] == "student" and opening.params["account_kind"] == "current"
    assert opening.params["face_template"] == b"T" * 1024 and opening.params["id_expiry"] == "2035-06-01"
    d.answer("opening.open_account", value=dict(OPENED))
    pin = only(d.step, "opening.set_pin")
    assert pin.params["pan"] == OPENED["pan"] and "journal" not in pin.params
    # The pad's masked keys move the dots; the stage switch resets them.
    for key in ("*", "*", "*", "BACKSPACE", "*"):
        d.journey.handle(Event("opening.pin_key", {"key": key}))
    assert d.journey.view is not None and d.journey.view.data["count"] == 3
    d.journey.handle(Event("opening.pin_stage", {"stage": "confirm"}))
    assert d.journey.view.data["stage"] == "confirm" and d.journey.view.data["count"] == 0
    d.answer("opening.set_pin", value="ok")
    dispense = only(d.step, "card_dispenser.dispense")
    assert dispense.params["journal"]["pan_masked"] == OPENED["pan_masked"]
    assert OPENED["pan"] not in str(dispense.params["journal"])
    d.journey.handle(Event("card_dispenser.card_presented"))
    assert screen(d.journey) == "opening_take_card"
    d.answer("card_dispenser.dispense", value=True)
    d.answer("opening.activate_card")
    done = d.journey.view
    assert done is not None and done.screen == "opening_done"
    assert done.data["account_number"] == OPENED["account_number"]
    assert OPENED["pan"] not in str([v.data for v in [done]])
    d.ui("print")
    d.answer("opening.print_receipt")
    assert d.journey.view is not None and d.journey.view.data["printed"] is True
    d.ui("finish")
    assert d.journey.outcome is not None and d.journey.outcome.status == "completed"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"valid_until": "2020-01-01"}, "id_expired"),
        ({"id_number": "110105201603102318", "birth_date": "2016-03-10"}, "under_age"),
        ({"id_number": "110105198503122310", "check_digit_ok": False}, "bad_check_digit"),
    ],
)
def test_an_id_that_fails_kyc_is_shown_with_a_clear_refusal(change: dict[str, Any], reason: str) -> None:
    d = Driver()
    step = d.answer("id_reader.read", value={**GOOD_ID, **change})
    assert not step.effects  # no bank look-up, no face check: nothing more happens
    view = d.journey.view
    assert view is not None and view.screen == "opening_identity" and view.data["refusal"] == reason
    d.ui("confirm")  # the screen only offers "finish", but a stray confirm must not open the face check
    assert d.journey.outcome is not None and d.journey.outcome.status == "refused"
    assert d.journey.outcome.data["reason"] == reason


def test_an_existing_customer_is_refused_before_the_face_check() -> None:
    d = Driver()
    d.answer("id_reader.read", value=GOOD_ID)
    d.answer("opening.is_customer", value=True)
    assert d.journey.view is not None and d.journey.view.data["refusal"] == "duplicate_id"


def test_id_read_errors_allow_retries_then_end_without_storing_anything() -> None:
    d = Driver(OpeningRules(id_read_attempts=2))
    d.answer("id_reader.read", ok=False, code="hardware_error")
    assert d.journey.view is not None and d.journey.view.data["error"] == "opening.id.read_error"
    d.ui("retry")
    d.answer("id_reader.read", ok=False, code="timeout")
    assert d.journey.outcome is not None and d.journey.outcome.data["reason"] == "id_unreadable"


def test_an_offline_id_reader_ends_the_journey_with_a_device_message() -> None:
    d = Driver()
    d.answer("id_reader.read", ok=False, code="offline")
    outcome = d.journey.outcome
    assert outcome is not None and outcome.status == "failed"
    assert outcome.data["message"]["body_key"] == "opening.failed.device"


def test_face_attempts_are_limited_and_a_failed_liveness_refuses_at_once() -> None:
    d = Driver(OpeningRules(face_attempts=2))
    d.to_identity()
    d.ui("confirm")
    d.answer("camera.face_check", value={"matched": False, "prompt": "face.no_match"})
    view = d.journey.view
    assert view is not None and view.data["retry"] is True and view.data["prompt"] == "face.no_match"
    d.ui("retry")
    d.answer("camera.face_check", value={"matched": False, "prompt": "face.no_match"})
    assert d.journey.outcome is not None and d.journey.outcome.data["reason"] == "face_no_match"

    d = Driver()
    d.to_identity()
    d.ui("confirm")
    d.answer("camera.face_check", value={"matched": False, "liveness_failed": True})
    assert d.journey.outcome is not None and d.journey.outcome.data["reason"] == "face_liveness"


def test_details_are_validated_and_kept_when_shown_again() -> None:
    d = Driver()
    d.to_details()
    d.ui("submit", phone="12345", address="abc", occupation="astronaut")
    view = d.journey.view
    assert view is not None and view.screen == "opening_details"
    assert set(view.data["errors"]) == {"phone", "address", "occupation"}
    assert view.data["phone"] == "12345"  # what the customer typed stays in the fields


def test_no_cards_refuses_before_the_bank_writes_anything() -> None:
    d = Driver()
    d.to_details()
    d.ui("submit", phone="13800138000", address=GOOD_ID["address"], occupation="employee")
    d.ui("accept")
    d.ui("choose", kind="savings")
    step = d.answer("card_dispenser.ready", ok=False, code="stock_empty")
    assert not step.effects
    assert d.journey.outcome is not None and d.journey.outcome.data["reason"] == "no_cards"


def test_a_bank_refusal_is_shown() -> None:
    d = Driver()
    d.to_details()
    d.ui("submit", phone="13800138000", address=GOOD_ID["address"], occupation="employee")
    d.ui("accept")
    d.ui("choose", kind="savings")
    d.answer("card_dispenser.ready")
    d.answer("opening.open_account", value={"refused": "duplicate_id"})
    assert d.journey.outcome is not None and d.journey.outcome.data["reason"] == "duplicate_id"


def test_pin_mismatch_retries_then_voids_the_opening() -> None:
    d = Driver(OpeningRules(pin_attempts=2))
    d.to_pin()
    d.answer("opening.set_pin", ok=False, value="mismatch", code="mismatch")
    assert d.journey.view is not None and d.journey.view.data["error"] == "opening.pin.mismatch"
    d.answer("opening.set_pin", ok=False, value="weak", code="weak")
    void = only(d.step, "opening.void")
    assert (void.params["customer_id"], void.params["account_id"], void.params["card_id"]) == (7, 9, 11)
    d.answer("opening.void", value=True)
    outcome = d.journey.outcome
    assert outcome is not None and outcome.status == "failed" and outcome.data["voided"] is True


@pytest.mark.parametrize("stage", ["pin", "terms", "details", "identity", "face", "read_id"])
def test_cancel_at_each_step_voids_only_what_was_written(stage: str) -> None:
    d = Driver()
    if stage == "identity":
        d.to_identity()
    elif stage == "face":
        d.to_identity()
        d.ui("confirm")
    elif stage == "details":
        d.to_details()
    elif stage == "terms":
        d.to_details()
        d.ui("submit", phone="13800138000", address=GOOD_ID["address"], occupation="employee")
    elif stage == "pin":
        d.to_pin()
    step = d.ui("cancel")
    if stage == "pin":
        d.answer("opening.void", value=True)
        assert d.journey.outcome is not None and d.journey.outcome.data["voided"] is True
    else:
        assert [e.kind for e in step.effects] == []
    assert d.journey.outcome is not None and d.journey.outcome.status == "cancelled"
    assert d.journey.awaiting == []


def test_cancel_while_the_card_is_being_made_is_ignored() -> None:
    d = Driver()
    d.to_take_card()
    assert d.ui("cancel").outcome is None
    assert d.journey.awaiting == ["card_dispenser.dispense"]


def test_a_card_left_at_the_gate_is_captured_and_the_opening_voided() -> None:
    d = Driver()
    d.to_take_card()
    d.answer("card_dispenser.dispense", ok=False, value=False, code="timeout")
    capture = only(d.step, "card_dispenser.capture")
    assert capture.params["journal"]["reason"] == "not_taken"
    d.answer("card_dispenser.capture")
    d.answer("opening.void", value=True)
    outcome = d.journey.outcome
    assert outcome is not None and outcome.data["reason"] == "card_not_taken"
    assert outcome.data["message"]["body_key"] == "opening.captured.body"


@pytest.mark.parametrize(
    ("code", "body"),
    [("stock_empty", "opening.failed.no_cards"), ("media_jammed", "opening.failed.dispenser")],
)
def test_a_dispenser_failure_voids_the_opening(code: str, body: str) -> None:
    d = Driver()
    d.to_pin()
    d.answer("opening.set_pin", value="ok")
    d.answer("card_dispenser.dispense", ok=False, code=code)
    d.answer("opening.void", value=True)
    outcome = d.journey.outcome
    assert outcome is not None and outcome.status == "failed" and outcome.data["message"]["body_key"] == body


def test_idle_timeout_after_the_bank_step_voids() -> None:
    d = Driver()
    d.to_pin()
    d.step = d.journey.handle(Event("session.timeout"))
    d.answer("opening.void", value=True)
    assert d.journey.outcome is not None and d.journey.outcome.status == "timeout"


def test_late_results_after_cancel_are_dropped() -> None:
    d = Driver()
    read = only(d.step, "id_reader.read")
    d.ui("cancel")
    assert d.journey.handle(Event.done(read, True, GOOD_ID)).view is None


def test_phone_rules() -> None:
    assert valid_phone("13800138000") and valid_phone("138 0013 8000") and valid_phone("199-1234-5678")
    assert (
        not valid_phone("12800138000")
        and not valid_phone("1380013800")
        and not valid_phone("１３８００１３８０００")
    )
    assert masked_phone("13800138000") == "138****8000"
