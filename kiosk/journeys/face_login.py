"""Log in with the face: find the customer by phone or ID number, then face + liveness against the
template enrolled at account opening. Qt-free state machine plus the bank-side look-ups it needs.

The template never passes through the journey: the face-check effect loads it (decrypted) by customer id
in the worker pool. A failed look-up says the same thing whether the number is unknown or has no face
enrolled, so the screen cannot be used to find out who banks here. After a match the customer picks an
account (when there is more than one) and the logged-in services follow as a child journey, the same one
card login ends in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hostlink.kyc import id_number_problem, normalise_id_number
from kiosk.journeys.core import NOTHING, Event, Journey, Outcome, Step, message
from kiosk.journeys.opening import normalise_phone, valid_phone

MODES = ("phone", "id_number")


@dataclass(frozen=True)
class FaceLoginRules:
    lookup_attempts: int = 3
    face_attempts: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> FaceLoginRules:
        return cls(face_attempts=int(settings.biometrics.max_attempts))


# (customer_id, account_id, session data) → the logged-in services journey
ServicesFactory = Callable[[Mapping[str, Any]], Journey]


class FaceLoginJourney(Journey):
    name: ClassVar[str] = "face_login"

    def __init__(
        self,
        rules: FaceLoginRules | None = None,
        *,
        session_id: str = "",
        services_menu: ServicesFactory | None = None,
    ) -> None:
        super().__init__()
        self.rules = rules or FaceLoginRules()
        self.session_id = session_id
        self.services_menu = services_menu
        self._lookups_failed = 0
        self._face_failures = 0
        self._customer_id: int | None = None
        self._accounts: list[dict[str, Any]] = []

    # -- 1. who are you? ---------------------------------------------------------------------------
    def on_start(self) -> Step:
        return self._identify("phone")

    def _identify(self, mode: str, error: str = "", value: str = "") -> Step:
        return self.go(
            "identify",
            "face_login_identify",
            mode=mode,
            value=value,
            error=error,
            attempts_left=self.rules.lookup_attempts - self._lookups_failed,
        )

    def on_identify(self, event: Event) -> Step:
        mode = str(self.view.data.get("mode", "phone")) if self.view else "phone"
        if event.kind == "ui.mode" and event.data.get("mode") in MODES:
            return self._identify(str(event.data["mode"]))
        if event.kind == "ui.submit":
            mode = str(event.data.get("mode", mode))
            raw = str(event.data.get("value", "")).strip()
            if mode == "phone":
                value = normalise_phone(raw)
                if not valid_phone(value):
                    return self._identify(mode, "face_login.error.phone", raw)
            elif mode == "id_number":
                value = normalise_id_number(raw)
                if id_number_problem(value) is not None:
                    return self._identify(mode, "face_login.error.id_number", raw)
            else:
                return NOTHING
            return self.go(
                "looking_up", "face_login_identify", mode=mode, value=raw, error="", busy=True
            ).then(self.run("face_login.find_customer", mode=mode, value=value))
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def on_looking_up(self, event: Event) -> Step:
        if event.kind != "face_login.find_customer.done":
            return NOTHING
        mode = str(self.view.data.get("mode", "phone")) if self.view else "phone"
        if not event.ok:
            return self._fail("face_login.failed.bank")
        found: Mapping[str, Any] | None = event.value
        if not found or not found.get("has_template") or not found.get("accounts"):
            self._lookups_failed += 1
            if self._lookups_failed >= self.rules.lookup_attempts:
                return self.finish(
                    "refused",
                    reason="not_found",
                    message=message("error", "face_login.refused.title", "face_login.refused.not_found"),
                )
            return self._identify(mode, "face_login.error.not_found")
        self._customer_id = int(found["customer_id"])
        self._accounts = [dict(a) for a in found["accounts"]]
        return self._face_check()

    # -- 2. face + liveness against the enrolled template ---------------------------------------------
    def _face_check(self) -> Step:
        return self.go(
            "face", "face_check", purpose="login", prompt="liveness.look_at_camera", challenge="",
            step=0, steps=0, attempt=self._face_failures + 1, attempts=self.rules.face_attempts, retry=False,
        ).then(
            self.run("camera.face_check", customer_id=self._customer_id, enrol=False, purpose="login")
        )  # fmt: skip

    def on_face(self, event: Event) -> Step:
        if event.kind == "camera.face_progress":
            return self.stay(**dict(event.data))
        if event.kind == "camera.face_check.done":
            result: Mapping[str, Any] = event.value or {}
            if event.ok and result.get("matched"):
                return self._logged_in()
            if event.code in ("offline", "no_device"):
                return self._fail("face_login.failed.camera")
            if result.get("liveness_failed"):
                return self._refuse("face_login.refused.liveness")
            self._face_failures += 1
            if self._face_failures >= self.rules.face_attempts:
                return self._refuse("face_login.refused.no_match")
            return self.stay(
                retry=True,
                prompt=str(result.get("prompt") or "face.try_again"),
                challenge="",
                attempts_left=self.rules.face_attempts - self._face_failures,
            )
        if event.kind == "ui.retry" and self.view is not None and self.view.data.get("retry"):
            return self._face_check()
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    # -- 3. which account, then the services ------------------------------------------------------------
    def _logged_in(self) -> Step:
        if len(self._accounts) == 1:
            return self._enter_services(int(self._accounts[0]["account_id"]))
        shown = [
            {"account_id": a["account_id"], "masked": a["masked"], "kind": a["kind"]} for a in self._accounts
        ]
        return self.go("choose_account", "face_login_account", accounts=shown)

    def on_choose_account(self, event: Event) -> Step:
        if event.kind == "ui.choose":
            wanted = event.data.get("account_id")
            if any(a["account_id"] == wanted for a in self._accounts):
                return self._enter_services(int(wanted))  # type: ignore[arg-type]
        if event.kind == "session.timeout":
            return self.finish("timeout")
        return NOTHING

    def _enter_services(self, account_id: int) -> Step:
        masked = next((str(a["masked"]) for a in self._accounts if a["account_id"] == account_id), "")
        data = {
            "customer_id": self._customer_id,
            "account_id": account_id,
            "account_masked": masked,
            "auth": "face",
            "session_id": self.session_id,
        }
        if self.services_menu is None:
            return self.finish("completed", **data)
        self.state = "services"
        return self.start_child(self.services_menu(data))

    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        return self.finish(outcome.status, customer_id=self._customer_id, **outcome.data)

    # -- endings ---------------------------------------------------------------------------------------
    def _refuse(self, body_key: str) -> Step:
        return self.finish(
            "refused", reason="face", message=message("error", "face_login.refused.title", body_key)
        )

    def _fail(self, body_key: str) -> Step:
        return self.finish("failed", message=message("error", "face_login.failed.title", body_key))
