"""Face login end to end: phone or ID number on the keypad, face + liveness against the template enrolled at
opening, then the same services menu as card login. A still photo in front of the camera is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from bank.models import AccountKind
from bank.opening import AccountOpened, OpeningRequest, open_account
from kiosk.biometrics.verify import template_to_bytes

from .conftest import FACES, PERSON_PHOTO, Kiosk

PHONE = "13712345678"
ID_NUMBER = "440305197811051533"


def enrol(kiosk: Kiosk) -> AccountOpened:
    """A customer opened earlier, with the template of the face the virtual person shows."""
    worker = kiosk.services.face_worker()
    analysis = worker.analyse(FACES / PERSON_PHOTO, encoding=True)
    assert getattr(analysis, "encoding", None) is not None
    request = OpeningRequest(
        name="赵建国",
        id_number=ID_NUMBER,
        id_expiry=None,
        phone=PHONE,
        address="广东省深圳市南山区科技园南路18号",
        face_template=template_to_bytes(analysis.encoding),  # type: ignore[union-attr]
        account_kind=AccountKind.SAVINGS,
    )
    opened = open_account(kiosk.host.engine, kiosk.host.vault, request, today=dt.date(2026, 3, 10))
    assert isinstance(opened, AccountOpened)
    return opened


@pytest.mark.parametrize(
    ("lang", "mode", "value"), [("en", "phone", PHONE), ("zh_CN", "id_number", ID_NUMBER)]
)
def test_face_login_reaches_the_services_menu(kiosk: Kiosk, lang: str, mode: str, value: str) -> None:
    opened = enrol(kiosk)
    kiosk.start("face_login", lang)
    identify = kiosk.wait_screen("face_login_identify")
    if mode != "phone":
        identify.mode_buttons[mode].click()
        identify = kiosk.wait_screen("face_login_identify", mode=mode)
    for key in value:
        identify.keypads[mode].press(key)
    assert identify.field.text() == value
    identify.primary_button.click()
    kiosk.wait_screen("face_check", purpose="login")
    assert kiosk.pass_face_check()
    kiosk.wait_screen("services_menu")
    assert kiosk.view is not None and kiosk.view.data["auth"] == "face"
    assert kiosk.view.data["account"] == f"****{opened.account_number[-4:]}"
    names = [
        line.split('"event":"', 1)[1].split('"', 1)[0]
        for line in kiosk.services.journal.path.read_text().splitlines()
    ]
    assert "face_login_lookup" in names and "face_verification" in names


def test_unknown_number_is_told_apart_from_nothing_and_tries_are_limited(kiosk: Kiosk) -> None:
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    identify.field.setText("13800000000")
    identify.primary_button.click()
    identify = kiosk.wait_screen("face_login_identify", error="face_login.error.not_found")
    assert "2" in identify.error_text()  # attempts left
    identify.field.setText("12")
    identify.primary_button.click()
    kiosk.wait_screen("face_login_identify", error="face_login.error.phone")


def test_a_photo_of_the_customer_is_refused(kiosk: Kiosk) -> None:
    enrol(kiosk)
    kiosk.ctl["camera"].call("source", name="photo", photo=PERSON_PHOTO)
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    identify.field.setText(PHONE)
    identify.primary_button.click()
    kiosk.wait_screen("face_check")
    kiosk.pass_face_check(cooperate=False)
    outcome = kiosk.outcome(timeout=30)
    assert outcome.status == "refused"
    assert kiosk.window.current_state() == "message"


def test_cancel_during_the_face_check(kiosk: Kiosk) -> None:
    enrol(kiosk)
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    identify.field.setText(PHONE)
    identify.primary_button.click()
    face = kiosk.wait_screen("face_check")
    face.cancel_button.click()
    assert kiosk.outcome().status == "cancelled"


@pytest.mark.parametrize("fault", ["freeze", "disconnect"])
def test_a_camera_that_freezes_or_drops_mid_check_ends_with_a_clear_message(kiosk: Kiosk, fault: str) -> None:
    """The fault-matrix row for the camera: the journey ends cleanly with the customer message, and the
    technician's view of the driver says the camera is offline."""
    enrol(kiosk)
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    identify.field.setText(PHONE)
    identify.primary_button.click()
    kiosk.wait_screen("face_check")
    kiosk.ctl["camera"].call(fault)
    outcome = kiosk.outcome(timeout=30)
    assert outcome.status == "failed"
    assert outcome.data["message"]["title_key"] == "face_login.failed.title"
    assert outcome.data["message"]["body_key"] == "face_login.failed.camera"
    assert kiosk.window.current_state() == "message"
    camera = kiosk.devices.camera
    assert camera is not None
    kiosk.qtbot.waitUntil(lambda: str(camera.status().state) == "offline", timeout=5000)
