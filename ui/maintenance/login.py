"""The technician login on the kiosk's own screen, and the first-start "create the first supervisor" form.

Typing happens on the on-screen keyboard (a kiosk has no other). The screen only collects and shows: it
emits ``login(username, password)`` / ``create(username, password)`` / ``cancel`` actions and the
controller answers with :meth:`show_error` or :meth:`show_info`. An abandoned login goes away by itself
after ``abandon_s`` seconds without input, back to wherever the terminal was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.maintenance.common import KeyboardFollower, OutcomeLabel, text_field
from ui.screens.base import Screen
from ui.widgets.button import KioskButton
from ui.widgets.keyboard import OnScreenKeyboard

ABANDON_S = 90


class MaintenanceLoginScreen(Screen):
    name = "maint_login"
    title_key = "maint.login.title"
    idle_exempt = True  # the customer idle timeout would drop an out-of-service terminal to attract

    def __init__(
        self, lang: str = "en", parent: QWidget | None = None, *, abandon_s: float = ABANDON_S
    ) -> None:
        super().__init__(lang, parent)
        self.setup_mode = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QWidget(self)
        form = QVBoxLayout(body)
        form.setContentsMargins(160, 24, 160, 12)
        form.setSpacing(6)
        self._title = QLabel(body)
        self._title.setProperty("role", "title")
        self._body = QLabel(body)
        self._body.setProperty("role", "muted")
        self._body.setWordWrap(True)
        form.addWidget(self._title)
        form.addWidget(self._body)
        self._user_label = QLabel(body)
        self.username = text_field(body, name="maint-username")
        self._password_label = QLabel(body)
        self.password = text_field(body, password=True, name="maint-password")
        self._confirm_label = QLabel(body)
        self.confirm = text_field(body, password=True, name="maint-confirm")
        for widget in (
            self._user_label,
            self.username,
            self._password_label,
            self.password,
            self._confirm_label,
            self.confirm,
        ):
            form.addWidget(widget)
        self.message = OutcomeLabel(body)
        form.addWidget(self.message)
        buttons = QHBoxLayout()
        self.cancel_button = KioskButton(variant="secondary", parent=body)
        self.submit_button = KioskButton(variant="primary", parent=body)
        for button in (self.cancel_button, self.submit_button):
            button.setMinimumHeight(64)  # the keyboard needs the room; still well above 44 px
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)
        form.addLayout(buttons)
        form.addStretch(1)
        outer.addWidget(body, 1)
        self.keyboard = OnScreenKeyboard(lang, parent=self)
        outer.addWidget(self.keyboard)
        self._follower = KeyboardFollower(self, self.keyboard, always_visible=True)

        self.submit_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(lambda: self.emit_action("cancel"))
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self._password_entered)
        self.confirm.returnPressed.connect(self.submit)

        self._abandon = QTimer(self)
        self._abandon.setSingleShot(True)
        self._abandon.setInterval(int(abandon_s * 1000))
        self._abandon.timeout.connect(lambda: self.emit_action("cancel"))
        # typing anywhere (keys, the on-screen keyboard) means the technician is still there
        for edit in (self.username, self.password, self.confirm):
            edit.textChanged.connect(self._still_here)
        self.keyboard.textInserted.connect(self._still_here)
        self.installEventFilter(self)

    # -- flow --------------------------------------------------------------------------------
    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self.setup_mode = bool(context.get("setup"))
        for edit in (self.username, self.password, self.confirm):
            edit.clear()
        self.retranslate(self.lang)
        notice = context.get("notice")
        if notice:
            self.message.show_outcome(True, str(notice))
        else:
            self.message.show_info("")
        self.set_busy(False)
        self.username.setFocus()
        self.keyboard.set_target(self.username)
        self._abandon.start()

    def on_leave(self) -> None:
        self._abandon.stop()
        for edit in (self.password, self.confirm):
            edit.clear()  # a password never stays in a widget once the screen is gone

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        setup = self.setup_mode
        self._title.setText(tr("maint.setup.title" if setup else "maint.login.title", lang))
        self._body.setText(tr("maint.setup.body" if setup else "maint.login.body", lang))
        self._user_label.setText(tr("maint.login.username", lang))
        self._password_label.setText(tr("maint.login.password", lang))
        self._confirm_label.setText(tr("maint.setup.confirm", lang))
        self._confirm_label.setVisible(setup)
        self.confirm.setVisible(setup)
        self.submit_button.set_texts(tr("maint.setup.submit" if setup else "maint.login.submit", lang))
        self.cancel_button.set_texts(tr("maint.login.cancel", lang))
        self.keyboard.retranslate(lang)

    def submit(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.show_error(tr("maint.login.empty", self.lang))
            return
        if self.setup_mode:
            if password != self.confirm.text():
                self.show_error(tr("maint.setup.mismatch", self.lang))
                return
            self.emit_action("create", (username, password))
        else:
            self.emit_action("login", (username, password))
        self.password.clear()
        self.confirm.clear()

    def _password_entered(self) -> None:
        if self.setup_mode:
            self.confirm.setFocus()
        else:
            self.submit()

    # -- answers from the controller ---------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)
        if busy:
            self.message.show_info(tr("maint.login.checking", self.lang))

    def show_error(self, text: str) -> None:
        self.set_busy(False)
        self.message.show_outcome(False, text)
        self.password.setFocus()

    def _still_here(self, *_: object) -> None:
        if self._abandon.isActive():
            self._abandon.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin):
            self._still_here()
        return False

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.emit_action("cancel")
            return
        super().keyPressEvent(event)
