"""The seeded face-login customer logs in by face through the real host process: the host's data dir was
seeded with ``bank seed`` (the template computed from the shared photo there), and the camera shows the
virtual person of that same photo — what ``smart-teller run --simulated`` shows by default."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton

from bank.seed import FACE_LOGIN_CUSTOMERS
from simulators.fleet import FACE_LOGIN_CAMERA, camera_options

from .conftest import FACES, PERSON_PHOTO, Kiosk  # type: ignore[import-not-found]

SEEDED = FACE_LOGIN_CUSTOMERS[0]


def test_the_rig_camera_is_what_run_shows_by_default() -> None:
    assert camera_options(FACE_LOGIN_CAMERA, FACES) == {"source": "virtual_person", "photo": PERSON_PHOTO}


def test_the_seeded_customer_logs_in_by_face(kiosk: Kiosk) -> None:
    # Nothing enrolled here: the template is the one the seed stored at the host.
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    for key in SEEDED.phone:
        identify.keypads["phone"].press(key)
    identify.primary_button.click()
    kiosk.wait_screen("face_check", purpose="login")
    assert kiosk.pass_face_check()
    choose = kiosk.wait_screen("face_login_account")
    view = kiosk.view
    assert view is not None
    shown = {account["masked"] for account in view.data["accounts"]}
    assert shown == {f"****{account.number[-4:]}" for account in SEEDED.accounts}
    first = view.data["accounts"][0]
    choose.findChild(QAbstractButton, f"account-{first['account_id']}").click()
    kiosk.wait_screen("services_menu")
    assert kiosk.view is not None and kiosk.view.data["auth"] == "face"
    assert kiosk.view.data["account"] == first["masked"]


def test_someone_else_in_front_of_the_camera_is_not_the_seeded_customer(kiosk: Kiosk) -> None:
    kiosk.ctl["camera"].call("source", name="virtual_person", photo="obama_1.jpg", seed=3)
    kiosk.start("face_login")
    identify = kiosk.wait_screen("face_login_identify")
    identify.mode_buttons["id_number"].click()
    identify = kiosk.wait_screen("face_login_identify", mode="id_number")
    identify.field.setText(SEEDED.id_number)
    identify.primary_button.click()
    kiosk.wait_screen("face_check", purpose="login")
    kiosk.pass_face_check()
    kiosk.wait_screen("face_check", retry=True, timeout=30)
