"""The face check (account opening and face login): what to do now, in big letters, with a symbol.

The prompts come from the liveness session in the biometrics worker (look at the camera → blink → turn
left/right, in a random order) through the journey's view. After a failed match a Try again button shows
with the attempts left.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.i18n import tr
from ui.screens.opening_common import StepScreen
from ui.theme import PALETTE


class ChallengeIcon(QWidget):
    """A face outline with the asked action: closed eyes for blink, an arrow for a turn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.challenge = ""
        self.setFixedSize(220, 220)

    def set_challenge(self, challenge: str) -> None:
        self.challenge = challenge
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(PALETTE.text), 8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        face = QRectF(50, 20, 120, 160)
        painter.drawEllipse(face)
        if self.challenge == "blink":
            painter.drawLine(QPointF(78, 85), QPointF(100, 85))
            painter.drawLine(QPointF(120, 85), QPointF(142, 85))
        else:
            painter.drawEllipse(QPointF(89, 85), 6, 6)
            painter.drawEllipse(QPointF(131, 85), 6, 6)
        painter.drawArc(QRectF(85, 110, 50, 30), 200 * 16, 140 * 16)
        if self.challenge in ("turn_left", "turn_right"):
            # The customer's left is the screen's left as they face it.
            accent = QPen(QColor(PALETTE.accent), 10)
            accent.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(accent)
            y = 200.0
            start, end = (180.0, 40.0) if self.challenge == "turn_left" else (40.0, 180.0)
            path = QPainterPath(QPointF(start, y))
            path.lineTo(QPointF(end, y))
            painter.drawPath(path)
            tip = 18.0 if self.challenge == "turn_left" else -18.0
            painter.drawLine(QPointF(end, y), QPointF(end + tip, y - 14))
            painter.drawLine(QPointF(end, y), QPointF(end + tip, y + 14))
        painter.end()


class FaceCheckScreen(StepScreen):
    name = "face_check"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.icon = ChallengeIcon(self)
        self.prompt = QLabel(self)
        self.prompt.setObjectName("face-prompt")
        self.prompt.setProperty("role", "hero")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt.setWordWrap(True)
        self.progress = QLabel(self)
        self.progress.setObjectName("face-progress")
        self.progress.setProperty("role", "subtitle")
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy = QLabel(self)
        self.privacy.setProperty("role", "muted")
        self.privacy.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy.setWordWrap(True)
        self.content.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        self.content.addWidget(self.prompt)
        self.content.addWidget(self.progress)
        self.content.addStretch(1)
        self.content.addWidget(self.privacy)

    def title_text(self) -> str:
        purpose = "login" if self.context.get("purpose") == "login" else "opening"
        return tr(f"face.title.{purpose}", self.lang)

    def body_text(self) -> str:
        return tr("face.hint", self.lang)

    def render_content(self) -> None:
        ctx, lang = self.context, self.lang
        self.icon.set_challenge(str(ctx.get("challenge", "") or ""))
        self.prompt.setText(tr(str(ctx.get("prompt") or "liveness.look_at_camera"), lang))
        parts = [tr("face.attempt", lang, attempt=ctx.get("attempt", 1), attempts=ctx.get("attempts", 1))]
        if ctx.get("steps"):
            parts.append(tr("face.step", lang, step=ctx.get("step", 1), steps=ctx.get("steps")))
        self.progress.setText("  ·  ".join(parts))
        purpose = "login" if ctx.get("purpose") == "login" else "opening"
        self.privacy.setText(tr(f"face.privacy.{purpose}", lang))
        retry = bool(ctx.get("retry"))
        self.primary_button.set_texts(tr("face.retry", lang))
        self.primary_button.setVisible(retry)

    def prompt_text(self) -> str:
        return self.prompt.text()

    def on_primary(self) -> None:
        self.emit_action("retry")
