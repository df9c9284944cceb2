"""Account opening, last steps: the new PIN (twice), take the new card, the new account number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.i18n import tr
from ui.screens.opening_common import StepScreen
from ui.widgets.button import KioskButton
from ui.widgets.countdown import CountdownBanner
from ui.widgets.pin_dots import EMPTY, FILLED


class OpeningPinScreen(StepScreen):
    """Dots follow the pad's masked keys (the journey counts them); first entry, then the same again."""

    name = "opening_pin"
    title_key = "opening.pin.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.dots = QLabel(self)
        self.dots.setObjectName("pin-dots")
        self.dots.setProperty("role", "pin-dots")
        self.dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shield = QLabel(self)
        self.shield.setProperty("role", "muted")
        self.shield.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.content.addStretch(1)
        self.content.addWidget(self.dots)
        self.content.addWidget(self.shield)
        self.content.addStretch(1)

    def body_text(self) -> str:
        stage = "opening.pin.confirm" if self.context.get("stage") == "confirm" else "opening.pin.first"
        return tr(stage, self.lang)

    def render_content(self) -> None:
        length = int(self.context.get("length", 6))
        count = min(length, int(self.context.get("count", 0)))
        self.dots.setText(" ".join([FILLED] * count + [EMPTY] * (length - count)))
        self.shield.setText(tr("pin.shield", self.lang))

    def dot_count(self) -> int:
        return self.dots.text().count(FILLED)


class OpeningTakeCardScreen(StepScreen):
    """The card is at the gate: a countdown, in warning colours at the end, before it is retained."""

    name = "opening_take_card"
    title_key = "opening.take.title"
    idle_exempt = True  # the dispenser's own take timeout decides, not the idle timer

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.countdown = CountdownBanner(lang, self)
        self.content.addStretch(1)
        self.content.addWidget(self.countdown)
        self.content.addStretch(1)

    def body_text(self) -> str:
        return tr("opening.take.body", self.lang)

    def show_cancel(self) -> bool:
        return False

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self.countdown.start(
            float(context.get("countdown_s", 30)),
            warning_s=float(context.get("warning_s", 10)),
            message_key="opening.take.countdown",
            warning_key="opening.take.warning",
        )

    def on_leave(self) -> None:
        self.countdown.stop()

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.countdown.retranslate(lang)


class OpeningDoneScreen(StepScreen):
    """The new account number, large; print a receipt (if the printer works) and finish."""

    name = "opening_done"
    title_key = "opening.done.title"
    primary_key = "opening.done.finish"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.number = QLabel(self)
        self.number.setObjectName("done-account-number")
        self.number.setProperty("role", "hero")
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card = QLabel(self)
        self.card.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card.setWordWrap(True)
        self.status = QLabel(self)
        self.status.setObjectName("done-print-status")
        self.status.setProperty("role", "subtitle")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setWordWrap(True)
        self.print_button = KioskButton(variant="secondary", parent=self)
        self.print_button.setObjectName("done-print")
        self.print_button.setMaximumWidth(520)
        self.print_button.clicked.connect(lambda: self.emit_action("print"))
        self.content.addStretch(1)
        self.content.addWidget(self.number)
        self.content.addWidget(self.card)
        self.content.addWidget(self.status)
        self.content.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.content.addStretch(1)

    def body_text(self) -> str:
        return tr("opening.done.body", self.lang, name=self.context.get("name", ""))

    def show_cancel(self) -> bool:
        return False

    def render_content(self) -> None:
        ctx, lang = self.context, self.lang
        number = str(ctx.get("account_number", ""))
        self.number.setText(" ".join(number[i : i + 4] for i in range(0, len(number), 4)))
        self.card.setText(tr("opening.done.card", lang, pan_masked=ctx.get("pan_masked", "")))
        self.print_button.set_texts(tr("opening.done.print", lang))
        printing, printed = bool(ctx.get("printing")), bool(ctx.get("printed"))
        self.print_button.setVisible(not printed)
        self.print_button.setEnabled(not printing)
        if printing:
            self.status.setText(tr("opening.done.printing", lang))
        elif printed:
            self.status.setText(tr("opening.done.printed", lang))
        else:
            error = str(ctx.get("print_error", "") or "")
            self.status.setText(tr(error, lang) if error else "")

    def on_primary(self) -> None:
        self.emit_action("finish")
