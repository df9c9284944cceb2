"""Account opening at the kiosk, as a Qt-free state machine, plus the bank-side steps it needs.

Steps: read the ID card → show the parsed identity with the KYC verdict (check digit, expiry, minimum age,
already a customer) → face match with liveness against the ID photo → phone, address (pre-filled from the
ID), occupation (a list) → terms → account type → the bank opens the account (one transaction: customer,
account, card ``pending_issue``) → a PIN entered twice on the PIN pad (the HSM compares the two blocks;
the blocks never reach this journey) → a card is encoded and presented (take-card countdown) → the card is
activated → the new account number is shown and a receipt offered.

All or nothing: the opening counts only when the customer holds the activated card. Before the bank step
nothing is stored. After it, a cancel, a timeout, a PIN pad or dispenser failure, or a card left at the gate
(captured) *voids* the opening: the customer, account and card rows written a moment earlier are deleted in
one transaction (:func:`void_opening`; the account never had a posting), and the journal keeps both the
opening and its voiding. Dispenser readiness (stock, jam) is checked before the bank step, so "no cards"
refuses without writing anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hostlink.kyc import assess_identity
from hostlink.redaction import mask_account
from kiosk.journeys.core import NOTHING, Event, Journey, Step, message

log = logging.getLogger(__name__)

OCCUPATIONS: tuple[str, ...] = (
    "employee",
    "civil_servant",
    "professional",
    "business_owner",
    "self_employed",
    "student",
    "farmer",
    "worker",
    "retired",
    "homemaker",
    "unemployed",
    "other",
)
ACCOUNT_KINDS: tuple[str, ...] = ("current", "savings")
ADDRESS_MIN, ADDRESS_MAX = 5, 120

# Customer-facing refusal texts by reason (catalogue keys in kiosk/catalogs/opening.py).
REFUSALS: dict[str, str] = {
    "bad_format": "opening.refused.bad_id",
    "bad_check_digit": "opening.refused.bad_check_digit",
    "bad_birth_date": "opening.refused.bad_id",
    "id_expired": "opening.refused.id_expired",
    "under_age": "opening.refused.under_age",
    "duplicate_id": "opening.refused.duplicate_id",
    "missing_details": "opening.refused.generic",
    "bad_account_kind": "opening.refused.generic",
    "face_liveness": "opening.refused.face_liveness",
    "face_no_match": "opening.refused.face_no_match",
    "no_cards": "opening.refused.no_cards",
}


@dataclass(frozen=True)
class OpeningRules:
    """The journey's limits; :meth:`from_settings` maps the kiosk settings onto them."""

    minimum_age: int = 16
    id_read_timeout_s: float = 30.0
    id_read_attempts: int = 3
    face_attempts: int = 3
    pin_attempts: int = 3
    pin_timeout_s: float = 30.0
    pin_length: tuple[int, int] = (6, 6)  # a new card's PIN: six digits, as Chinese banks issue
    take_card_timeout_s: float = 30.0
    take_card_warning_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> OpeningRules:
        journeys = settings.journeys
        return cls(
            minimum_age=int(journeys.minimum_age_years),
            face_attempts=int(settings.biometrics.max_attempts),
            pin_attempts=int(settings.security.pin_tries),
            take_card_timeout_s=float(journeys.take_card_timeout_s),
            take_card_warning_s=float(journeys.take_card_warning_s),
        )


def valid_phone(text: str) -> bool:
    """A mainland mobile number: 11 digits, ``1`` then ``3``-``9`` (spaces and dashes are ignored)."""
    digits = text.replace(" ", "").replace("-", "")
    return (
        len(digits) == 11
        and digits.isascii()
        and digits.isdigit()
        and digits[0] == "1"
        and digits[1] in "3456789"
    )


def normalise_phone(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def masked_phone(phone: str) -> str:
    digits = normalise_phone(phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class OpeningJourney(Journey):
    """One customer's account opening. Personal data lives in memory for the session only."""

    name: ClassVar[str] = "open_account"

    def __init__(
        self, rules: OpeningRules | None = None, *, today: dt.date, session_id: str = "", lang: str = "en"
    ) -> None:
        super().__init__()
        self.lang = lang
        self.rules = rules or OpeningRules()
        self.today = today
        self.session_id = session_id
        self._identity: dict[str, Any] = {}
        self._details: dict[str, str] = {}
        self._template: bytes | None = None
        self._account_kind = ""
        self._opened: dict[str, Any] = {}  # customer/account/card ids, account number, PAN, expiry
        self._id_failures = 0
        self._face_failures = 0
        self._pin_failures = 0
        self._ending: tuple[str, Mapping[str, Any] | None, dict[str, Any]] = ("failed", None, {})

    # -- 1. the ID card ---------------------------------------------------------------------------
    def on_start(self) -> Step:
        return self._read_id()

    def _read_id(self, error: str = "") -> Step:
        return self.go("read_id", "opening_id", error=error).then(
            self.run(
                "id_reader.read",
                timeout=self.rules.id_read_timeout_s,
                journal={"purpose": "account_opening"},
            )
        )

    def on_read_id(self, event: Event) -> Step:
        if event.kind == "id_reader.read.done":
            if event.ok:
                return self._identity_read(dict(event.value))
            if event.code in ("offline", "no_device"):
                return self._fail_device("id_reader")
            self._id_failures += 1
            if self._id_failures >= self.rules.id_read_attempts:
                return self.finish(
                    "failed",
                    reason="id_unreadable",
                    message=message("error", "opening.id.unreadable.title", "opening.id.unreadable.body"),
                )
            error = "opening.id.timeout" if event.code == "timeout" else "opening.id.read_error"
            return self.stay(error=error, attempts_left=self.rules.id_read_attempts - self._id_failures)
        if event.kind == "ui.retry":
            return self._read_id()
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def _identity_read(self, identity: dict[str, Any]) -> Step:
        self._identity = identity
        verdict = assess_identity(
            str(identity.get("id_number", "")),
            _date(identity.get("valid_until")),
            self.today,
            minimum_age=self.rules.minimum_age,
        )
        if not verdict.ok:
            return self._show_identity(verdict.reason)
        return self.go("checking_id", "opening_id", checking=True).then(
            self.run("opening.is_customer", id_number=str(identity["id_number"]))
        )

    def on_checking_id(self, event: Event) -> Step:
        if event.kind == "opening.is_customer.done":
            if not event.ok:
                return self._fail_service()
            return self._show_identity("duplicate_id" if event.value else "")
        return NOTHING

    def _show_identity(self, refusal: str) -> Step:
        identity = self._identity
        number = str(identity.get("id_number", ""))
        until = identity.get("valid_until")
        data = {
            "name": identity.get("name", ""),
            "sex": identity.get("sex", ""),
            "sex_en": identity.get("sex_en", ""),
            "ethnicity": identity.get("ethnicity", ""),
            "birth_date": str(identity.get("birth_date", "")),
            "address": identity.get("address", ""),
            "id_number": number,
            "authority": identity.get("authority", ""),
            "valid_from": str(identity.get("valid_from", "")),
            "valid_until": str(until) if until else "",
            "check_digit_ok": bool(identity.get("check_digit_ok", False)),
            "photo": identity.get("photo", b""),
            "refusal": refusal,
            "refusal_key": REFUSALS.get(refusal, "opening.refused.generic") if refusal else "",
        }
        return self.go("identity", "opening_identity", **data)

    def on_identity(self, event: Event) -> Step:
        refusal = str(self.view.data.get("refusal", "")) if self.view else ""
        if event.kind == "ui.confirm" and not refusal:
            return self._face_check()
        if event.kind in ("ui.finish", "ui.confirm") and refusal:
            return self.finish(
                "refused",
                reason=refusal,
                message=message(
                    "error", "opening.refused.title", REFUSALS.get(refusal, "opening.refused.generic")
                ),
            )
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    # -- 2. face and liveness against the ID photo ----------------------------------------------------
    def _face_check(self) -> Step:
        attempt = self._face_failures + 1
        return self.go(
            "face", "face_check", purpose="opening", prompt="liveness.look_at_camera", challenge="",
            step=0, steps=0, attempt=attempt, attempts=self.rules.face_attempts, retry=False,
        ).then(
            self.run(
                "camera.face_check",
                reference_photo=self._identity.get("photo", b""),
                enrol=True,
                purpose="opening",
            )
        )  # fmt: skip

    def on_face(self, event: Event) -> Step:
        if event.kind == "camera.face_progress":
            return self.stay(**{k: v for k, v in event.data.items() if k != "kind"})
        if event.kind == "camera.face_check.done":
            result: Mapping[str, Any] = event.value or {}
            if event.ok and result.get("matched"):
                self._template = result.get("template")
                return self._ask_details()
            if event.code in ("offline", "no_device"):
                return self._fail_device("camera")
            if result.get("liveness_failed"):
                return self._refuse("face_liveness")
            self._face_failures += 1
            if self._face_failures >= self.rules.face_attempts:
                return self._refuse("face_no_match")
            prompt = str(result.get("prompt") or "face.try_again")
            return self.stay(
                retry=True,
                prompt=prompt,
                challenge="",
                attempts_left=self.rules.face_attempts - self._face_failures,
            )
        if event.kind == "ui.retry" and self.view is not None and self.view.data.get("retry"):
            return self._face_check()
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    # -- 3. contact details, terms, account type ------------------------------------------------------
    def _ask_details(self, errors: Mapping[str, str] | None = None) -> Step:
        return self.go(
            "details",
            "opening_details",
            phone=self._details.get("phone", ""),
            address=self._details.get("address", str(self._identity.get("address", ""))),
            occupation=self._details.get("occupation", ""),
            occupations=list(OCCUPATIONS),
            errors=dict(errors or {}),
        )

    def on_details(self, event: Event) -> Step:
        if event.kind == "ui.submit":
            phone = normalise_phone(str(event.data.get("phone", "")).strip())
            address = " ".join(str(event.data.get("address", "")).split())
            occupation = str(event.data.get("occupation", ""))
            self._details = {"phone": phone, "address": address, "occupation": occupation}
            errors: dict[str, str] = {}
            if not valid_phone(phone):
                errors["phone"] = "opening.details.error.phone"
            if not ADDRESS_MIN <= len(address) <= ADDRESS_MAX:
                errors["address"] = "opening.details.error.address"
            if occupation not in OCCUPATIONS:
                errors["occupation"] = "opening.details.error.occupation"
            if errors:
                return self._ask_details(errors)
            return self.go("terms", "opening_terms")
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def on_terms(self, event: Event) -> Step:
        if event.kind == "ui.accept":
            return self.go("account_type", "opening_account_type", kinds=list(ACCOUNT_KINDS))
        if event.kind == "ui.decline":
            return self.cancel()
        if event.kind == "ui.back":
            return self._ask_details()
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def on_account_type(self, event: Event) -> Step:
        if event.kind == "ui.choose" and event.data.get("kind") in ACCOUNT_KINDS:
            self._account_kind = str(event.data["kind"])
            # No cards, no account: find out before anything is written.
            return self.go("checking_dispenser", "opening_working", body_key="opening.working.checking").then(
                self.run("card_dispenser.ready")
            )
        if event.kind == "ui.back":
            return self.go("terms", "opening_terms")
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def on_checking_dispenser(self, event: Event) -> Step:
        if event.kind == "card_dispenser.ready.done":
            if not event.ok:
                return self._refuse("no_cards", detail=event.code)
            return self.go("opening", "opening_working", body_key="opening.working.opening").then(
                self.run(
                    "opening.open_account",
                    name=str(self._identity.get("name", "")),
                    id_number=str(self._identity.get("id_number", "")),
                    id_expiry=self._identity.get("valid_until") or None,
                    phone=self._details["phone"],
                    address=self._details["address"],
                    occupation=self._details["occupation"],
                    photo=self._identity.get("photo") or None,
                    face_template=self._template,
                    account_kind=self._account_kind,
                    session_id=self.session_id,
                )
            )
        return NOTHING

    # -- 4. the bank opens the account ---------------------------------------------------------------
    def on_opening(self, event: Event) -> Step:
        if event.kind == "opening.open_account.done":
            value: Mapping[str, Any] = event.value or {}
            if not event.ok:
                return self._fail_service()
            if value.get("refused"):
                return self._refuse(str(value["refused"]))
            self._opened = dict(value)
            # The identity and template are in the bank now (encrypted); drop our copies.
            self._template = None
            self._identity = {k: v for k, v in self._identity.items() if k in ("name",)}
            return self._set_pin()
        return NOTHING

    # -- 5. the PIN, twice ----------------------------------------------------------------------------
    def _set_pin(self, error: str = "") -> Step:
        low, high = self.rules.pin_length
        return self.go("pin", "opening_pin", stage="first", count=0, length=high, error=error).then(
            self.run(
                "opening.set_pin",
                pan=self._opened["pan"],
                min_len=low,
                max_len=high,
                timeout=self.rules.pin_timeout_s,
                session_id=self.session_id,
            )
        )

    def on_pin(self, event: Event) -> Step:
        if event.kind == "opening.pin_key":
            return self.stay(
                count=_count_after(
                    int(self.view.data.get("count", 0)) if self.view else 0, str(event.data.get("key", ""))
                )
            )
        if event.kind == "opening.pin_stage":
            return self.stay(stage=str(event.data.get("stage", "confirm")), count=0)
        if event.kind == "opening.set_pin.done":
            if event.ok and event.value == "ok":
                return self.go("dispensing", "opening_working", body_key="opening.working.card").then(
                    self.run(
                        "card_dispenser.dispense",
                        pan=self._opened["pan"],
                        expiry=self._opened["card_expiry"],
                        take_timeout=self.rules.take_card_timeout_s,
                        journal={
                            "purpose": "account_opening",
                            "pan_masked": self._opened.get("pan_masked", ""),
                            "account": mask_account(str(self._opened.get("account_number", ""))),
                        },
                    )
                )
            if event.code == "cancelled":
                return self.cancel()
            if event.code == "timeout":
                return self._void_then(
                    "timeout", message("info", "opening.pin.timeout.title", "opening.voided.body")
                )
            if event.code in ("offline", "hardware_error", "error", "no_device"):
                return self._void_then(
                    "failed",
                    message("error", "opening.failed.title", "opening.failed.pin_pad"),
                    reason="pin_pad",
                )
            self._pin_failures += 1
            if self._pin_failures >= self.rules.pin_attempts:
                return self._void_then(
                    "failed",
                    message("error", "opening.failed.title", "opening.pin.too_many"),
                    reason="pin_mismatch",
                )
            error = "opening.pin.weak" if event.value == "weak" else "opening.pin.mismatch"
            return self._set_pin(error)
        if event.kind == "session.timeout":
            return self._void_then("timeout", message("info", "opening.voided.title", "opening.voided.body"))
        return NOTHING

    # -- 6. the card -------------------------------------------------------------------------------------
    def on_dispensing(self, event: Event) -> Step:
        if event.kind in ("card_dispenser.card_presented", "card_dispenser.presented"):
            return self.go(
                "take_card",
                "opening_take_card",
                countdown_s=self.rules.take_card_timeout_s,
                warning_s=self.rules.take_card_warning_s,
            )
        return self._dispense_result(event)

    def on_take_card(self, event: Event) -> Step:
        return self._dispense_result(event)

    def _dispense_result(self, event: Event) -> Step:
        if event.kind != "card_dispenser.dispense.done":
            return NOTHING  # cancel, idle timeout: the card is on its way, the dispenser decides now
        if event.ok and event.value:
            return self.go("activating", "opening_working", body_key="opening.working.activating").then(
                self.run("opening.activate_card", card_id=self._opened["card_id"], session_id=self.session_id)
            )
        if event.code == "timeout":
            # Left at the gate: capture it (journaled), then void the opening.
            return self.go("capturing", "opening_working", body_key="opening.working.capturing").then(
                self.run(
                    "card_dispenser.capture",
                    journal={"reason": "not_taken", "pan_masked": self._opened.get("pan_masked", "")},
                )
            )
        body = "opening.failed.no_cards" if event.code == "stock_empty" else "opening.failed.dispenser"
        return self._void_then("failed", message("error", "opening.failed.title", body), reason="dispenser")

    def on_capturing(self, event: Event) -> Step:
        if event.kind == "card_dispenser.capture.done":
            return self._void_then(
                "failed",
                message("warning", "opening.captured.title", "opening.captured.body"),
                reason="card_not_taken",
            )
        return NOTHING

    def on_activating(self, event: Event) -> Step:
        if event.kind == "opening.activate_card.done":
            if not event.ok:
                # The customer holds a card the bank could not switch on: tell them where to go, keep it.
                return self.finish(
                    "failed",
                    reason="activation",
                    message=message("error", "opening.failed.title", "opening.failed.activation"),
                )
            number = str(self._opened.get("account_number", ""))
            return self.go(
                "done",
                "opening_done",
                account_number=number,
                account_kind=self._account_kind,
                name=self._identity.get("name", ""),
                pan_masked=self._opened.get("pan_masked", ""),
                printed=False,
                print_error="",
            )
        return NOTHING

    # -- 7. the receipt --------------------------------------------------------------------------------
    def on_done(self, event: Event) -> Step:
        if event.kind == "ui.print":
            data = self.view.data if self.view else {}
            return self.stay(printing=True, print_error="").then(
                self.run(
                    "opening.print_receipt",
                    account_number=data.get("account_number", ""),
                    account_kind=self._account_kind,
                    name=data.get("name", ""),
                    pan_masked=data.get("pan_masked", ""),
                    lang=self.lang,
                    session_id=self.session_id,
                    journal={"receipt": "account_opening"},
                )
            )
        if event.kind == "opening.print_receipt.done":
            if event.ok:
                return self.stay(printing=False, printed=True)
            return self.stay(printing=False, print_error="opening.done.print_failed")
        if event.kind in ("ui.finish", "session.timeout"):
            return self.finish("completed", account_number=self._opened.get("account_number", ""),
                               customer_id=self._opened.get("customer_id"))  # fmt: skip
        return NOTHING

    # -- endings ---------------------------------------------------------------------------------------
    def cancel(self) -> Step:
        if self.state in ("dispensing", "take_card", "capturing", "activating", "opening", "voiding"):
            return NOTHING  # the bank or the dispenser is mid-step; its result decides what follows
        if self._opened:
            return self._void_then("cancelled", None)
        return self.finish("cancelled")

    def _void_then(self, status: str, final_message: Mapping[str, Any] | None, **data: Any) -> Step:
        """Undo the opening (delete the rows written a moment ago), then end with ``status``."""
        self._ending = (status, final_message, data)
        opened = self._opened
        return self.go("voiding", "opening_working", body_key="opening.working.voiding").then(
            self.run(
                "opening.void",
                customer_id=opened["customer_id"],
                account_id=opened["account_id"],
                card_id=opened["card_id"],
                reason=data.get("reason", status),
                session_id=self.session_id,
            )
        )

    def on_voiding(self, event: Event) -> Step:
        if event.kind == "opening.void.done":
            status, final_message, data = self._ending
            self._opened = {}
            if not event.ok or event.value is False:
                # Could not delete: the rows stay with the card pending_issue (it can never be used)
                # and the journal says so; staff resolve it.
                log.error("account opening could not be voided: %s", event.data.get("detail"))
            extra = {"message": dict(final_message)} if final_message else {}
            return self.finish(status, voided=bool(event.ok and event.value), **data, **extra)
        return NOTHING

    def _refuse(self, reason: str, **data: Any) -> Step:
        body = REFUSALS.get(reason, "opening.refused.generic")
        return self.finish(
            "refused", reason=reason, message=message("error", "opening.refused.title", body), **data
        )

    def _fail_device(self, device: str) -> Step:
        return self.finish(
            "failed", reason=device, message=message("error", "opening.failed.title", "opening.failed.device")
        )

    def _fail_service(self) -> Step:
        return self.finish(
            "failed", reason="bank", message=message("error", "opening.failed.title", "opening.failed.bank")
        )


def _count_after(count: int, key: str) -> int:
    """How many PIN digits are entered after ``key`` (the pad reports ``*`` per digit)."""
    name = key.upper()
    if name in ("BACKSPACE", "BKSP"):
        return max(0, count - 1)
    if name == "CLEAR":
        return 0
    if name in ("ENTER", "CANCEL") or (len(name) >= 2 and name[0] == "F" and name[1:].isdigit()):
        return count
    return count + 1
