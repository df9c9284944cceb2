"""Small pieces the maintenance screens share: an outcome line, text fields fed by the on-screen keyboard,
and the words for an :class:`~kiosk.maintenance.service.ActionOutcome`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

from kiosk.i18n import tr
from kiosk.maintenance.faults import check_fault, fault_text
from kiosk.maintenance.service import ActionOutcome
from ui.theme import MIN_TOUCH_PX, PALETTE
from ui.widgets.keyboard import OnScreenKeyboard

OK_COLOUR = PALETTE.success  # on the navy background
FAIL_TEXT_COLOUR = PALETTE.error_text  # a light red that stays readable on navy (WCAG AA)
FAIL_COLOUR = PALETTE.danger_bg  # as a background, under white text

# Outcome codes/details that have their own sentence (the rest use the generic "failed" line).
_DETAIL_KEYS = {
    "card_path_clear",
    "card_at_gate",
    "card_ejected_and_taken",
    "card_to_reject_bin",
    "jam_still_present",
    "mismatch",
    "bin_not_reset",
    "still_empty",
    "paper_low",
    "paper_out",
}


def self_test_faults(device: str, checks: list[dict[str, Any]]) -> list[str]:
    """The faults a self-test's failed checks mean, each once, in the order the checks ran."""
    faults: list[str] = []
    for check in checks:
        fault = check_fault(device, str(check["name"]))
        if not check["passed"] and fault not in faults:
            faults.append(fault)
    return faults


def self_test_sentences(device: str, checks: list[dict[str, Any]], lang: str) -> list[str]:
    return [fault_text(device, fault, lang).sentence for fault in self_test_faults(device, checks)]


def outcome_text(outcome: ActionOutcome, lang: str) -> str:
    """What the technician reads after an action."""
    data: dict[str, Any] = dict(outcome.data)
    if outcome.code in ("refused", "session_expired"):
        return tr(f"maint.outcome.{outcome.code}", lang)
    if outcome.action == "self_test" and outcome.code in ("success", "hardware_error") and "checks" in data:
        checks = data["checks"]
        if outcome.ok:
            return tr("maint.outcome.self_test_passed", lang, count=len(checks))
        device = str(data.get("device", ""))
        return tr(
            "maint.outcome.self_test_failed", lang, checks=" ".join(self_test_sentences(device, checks, lang))
        )
    if outcome.detail in _DETAIL_KEYS:
        return tr(f"maint.outcome.{outcome.detail}", lang, **data)
    if outcome.ok:
        special = {
            "print_test": "maint.outcome.printed",
            "restart_driver": "maint.outcome.restarted",
            "empty_retain_bin": "maint.outcome.bin_ok",
            "replenish_cards": "maint.outcome.cards_ok",
            "replenish_paper": "maint.outcome.paper_ok",
        }.get(outcome.action)
        return tr(special or "maint.outcome.success", lang, **data)
    if outcome.code == "invalid_input" and not outcome.detail:
        return tr("maint.outcome.invalid_count", lang)
    return tr("maint.outcome.failed", lang, code=outcome.code, detail=outcome.detail or outcome.code)


class OutcomeLabel(QLabel):
    """One line under a page's buttons: green when the action worked, red when it did not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ok: bool | None = None

    def show_outcome(self, ok: bool, text: str) -> None:
        self.ok = ok
        if ok:
            self.setStyleSheet(f"color: {OK_COLOUR}; font-weight: 700;")
        else:
            self.setStyleSheet(
                f"background: {FAIL_COLOUR}; color: {PALETTE.on_danger}; font-weight: 700; padding: 6px 10px;"
            )
        self.setText(text)

    def show_info(self, text: str) -> None:
        self.ok = None
        self.setStyleSheet("")
        self.setText(text)


def text_field(parent: QWidget, *, password: bool = False, name: str = "") -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setMinimumHeight(MIN_TOUCH_PX + 8)
    edit.setObjectName(name)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText)
    return edit


class KeyboardFollower(QObject):
    """Points ``keyboard`` at whichever line edit inside ``scope`` has the focus, and shows it then."""

    def __init__(self, scope: QWidget, keyboard: OnScreenKeyboard, *, always_visible: bool = False) -> None:
        super().__init__(scope)
        self._scope = scope
        self._keyboard = keyboard
        self._always = always_visible
        keyboard.setVisible(always_visible)
        keyboard.submitted.connect(self._done)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if isinstance(new, QLineEdit) and self._scope.isAncestorOf(new) and new.isEnabled():
            self._keyboard.set_target(new)
            self._keyboard.show()

    def _done(self) -> None:
        if not self._always:
            self._keyboard.hide()
