"""Face login as a plain state machine, and its bank look-ups against a real (SQLite) bank."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kiosk.journeys.core import NOTHING, Effect, Event, Journey, Step
from kiosk.journeys.face_login import FaceLoginJourney, FaceLoginRules

ONE_ACCOUNT = {
    "customer_id": 5,
    "has_template": True,
    "accounts": [{"account_id": 8, "masked": "****1234", "kind": "savings"}],
}


def only(step: Step, kind: str) -> Effect:
    matching = [e for e in step.effects if e.kind == kind]
    assert len(matching) == 1, [e.kind for e in step.effects]
    return matching[0]


class Menu(Journey):
    """Stands in for the logged-in services journey: records what it was started with."""

    name = "menu"

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__()
        self.data = dict(data)

    def on_start(self) -> Step:
        return self.go("menu", "services_menu", **self.data)

    def on_menu(self, event: Event) -> Step:
        if event.kind == "ui.exit":
            return self.finish("completed", chosen="exit")
        return NOTHING


def test_phone_then_face_then_the_services_menu() -> None:
    journey = FaceLoginJourney(session_id="S9", services_menu=Menu)
    journey.start()
    assert journey.view is not None and journey.view.screen == "face_login_identify"
    step = journey.handle(Event.ui("submit", mode="phone", value="138 0013 8000"))
    lookup = only(step, "face_login.find_customer")
    assert dict(lookup.params) == {"mode": "phone", "value": "13800138000"}
    step = journey.handle(Event.done(lookup, True, ONE_ACCOUNT))
    face = only(step, "camera.face_check")
    assert face.params["customer_id"] == 5 and face.params["enrol"] is False
    assert "template" not in face.params  # the effect loads it itself
    journey.handle(Event("camera.face_progress", {"prompt": "liveness.turn_left", "challenge": "turn_left"}))
    assert journey.view is not None and journey.view.data["prompt"] == "liveness.turn_left"
    journey.handle(Event.done(face, True, {"matched": True}))
    assert journey.view is not None and journey.view.screen == "services_menu"
    assert journey.view.data["account_id"] == 8 and journey.view.data["auth"] == "face"
    step = journey.handle(Event.ui("exit"))
    assert step.outcome is not None and step.outcome.status == "completed"
    assert step.outcome.data["customer_id"] == 5 and step.outcome.data["chosen"] == "exit"


def test_several_accounts_ask_which_one() -> None:
    journey = FaceLoginJourney()
    journey.start()
    lookup = only(
        journey.handle(Event.ui("submit", mode="id_number", value="11010519491231002x")),
        "face_login.find_customer",
    )
    assert lookup.params["value"] == "11010519491231002X"
    accounts = [
        {"account_id": 1, "masked": "****0001", "kind": "current"},
        {"account_id": 2, "masked": "****0002", "kind": "savings"},
    ]
    face = only(
        journey.handle(
            Event.done(lookup, True, {"customer_id": 3, "has_template": True, "accounts": accounts})
        ),
        "camera.face_check",
    )
    journey.handle(Event.done(face, True, {"matched": True}))
    assert journey.view is not None and journey.view.screen == "face_login_account"
    assert journey.handle(Event.ui("choose", account_id=99)) is NOTHING  # not theirs
    step = journey.handle(Event.ui("choose", account_id=2))
    assert step.outcome is not None and step.outcome.data["account_id"] == 2


@pytest.mark.parametrize(
    ("mode", "value", "error"),
    [
        ("phone", "555-1234", "face_login.error.phone"),
        ("id_number", "110101199003071234", "face_login.error.id_number"),
    ],
)
def test_malformed_numbers_are_refused_on_the_spot(mode: str, value: str, error: str) -> None:
    journey = FaceLoginJourney()
    journey.start()
    step = journey.handle(Event.ui("submit", mode=mode, value=value))
    assert not step.effects
    assert (
        journey.view is not None
        and journey.view.data["error"] == error
        and journey.view.data["value"] == value
    )


def test_unknown_or_unenrolled_customers_get_the_same_answer_and_limited_tries() -> None:
    journey = FaceLoginJourney(FaceLoginRules(lookup_attempts=2))
    journey.start()
    lookup = only(
        journey.handle(Event.ui("submit", mode="phone", value="13800138000")), "face_login.find_customer"
    )
    journey.handle(Event.done(lookup, True, None))
    first = journey.view
    assert first is not None and first.data["error"] == "face_login.error.not_found"
    lookup = only(
        journey.handle(Event.ui("submit", mode="phone", value="13800138001")), "face_login.find_customer"
    )
    step = journey.handle(
        Event.done(lookup, True, {"customer_id": 4, "has_template": False, "accounts": [{}]})
    )
    assert step.outcome is not None and step.outcome.status == "refused"


def test_face_failures_retry_then_refuse_and_liveness_failure_refuses() -> None:
    journey = FaceLoginJourney(FaceLoginRules(face_attempts=2))
    journey.start()
    lookup = only(
        journey.handle(Event.ui("submit", mode="phone", value="13800138000")), "face_login.find_customer"
    )
    face = only(journey.handle(Event.done(lookup, True, ONE_ACCOUNT)), "camera.face_check")
    journey.handle(Event.done(face, True, {"matched": False, "prompt": "face.no_match"}))
    assert journey.view is not None and journey.view.data["retry"] is True
    face = only(journey.handle(Event.ui("retry")), "camera.face_check")
    step = journey.handle(Event.done(face, True, {"matched": False, "prompt": "face.no_match"}))
    assert (
        step.outcome is not None and step.outcome.data["message"]["body_key"] == "face_login.refused.no_match"
    )

    journey = FaceLoginJourney()
    journey.start()
    lookup = only(
        journey.handle(Event.ui("submit", mode="phone", value="13800138000")), "face_login.find_customer"
    )
    face = only(journey.handle(Event.done(lookup, True, ONE_ACCOUNT)), "camera.face_check")
    step = journey.handle(Event.done(face, True, {"matched": False, "liveness_failed": True}))
    assert (
        step.outcome is not None and step.outcome.data["message"]["body_key"] == "face_login.refused.liveness"
    )


def test_cancel_and_timeout() -> None:
    journey = FaceLoginJourney()
    journey.start()
    lookup = only(
        journey.handle(Event.ui("submit", mode="phone", value="13800138000")), "face_login.find_customer"
    )
    face = only(journey.handle(Event.done(lookup, True, ONE_ACCOUNT)), "camera.face_check")
    step = journey.handle(Event.ui("cancel"))
    assert step.outcome is not None and step.outcome.status == "cancelled"
    assert journey.handle(Event.done(face, True, {"matched": True})) is NOTHING
    journey = FaceLoginJourney()
    journey.start()
    step = journey.handle(Event("session.timeout"))
    assert step.outcome is not None and step.outcome.status == "timeout"
