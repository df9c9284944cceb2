"""Face login: a customer opened earlier (enrolled here directly, with the template of the face the virtual
person shows) types their phone number, passes face + liveness, and lands in the services menu."""

from __future__ import annotations

from pathlib import Path

from hostlink import api
from ui.demo import Demo, DemoFailed
from ui.demo.open_account import PERSON_PHOTO, act_on_challenges

DEVICES = ("camera", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
PHONE = "13712345678"
FACES = Path(__file__).resolve().parents[3] / "shared" / "faces"


ID_NUMBER = "440305197811051533"  # the same person as the account-opening demo's ID card


def enrol(demo: Demo) -> str:
    """Make sure the customer exists with a face template; returns how to pick them ("phone" or
    "id_number"). On a data dir where the account-opening demo (or this one) already ran, the customer is
    there with the template stored at opening, so the demo picks them by ID number instead."""
    services = demo.app.services
    if services.host.is_customer(ID_NUMBER):
        return "id_number"
    analysis = services.face_worker().analyse(FACES / PERSON_PHOTO, encoding=True)
    encoding = getattr(analysis, "encoding", None)
    if encoding is None:
        raise DemoFailed(f"no face found in {PERSON_PHOTO}")
    # Opened through the host, as the account-opening journey would, with the face the virtual person shows.
    order = api.OpeningOrder(
        idempotency_key=api.new_idempotency_key("DEMO"),
        name="赵建国",
        id_number=ID_NUMBER,
        id_expiry=None,
        phone=PHONE,
        address="广东省深圳市南山区科技园南路18号",
        face_template=[float(x) for x in encoding],
        account_kind="savings",
    )
    opened = services.host.open_account(order)
    if opened.refused:
        raise DemoFailed(f"enrolment refused: {opened.refused}")
    services.host.set_card_status(opened.card_id, "active", "demo", api.new_idempotency_key("DEMO"))
    return "phone"


def run(demo: Demo) -> None:
    demo.ctl("camera", "source", name="virtual_person", photo=PERSON_PHOTO, seed=3)
    mode = enrol(demo)
    demo.start_service("face_login")
    identify = demo.wait_screen("face_login_identify")
    if mode == "id_number":
        identify.mode_buttons["id_number"].click()
        demo.pump(0.2)
        identify = demo.wait_screen("face_login_identify")
    for key in PHONE if mode == "phone" else ID_NUMBER:
        identify.keypads[mode].press(key)
    demo.pump(0.1)
    demo.snap("typed")
    identify.on_primary()
    demo.wait_screen("face_check", timeout=20)
    act_on_challenges(demo)
    demo.wait_screen("services_menu", timeout=30)
    demo.act("finish")
