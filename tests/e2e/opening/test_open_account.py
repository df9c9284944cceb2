"""Account opening end to end: the touchscreen, real drivers, simulators, the bank, the HSM and the face
worker. The virtual person in front of the camera acts on each liveness challenge through the camera
simulator's control API, as a customer would."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.models import Account, Card, CardStatus, Customer
from kiosk.biometrics.verify import template_from_bytes
from simulators.id_reader.cards import FIXTURE_CARDS
from tests.screen_audit import ScreenAudit

from .conftest import Kiosk

NEW_PIN = "258036"


def customers(kiosk: Kiosk) -> tuple[int, int, int]:
    with Session(kiosk.host.engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(Account)) or 0,
            session.scalar(select(func.count()).select_from(Card)) or 0,
        )


def journal_events(kiosk: Kiosk) -> list[dict[str, Any]]:
    return [json.loads(line) for line in kiosk.services.journal.path.read_text(encoding="utf-8").splitlines()]


def to_details(kiosk: Kiosk, lang: str = "en", card: str = "zhao_jianguo") -> None:
    kiosk.ctl["id_reader"].call("place_card", card_id=card)
    kiosk.start("open_account", lang)
    identity = kiosk.wait_screen("opening_identity")
    assert identity.values["name"].text() == "赵建国"
    assert identity.refused() is False
    identity.primary_button.click()
    kiosk.wait_screen("face_check")
    challenges = kiosk.pass_face_check()
    assert len(challenges) >= 2 and "blink" in challenges
    kiosk.wait_screen("opening_details")


def to_pin(kiosk: Kiosk, kind: str = "savings") -> Any:
    details = kiosk.screen()
    assert details.address.text() == "广东省深圳市南山区科技园南路18号"  # pre-filled from the ID card
    details.phone.setText("13912345678")
    details.occupation_buttons[
        "engineer" if "engineer" in details.occupation_buttons else "professional"
    ].click()
    details.primary_button.click()
    kiosk.wait_screen("opening_terms").primary_button.click()
    kiosk.wait_screen("opening_account_type").kind_buttons[kind].click()
    return kiosk.wait_screen("opening_pin", stage="first")


def pad_waits_for_pin(kiosk: Kiosk) -> None:
    """The customer types once the pad is in PIN entry (keys pressed before that are not PIN digits)."""
    kiosk.qtbot.waitUntil(lambda: kiosk.ctl["pin_pad"].call("state")["mode"] == "pin", timeout=5000)  # type: ignore[index]


def enter_new_pin(kiosk: Kiosk, first: str = NEW_PIN, second: str = NEW_PIN) -> None:
    pin = kiosk.wait_screen("opening_pin", stage="first")
    pad_waits_for_pin(kiosk)
    kiosk.ctl["pin_pad"].call("press_keys", keys=first[:3])
    kiosk.qtbot.waitUntil(lambda: pin.dot_count() == 3, timeout=5000)  # the screen follows the pad's keys
    kiosk.ctl["pin_pad"].call("press_keys", keys=first[3:] + "E")
    kiosk.wait_screen("opening_pin", stage="confirm")
    pad_waits_for_pin(kiosk)
    kiosk.ctl["pin_pad"].call("press_keys", keys=second + "E")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_open_an_account_end_to_end(kiosk: Kiosk, lang: str) -> None:
    # Every screen of the journey, as it shows: never the full ID number, no faint text, and in Chinese
    # no English word left untranslated.
    id_number = FIXTURE_CARDS["zhao_jianguo"].identity.id_number
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang), secrets=(id_number,)).start()
    to_details(kiosk, lang)
    to_pin(kiosk)
    enter_new_pin(kiosk)
    take = kiosk.wait_screen("opening_take_card")
    assert take.countdown.is_running()
    kiosk.ctl["card_dispenser"].call("take_card")
    done = kiosk.wait_screen("opening_done")
    number = kiosk.view.data["account_number"]  # type: ignore[union-attr]
    assert done.number.text().replace(" ", "") == number
    expected_title = "开户成功" if lang == "zh_CN" else "Your account is open"
    assert done._title.text() == expected_title
    done.print_button.click()
    kiosk.qtbot.waitUntil(
        lambda: kiosk.view is not None and kiosk.view.data.get("printed") is True, timeout=10000
    )
    assert number in kiosk.printer.device.receipts[-1].text
    # The copies left on disk (the terminal's and the printer's) hold neither the new account number nor
    # the customer's name in full, and only the kiosk's user can read them.
    copies = sorted((kiosk.services.settings.data_dir / "receipts").glob("account_opening-*.txt"))
    copies += sorted(kiosk.printer.device.out_dir.glob("receipt-*"))
    assert len(copies) == 2, copies
    for copy in copies:
        raw = copy.read_bytes()
        assert number.encode() not in raw and "赵建国".encode() not in raw, copy
        assert number[-4:].encode() in raw  # masked, not dropped: the dispute team can still match it
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    audit.check_now()
    audit.stop()
    assert {"opening_identity", "opening_details", "opening_pin", "opening_done"} <= audit.screens
    assert audit.report() == []
    done.primary_button.click()
    assert kiosk.outcome().status == "completed"

    with Session(kiosk.host.engine) as session:
        account = session.scalars(select(Account).where(Account.number == number)).one()
        card = session.scalars(select(Card).where(Card.account_id == account.id)).one()
        customer = session.get(Customer, account.customer_id)
        assert account.kind == "savings" and card.status == CardStatus.ACTIVE.value and card.pvv
        assert (
            customer is not None and customer.phone == "13912345678" and customer.occupation == "professional"
        )
        assert customer.face_template is not None and template_from_bytes(customer.face_template) is not None
    # The new PIN works with the host's HSM: the PIN the customer typed twice, enciphered as the pad does.
    from bank.security.pins import PinCheck
    from hostlink.pinblock import encrypt_pin_block

    new_pan = kiosk.app.runner.journey._opened["pan"]  # type: ignore[union-attr]
    pin_key = bytes.fromhex(kiosk.host.settings.security.pin_key_hex)
    checked = kiosk.host.pins_for("KIOSK-0001").check_pin(
        new_pan, encrypt_pin_block(NEW_PIN, new_pan, pin_key)
    )
    assert checked.outcome is PinCheck.OK
    events = journal_events(kiosk)
    names = [e["event"] for e in events]
    for expected in ("face_liveness", "face_verification", "account_opened", "pin_set", "card_issued"):
        assert expected in names, names
    liveness = next(e for e in events if e["event"] == "face_liveness")
    assert liveness["fields"]["passed"] is True
    text = kiosk.services.journal.path.read_text(encoding="utf-8")
    pan = kiosk.app.runner.journey._opened["pan"]  # type: ignore[union-attr]
    assert pan not in text and NEW_PIN not in text and "photo" not in text


def test_pin_mismatch_asks_again_then_opens(kiosk: Kiosk) -> None:
    to_details(kiosk)
    to_pin(kiosk, "current")
    enter_new_pin(kiosk, NEW_PIN, "258037")
    screen = kiosk.wait_screen("opening_pin", stage="first", error="opening.pin.mismatch")
    assert "different" in screen.error_text()
    enter_new_pin(kiosk)
    kiosk.wait_screen("opening_take_card")
    kiosk.ctl["card_dispenser"].call("take_card")
    kiosk.wait_screen("opening_done")


def test_a_card_not_taken_is_captured_and_the_opening_voided(kiosk: Kiosk) -> None:
    before = customers(kiosk)
    to_details(kiosk)
    to_pin(kiosk)
    enter_new_pin(kiosk)
    kiosk.wait_screen("opening_take_card")
    outcome = kiosk.outcome(timeout=20)
    assert outcome.data["reason"] == "card_not_taken" and outcome.data["voided"] is True
    assert customers(kiosk) == before
    assert kiosk.ctl["card_dispenser"].call("state")["reject_count"] == 1  # type: ignore[index]
    names = [e["event"] for e in journal_events(kiosk)]
    assert "dispense_card_capture" in names and "account_opening_voided" in names


def test_a_card_write_failure_leaves_no_account(kiosk: Kiosk) -> None:
    before = customers(kiosk)
    to_details(kiosk)
    to_pin(kiosk)
    kiosk.ctl["card_dispenser"].call("write_fail")
    enter_new_pin(kiosk)
    outcome = kiosk.outcome()
    assert outcome.status == "failed" and outcome.data["reason"] == "dispenser" and outcome.data["voided"]
    assert customers(kiosk) == before
    assert kiosk.window.current_state() == "message"


def test_an_empty_dispenser_refuses_before_anything_is_stored(kiosk: Kiosk) -> None:
    before = customers(kiosk)
    to_details(kiosk)
    kiosk.ctl["card_dispenser"].call("stock_empty")
    kiosk.qtbot.waitUntil(
        lambda: kiosk.devices.card_dispenser.status().detail.get("stock") == "empty", timeout=3000
    )  # type: ignore[union-attr]
    details = kiosk.screen()
    details.phone.setText("13912345678")
    details.occupation_buttons["student"].click()
    details.primary_button.click()
    kiosk.wait_screen("opening_terms").primary_button.click()
    kiosk.wait_screen("opening_account_type").kind_buttons["current"].click()
    outcome = kiosk.outcome()
    assert outcome.status == "refused" and outcome.data["reason"] == "no_cards"
    assert customers(kiosk) == before
    assert "account_opened" not in [e["event"] for e in journal_events(kiosk)]


def test_cancel_at_the_pin_voids_the_opening(kiosk: Kiosk) -> None:
    before = customers(kiosk)
    to_details(kiosk)
    pin = to_pin(kiosk)
    assert customers(kiosk) != before  # the bank step happened
    pin.cancel_button.click()
    outcome = kiosk.outcome()
    assert outcome.status == "cancelled" and outcome.data["voided"] is True
    assert customers(kiosk) == before


def test_id_read_error_then_a_refused_card_in_chinese(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reader retries a failing read until the journey's read timeout (30 s); shorten it for the test.
    import ui.journeys.opening as registration

    rules = registration.OpeningRules.from_settings
    monkeypatch.setattr(
        registration.OpeningRules,
        "from_settings",
        lambda settings: replace(rules(settings), id_read_timeout_s=2.0),
    )
    kiosk.ctl["id_reader"].call("read_error", count=100_000)
    kiosk.ctl["id_reader"].call("place_card", card_id="expired")
    kiosk.start("open_account", "zh_CN")
    screen = kiosk.wait_screen("opening_id", timeout=10, error="opening.id.read_error")
    assert "身份证读取失败" in screen.error_text()
    kiosk.ctl["id_reader"].call("clear_faults")
    screen.primary_button.click()
    identity = kiosk.wait_screen("opening_identity")
    assert identity.refused() and "已过有效期" in identity.verdict.text()
    identity.primary_button.click()
    outcome = kiosk.outcome()
    assert outcome.status == "refused" and outcome.data["reason"] == "id_expired"
    assert kiosk.window.stack.screen("message").panel().title() == "无法在本机为您开户"


def test_a_photo_held_up_to_the_camera_is_refused(kiosk: Kiosk) -> None:
    kiosk.ctl["camera"].call("source", name="photo", photo=PHOTO)
    kiosk.ctl["id_reader"].call("place_card", card_id="zhao_jianguo")
    kiosk.start("open_account")
    kiosk.wait_screen("opening_identity").primary_button.click()
    kiosk.wait_screen("face_check")
    kiosk.pass_face_check(cooperate=False, timeout=30)  # a photo cannot blink or turn
    outcome = kiosk.outcome(timeout=30)
    assert outcome.status == "refused" and outcome.data["reason"] == "face_liveness"
    liveness = [e for e in journal_events(kiosk) if e["event"] == "face_liveness"]
    assert liveness and liveness[-1]["fields"]["passed"] is False


PHOTO = "alex_lacamoire_1.png"
