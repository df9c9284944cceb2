"""Account opening: ID card → identity → face + liveness (the virtual person acts on each challenge) →
details → terms → account type → new PIN twice → the card is taken → the new account number, receipt."""

from __future__ import annotations

import time
from typing import Any

from ui.demo import Demo, DemoFailed

DEVICES = ("id_reader", "camera", "pin_pad", "card_dispenser", "printer")
EXPECTED = frozenset({"completed"})
ID_CARD = "zhao_jianguo"
PERSON_PHOTO = "alex_lacamoire_1.png"  # the photo printed on that fixture ID card
NEW_PIN = "258036"


def view_data(demo: Demo) -> dict[str, Any]:
    runner = demo.app.runner
    view = runner.journey.view if runner is not None else None
    return dict(view.data) if view is not None else {}


def act_on_challenges(demo: Demo, timeout: float = 60.0) -> None:
    """The customer in front of the camera does what the screen asks (again, if the prompt stays)."""
    acted: dict[tuple[Any, ...], float] = {}
    shots: set[str] = set()
    deadline = time.monotonic() + timeout
    while demo.screen == "face_check":
        if time.monotonic() > deadline:
            raise DemoFailed("the face check did not finish")
        data = view_data(demo)
        if data.get("retry"):
            demo.snap("retry")
            demo.act("retry")
            continue
        challenge = str(data.get("challenge") or "")
        key = (data.get("attempt"), data.get("liveness_attempt"), data.get("step"), challenge)
        if challenge and time.monotonic() - acted.get(key, -10.0) > 1.5:
            if challenge not in shots:
                shots.add(challenge)
                demo.snap(challenge)
            acted[key] = time.monotonic()
            demo.ctl("camera", "act", action=challenge)
        demo.pump(0.04)


def wait_pad(demo: Demo) -> None:
    demo.wait_until(lambda: demo.ctl("pin_pad", "state")["mode"] == "pin", "the PIN pad to take a PIN")


def run(demo: Demo) -> None:
    demo.ctl("camera", "source", name="virtual_person", photo=PERSON_PHOTO, seed=3)
    demo.ctl("id_reader", "place_card", card_id=ID_CARD)
    demo.start_service("open_account")
    demo.wait_screen("opening_identity")
    demo.act("confirm")
    demo.wait_screen("face_check", timeout=20)
    act_on_challenges(demo)
    details = demo.wait_screen("opening_details", timeout=30)
    details.phone.setText("13912345678")
    details.choose_occupation("professional")
    demo.pump(0.1)
    demo.snap("filled")
    details.on_primary()
    demo.wait_screen("opening_terms")
    demo.act("accept")
    demo.wait_screen("opening_account_type")
    demo.act("choose", {"kind": "savings"})
    pin = demo.wait_screen("opening_pin")
    wait_pad(demo)
    demo.ctl("pin_pad", "press_keys", keys=NEW_PIN[:4])
    demo.wait_until(lambda: pin.dot_count() == 4, "four PIN dots")
    demo.snap("dots")
    demo.ctl("pin_pad", "press_keys", keys=NEW_PIN[4:] + "E")
    demo.wait_until(lambda: view_data(demo).get("stage") == "confirm", "the second PIN entry")
    demo.snap("again")
    wait_pad(demo)
    demo.ctl("pin_pad", "press_keys", keys=NEW_PIN + "E")
    demo.wait_screen("opening_take_card", timeout=20)
    demo.pump(1.0)
    demo.ctl("card_dispenser", "take_card")
    demo.wait_screen("opening_done", timeout=20)
    demo.act("print")
    demo.wait_until(
        lambda: bool(view_data(demo).get("printed") or view_data(demo).get("print_error")), "the receipt"
    )
    demo.pump(0.2)
    demo.snap("printed")
    demo.act("finish")
