"""Card journey screens: insert card, please wait, PIN entry, take your card, in-journey notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from ui.screens.step import StepScreen, clear_layout
from ui.theme import PALETTE
from ui.widgets.countdown import CountdownBanner
from ui.widgets.message_panel import MessagePanel


def _round_pen(colour: str, width: int) -> QPen:
    pen = QPen(QColor(colour), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


class CardArt(QWidget):
    """A bank card and an arrow into (``inward``) or out of the slot, drawn (no font glyph needed)."""

    def __init__(self, inward: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inward = inward
        self.setMinimumHeight(200)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = 220, 140
        x, y = (self.width() - w) // 2 - 80, (self.height() - h) // 2
        painter.setPen(QPen(QColor(PALETTE.text), 4))
        painter.setBrush(QColor(PALETTE.surface))
        painter.drawRoundedRect(x, y, w, h, 14, 14)
        painter.fillRect(x + 2, y + 26, w - 4, 26, QColor(PALETTE.text_muted))
        painter.setBrush(QColor(PALETTE.accent))
        painter.drawRoundedRect(x + 24, y + 72, 44, 34, 6, 6)
        slot_x = x + w + 90
        painter.setPen(_round_pen(PALETTE.accent, 10))
        painter.drawLine(slot_x, y - 10, slot_x, y + h + 10)
        arrow_from, arrow_to = (x + w + 16, slot_x - 20) if self.inward else (slot_x - 20, x + w + 16)
        mid = y + h // 2
        painter.setPen(_round_pen(PALETTE.text, 8))
        painter.drawLine(arrow_from, mid, arrow_to, mid)
        head = 16 if arrow_to > arrow_from else -16
        painter.drawLine(arrow_to, mid, arrow_to - head, mid - 14)
        painter.drawLine(arrow_to, mid, arrow_to - head, mid + 14)
        painter.end()


class CardInsertScreen(StepScreen):
    name = "card_insert"
    title_key = "card.insert.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.body.addWidget(CardArt(True, self), 1)
        self._hint = self.value_label("subtitle")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self._hint)
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(self.t("card.insert.title"), self.t("card.insert.body"))
        self._hint.setText(self.t("card.insert.hint"))


class CardWaitScreen(StepScreen):
    """Reading the card, checking the PIN, posting a transfer, printing: no buttons, never idle-times out."""

    name = "card_wait"
    title_key = "common.please_wait"
    idle_exempt = True

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._dots = QLabel("● ● ●", self)
        self._dots.setProperty("role", "hero")
        self._dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self._dots, 1)

    def refresh_view(self) -> None:
        key = str(self.data("message_key") or "common.please_wait")
        self.set_header(self.t(key), self.t("common.please_wait"))


class PinEntryScreen(StepScreen):
    """One ``*`` per key from the PIN pad's events; the digits never reach this screen.

    Login and re-entry have their own texts; a journey may name others (``title_key``/``body_key``: the
    PIN change's current, new and again)."""

    name = "pin_entry"
    title_key = "pin.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._dots = self.value_label("pin-dots")
        self._dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._dots.setObjectName("pin-dots")
        self.body.addStretch(1)
        self.body.addWidget(self._dots)
        self._tries = self.value_label("muted")
        self._tries.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self._tries)
        self._safety = self.value_label("muted")
        self._safety.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self._safety)
        self.body.addStretch(1)
        self.add_button("cancel", "common.cancel")

    def dots(self) -> str:
        return self._dots.text()

    def refresh_view(self) -> None:
        reentry = bool(self.data("reentry", False))
        self.set_header(
            self.t(str(self.data("title_key") or ("pin.reentry.title" if reentry else "pin.title"))),
            self.t(str(self.data("body_key") or ("pin.reentry.body" if reentry else "pin.body"))),
        )
        count, length = int(self.data("digits", 0)), int(self.data("max_digits", 6))
        self._dots.setText(" ".join(["*"] * count + ["_"] * max(0, length - count)))
        tries = int(self.data("tries_left", 3))
        self._tries.setText(
            self.t("pin.tries_left", tries=tries) if tries < 3 and not self.error_text() else ""
        )
        self._safety.setText(self.t("attract.hint.safety"))


class CardTakeScreen(StepScreen):
    """The card is at the gate: a countdown, a warning (and a beep) before the card is retained."""

    name = "card_take"
    title_key = "card.take.title"
    idle_exempt = True

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.body.addWidget(CardArt(False, self), 1)
        self.countdown = CountdownBanner(lang, self)
        self.countdown.tick.connect(self._on_tick)
        self.body.addWidget(self.countdown)
        self._beeped = False
        self.beeps = 0

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self._beeped = False
        self.countdown.start(
            float(self.data("countdown_s", 30)),
            warning_s=float(self.data("warning_s", 10)),
            message_key="card.take.countdown",
            warning_key="card.take.warning",
        )

    def on_leave(self) -> None:
        self.countdown.stop()

    def _on_tick(self, seconds: int) -> None:
        if not self._beeped and seconds <= float(self.data("warning_s", 10)):
            self._beeped = True
            self.beeps += 1
            QApplication.beep()

    def refresh_view(self) -> None:
        self.set_header(self.t("card.take.title"), self.t("card.take.body"))
        self.countdown.retranslate(self.lang)


class NoticeScreen(StepScreen):
    """A message inside a journey (printer out of paper, transfer refused) with its own buttons."""

    name = "notice"
    title_key = "message.info.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.panel = MessagePanel("info", self)
        self.body.addWidget(self.panel, 1)
        self._shown_buttons: tuple[str, ...] = ()

    def refresh_view(self) -> None:
        params = dict(self.data("params", {}) or {})
        self.set_header("")
        self._title.hide()
        self._subtitle.hide()
        self.panel.set_message(
            self.data("kind", "info"),
            self.t(str(self.data("title_key", "message.info.title")), **params),
            self.t(str(self.data("body_key")), **params) if self.data("body_key") else "",
        )
        wanted = tuple(self.data("buttons", ["ok"]))
        if wanted != self._shown_buttons:
            clear_layout(self._button_row)
            self.buttons.clear()
            self._button_keys.clear()
            for index, name in enumerate(wanted):
                self.add_button(name, f"notice.{name}", "primary" if index == 0 else "secondary")
            self._shown_buttons = wanted
