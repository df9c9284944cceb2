"""Account opening: contact details on the on-screen keyboard, the terms, the account type."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTextEdit, QWidget

from kiosk.i18n import tr
from ui.screens.opening_common import StepScreen
from ui.theme import PALETTE
from ui.widgets.button import KioskButton
from ui.widgets.keyboard import Layer, OnScreenKeyboard

OCCUPATION_COLUMNS = 6
UNCHOSEN = "font-size: 18px; padding: 2px 4px;"
CHOSEN = UNCHOSEN + f" background: {PALETTE.accent}; color: {PALETTE.on_accent};"


class OpeningDetailsScreen(StepScreen):
    """Phone and address (pre-filled from the ID, editable, pinyin for Chinese) and an occupation list."""

    name = "opening_details"
    title_key = "opening.details.title"
    primary_key = "opening.details.submit"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        outer = self.layout()
        assert outer is not None  # StepScreen.__init__ gave this screen its layout
        outer.setContentsMargins(48, 20, 48, 20)
        self.content.setSpacing(8)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(8)
        self.phone_label, self.address_label, self.occupation_label = QLabel(self), QLabel(self), QLabel(self)
        self.phone = QLineEdit(self)
        self.phone.setObjectName("details-phone")
        self.phone.setMaxLength(13)
        self.address = QLineEdit(self)
        self.address.setObjectName("details-address")
        self.address.setMaxLength(120)
        grid.addWidget(self.phone_label, 0, 0)
        grid.addWidget(self.phone, 0, 1)
        grid.addWidget(self.address_label, 1, 0)
        grid.addWidget(self.address, 1, 1)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(0, 1)
        for label in (self.phone_label, self.address_label):
            label.setWordWrap(True)
        self.content.addLayout(grid)
        self.content.addWidget(self.occupation_label)
        choices = QGridLayout()
        choices.setSpacing(8)
        self.occupation_buttons: dict[str, QPushButton] = {}
        self._occupations: Sequence[str] = ()
        self._choices = choices
        self.content.addLayout(choices)
        self.keyboard = OnScreenKeyboard(lang, allow_chinese=True, parent=self)
        self.keyboard.submitted.connect(self._next_field)
        self.content.addWidget(self.keyboard)
        for field in (self.phone, self.address):
            field.installEventFilter(self)
        self.keyboard.set_target(self.phone)
        self.keyboard.set_layer(Layer.DIGITS)

    def _ensure_choices(self, occupations: Sequence[str]) -> None:
        if tuple(occupations) == tuple(self._occupations):
            return
        for button in self.occupation_buttons.values():
            button.deleteLater()
        self.occupation_buttons = {}
        self._occupations = tuple(occupations)
        for index, occupation in enumerate(occupations):
            button = QPushButton(self)
            button.setObjectName(f"occupation-{occupation}")
            button.setProperty("variant", "key")
            button.setCheckable(True)
            button.setMinimumHeight(48)
            button.setStyleSheet(UNCHOSEN)
            button.clicked.connect(lambda _=False, o=occupation: self.choose_occupation(o))
            self._choices.addWidget(button, index // OCCUPATION_COLUMNS, index % OCCUPATION_COLUMNS)
            self.occupation_buttons[occupation] = button

    def choose_occupation(self, occupation: str) -> None:
        self._chosen = occupation
        for name, button in self.occupation_buttons.items():
            button.setChecked(name == occupation)
            button.setStyleSheet(CHOSEN if name == occupation else UNCHOSEN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QLineEdit):
            self.focus_field(watched)
        return False

    def focus_field(self, field: QLineEdit) -> None:
        self.keyboard.set_target(field)
        self.keyboard.set_layer(Layer.DIGITS if field is self.phone else Layer.LETTERS)
        if field is self.address:
            self.keyboard.set_chinese(self.lang == "zh_CN")

    def _next_field(self) -> None:
        if self.keyboard.target() is self.phone:
            self.address.setFocus()
            self.focus_field(self.address)

    def render_content(self) -> None:
        ctx, lang = self.context, self.lang
        self.phone_label.setText(tr("opening.details.phone", lang))
        self.phone.setPlaceholderText(tr("opening.details.phone_hint", lang))
        self.address_label.setText(tr("opening.details.address", lang))
        self.occupation_label.setText(tr("opening.details.occupation", lang))
        self.keyboard.retranslate(lang)
        self._ensure_choices(list(ctx.get("occupations", ())))
        for occupation, button in self.occupation_buttons.items():
            button.setText(tr(f"occupation.{occupation}", lang))
        if "phone" in ctx:
            self.phone.setText(str(ctx.get("phone", "")))
            self.address.setText(str(ctx.get("address", "")))
            self.choose_occupation(str(ctx.get("occupation", "")))
        errors = dict(ctx.get("errors", {}) or {})
        self.set_error(next(iter(errors.values()), ""))
        if errors:
            self._error.setText(" ".join(tr(key, lang) for key in errors.values()))
        for field, widget in (("phone", self.phone), ("address", self.address)):
            widget.setStyleSheet(f"border-color: {PALETTE.error_text};" if field in errors else "")

    def on_primary(self) -> None:
        self.keyboard.set_target(None)  # commits a pinyin composition still in the bar
        self.emit_action(
            "submit",
            {
                "phone": self.phone.text(),
                "address": self.address.text(),
                "occupation": getattr(self, "_chosen", ""),
            },
        )


class OpeningTermsScreen(StepScreen):
    name = "opening_terms"
    title_key = "opening.terms.title"
    primary_key = "opening.terms.accept"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.text = QTextEdit(self)
        self.text.setObjectName("terms-text")
        self.text.setReadOnly(True)
        self.content.addWidget(self.text, 1)
        self.decline = KioskButton(variant="secondary", parent=self)
        self.decline.setObjectName("terms-decline")
        self.decline.clicked.connect(lambda: self.emit_action("decline"))
        self.content.addWidget(self.decline, 0, Qt.AlignmentFlag.AlignRight)

    def render_content(self) -> None:
        self.text.setPlainText(tr("opening.terms.body", self.lang))
        self.decline.set_texts(tr("opening.terms.decline", self.lang))
        self.decline.setMaximumWidth(520)

    def on_primary(self) -> None:
        self.emit_action("accept")


class OpeningAccountTypeScreen(StepScreen):
    name = "opening_account_type"
    title_key = "opening.type.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(32)
        self.kind_buttons: dict[str, KioskButton] = {}
        for kind in ("current", "savings"):
            button = KioskButton(variant="primary", parent=self)
            button.setObjectName(f"account-{kind}")
            button.setMinimumHeight(200)
            button.clicked.connect(lambda _=False, k=kind: self.emit_action("choose", {"kind": k}))
            self.kind_buttons[kind] = button
            row.addWidget(button)
        self.content.addStretch(1)
        self.content.addLayout(row)
        self.content.addStretch(1)

    def render_content(self) -> None:
        for kind, button in self.kind_buttons.items():
            button.set_texts(
                tr(f"opening.type.{kind}", self.lang), tr(f"opening.type.{kind}.hint", self.lang)
            )
