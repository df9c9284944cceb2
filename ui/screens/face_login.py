"""Face login: who are you (mobile number or ID number on the on-screen keypad), and which account."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.screens.opening_common import StepScreen
from ui.widgets.button import KioskButton
from ui.widgets.keypad import NumericKeypad


class FaceLoginIdentifyScreen(StepScreen):
    name = "face_login_identify"
    title_key = "face_login.identify.title"
    primary_key = "face_login.identify.submit"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        modes = QHBoxLayout()
        modes.setSpacing(24)
        self.mode_buttons: dict[str, KioskButton] = {}
        for mode in ("phone", "id_number"):
            button = KioskButton(variant="secondary", parent=self)
            button.setObjectName(f"mode-{mode}")
            button.clicked.connect(lambda _=False, m=mode: self.emit_action("mode", {"mode": m}))
            self.mode_buttons[mode] = button
            modes.addWidget(button)
        self.content.addLayout(modes)
        body = QHBoxLayout()
        left = QVBoxLayout()
        self.field = QLineEdit(self)
        self.field.setObjectName("identify-value")
        self.field.setMaxLength(18)
        left.addWidget(self.field)
        left.addStretch(1)
        body.addLayout(left, 1)
        self.keypads = {
            "phone": NumericKeypad("digits", lang, max_length=11, parent=self),
            "id_number": NumericKeypad("id", lang, max_length=18, parent=self),
        }
        for keypad in self.keypads.values():
            keypad.set_target(self.field)
            keypad.setFixedWidth(420)
            keypad.submitted.connect(lambda _text: self.on_primary())
            body.addWidget(keypad, 0, Qt.AlignmentFlag.AlignTop)
        self.content.addLayout(body, 1)
        self._mode = "phone"

    def body_text(self) -> str:
        if self.context.get("busy"):
            return tr("face_login.identify.searching", self.lang)
        return tr("face_login.identify.body", self.lang)

    def render_content(self) -> None:
        ctx, lang = self.context, self.lang
        mode = str(ctx.get("mode", "phone"))
        if mode != self._mode or "value" in ctx:
            self.field.setText(str(ctx.get("value", "")))
        self._mode = mode
        for name, button in self.mode_buttons.items():
            button.set_texts(tr(f"face_login.mode.{name}", lang))
            button.setProperty("variant", "primary" if name == mode else "secondary")
            button.style().unpolish(button)
            button.style().polish(button)
        for name, keypad in self.keypads.items():
            keypad.retranslate(lang)
            keypad.setVisible(name == mode)
        self.field.setPlaceholderText(tr(f"face_login.mode.{mode}", lang))
        error = str(ctx.get("error", "") or "")
        if error and error == "face_login.error.not_found":
            self._error.setText(
                tr(error, lang)
                + " "
                + tr("face_login.attempts_left", lang, attempts_left=ctx.get("attempts_left", 0))
            )
        self.primary_button.setEnabled(not ctx.get("busy"))

    def on_primary(self) -> None:
        self.emit_action("submit", {"mode": self._mode, "value": self.field.text()})


class FaceLoginAccountScreen(StepScreen):
    name = "face_login_account"
    title_key = "face_login.account.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._buttons: list[KioskButton] = []

    def render_content(self) -> None:
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        for account in self.context.get("accounts", ()):
            button = KioskButton(variant="primary", parent=self)
            button.setObjectName(f"account-{account['account_id']}")
            button.set_texts(account["masked"], tr(f"opening.type.{account['kind']}", self.lang))
            button.clicked.connect(
                lambda _=False, a=account["account_id"]: self.emit_action("choose", {"account_id": a})
            )
            self.content.addWidget(button)
            self._buttons.append(button)
