"""Account opening, first steps: place the ID card, then check the identity read from it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QWidget

from hostlink.redaction import mask_id_number
from kiosk.i18n import tr
from ui.screens.opening_common import StepScreen
from ui.theme import PALETTE
from ui.widgets.message_panel import StatusIcon


class OpeningIdScreen(StepScreen):
    """ "Place your ID card on the reader"; read errors show with a Read again button."""

    name = "opening_id"
    title_key = "opening.id.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.icon = StatusIcon("info", 160, self)
        self.content.addStretch(1)
        self.content.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        self.content.addStretch(1)

    def body_text(self) -> str:
        if self.context.get("checking"):
            return tr("opening.id.checking", self.lang)
        return tr("opening.id.body", self.lang)

    def render_content(self) -> None:
        error = str(self.context.get("error", "") or "")
        if error and "attempts_left" in self.context:
            self.set_error(error)
            self._error.setText(
                self._error.text() + " " + tr("opening.id.attempts_left", self.lang, **dict(self.context))
            )
        self.icon.set_kind("warning" if error else "info")
        self.primary_key = "opening.id.retry" if error else ""
        self.primary_button.set_texts(tr(self.primary_key, self.lang) if self.primary_key else "")
        self.primary_button.setVisible(bool(error))

    def on_primary(self) -> None:
        self.emit_action("retry")


FIELDS = (
    ("name", "opening.identity.name"),
    ("sex", "opening.identity.sex"),
    ("ethnicity", "opening.identity.ethnicity"),
    ("birth_date", "opening.identity.birth_date"),
    ("address", "opening.identity.address"),
    ("id_number", "opening.identity.id_number"),
    ("authority", "opening.identity.authority"),
    ("validity", "opening.identity.validity"),
)


class OpeningIdentityScreen(StepScreen):
    """The parsed identity beside the card photo, with the check-digit verdict and any refusal."""

    name = "opening_identity"
    title_key = "opening.identity.title"
    primary_key = "opening.identity.confirm"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(32)
        self.photo = QLabel(self)
        self.photo.setObjectName("identity-photo")
        self.photo.setFixedSize(204, 252)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setStyleSheet(f"border: 3px solid {PALETTE.text_muted}; border-radius: 8px;")
        row.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        panel = QFrame(self)
        panel.setProperty("role", "panel")
        grid = QGridLayout(panel)
        grid.setContentsMargins(24, 16, 24, 16)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(8)
        self.labels: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for index, (field, _key) in enumerate(FIELDS):
            label = QLabel(panel)
            label.setProperty("role", "muted")
            value = QLabel(panel)
            value.setObjectName(f"identity-{field}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            grid.addWidget(label, index, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, index, 1)
            self.labels[field], self.values[field] = label, value
        grid.setColumnStretch(1, 1)
        row.addWidget(panel, 1)
        self.content.addLayout(row)
        self.verdict = QLabel(self)
        self.verdict.setObjectName("identity-verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setProperty("role", "subtitle")
        self.content.addWidget(self.verdict)

    def render_content(self) -> None:
        ctx, lang = self.context, self.lang
        for field, key in FIELDS:
            self.labels[field].setText(tr(key, lang))
        until = str(ctx.get("valid_until") or "") or tr("opening.identity.long_term", lang)
        check = "opening.identity.check_ok" if ctx.get("check_digit_ok") else "opening.identity.check_bad"
        texts = {
            "name": str(ctx.get("name", "")),
            "sex": str(ctx.get("sex" if lang == "zh_CN" else "sex_en", "")),
            "ethnicity": str(ctx.get("ethnicity", "")),
            "birth_date": str(ctx.get("birth_date", "")),
            "address": str(ctx.get("address", "")),
            # Masked as logs and receipts mask it: the customer recognises their own, a passer-by learns
            # too little to use it.
            "id_number": f"{mask_id_number(str(ctx.get('id_number', '')))}   ({tr(check, lang)})",
            "authority": str(ctx.get("authority", "")),
            "validity": tr(
                "opening.identity.validity_range",
                lang,
                valid_from=ctx.get("valid_from", ""),
                valid_until=until,
            ),
        }
        for field, text in texts.items():
            self.values[field].setText(text)
        pixmap = QPixmap()
        photo = ctx.get("photo") or b""
        if photo and pixmap.loadFromData(bytes(photo)):
            self.photo.setPixmap(
                pixmap.scaled(
                    196, 244, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        else:
            self.photo.clear()
        refusal_key = str(ctx.get("refusal_key", "") or "")
        if refusal_key:
            self.verdict.setText(tr("opening.refused.title", lang) + ": " + tr(refusal_key, lang))
            self.verdict.setStyleSheet(f"color: {PALETTE.error_text}; font-weight: 700;")
            self.primary_button.set_texts(tr("common.exit", lang))
            self.cancel_button.hide()
        else:
            self.verdict.setText(tr("opening.identity.ok", lang))
            self.verdict.setStyleSheet("")

    def refused(self) -> bool:
        return bool(self.context.get("refusal"))

    def on_primary(self) -> None:
        self.emit_action("finish" if self.refused() else "confirm")
