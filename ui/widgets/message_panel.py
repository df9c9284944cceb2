"""A message with a big painted status icon (no icon font needed), a title and a body."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ui.theme import PALETTE

Kind = Literal["success", "error", "info", "warning"]

ICON_COLOURS: dict[str, str] = {
    "success": PALETTE.success,
    "error": PALETTE.error_icon,  # lighter than the danger button: it sits on navy, not under white text
    "info": PALETTE.focus,
    "warning": PALETTE.accent,
}


class StatusIcon(QWidget):
    def __init__(self, kind: Kind = "info", size: int = 140, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind: Kind = kind
        self.setFixedSize(size, size)

    def kind(self) -> Kind:
        return self._kind

    def set_kind(self, kind: Kind) -> None:
        self._kind = kind
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(ICON_COLOURS[self._kind])
        side = min(self.width(), self.height())
        stroke = max(6.0, side / 12)
        rect = QRectF(stroke, stroke, side - 2 * stroke, side - 2 * stroke)
        pen = QPen(colour, stroke)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawEllipse(rect)
        c = rect.center()
        r = rect.width() / 2
        if self._kind == "success":
            path = QPainterPath(QPointF(c.x() - r * 0.45, c.y() + r * 0.02))
            path.lineTo(QPointF(c.x() - r * 0.1, c.y() + r * 0.35))
            path.lineTo(QPointF(c.x() + r * 0.5, c.y() - r * 0.35))
            painter.drawPath(path)
        elif self._kind == "error":
            d = r * 0.38
            painter.drawLine(QPointF(c.x() - d, c.y() - d), QPointF(c.x() + d, c.y() + d))
            painter.drawLine(QPointF(c.x() + d, c.y() - d), QPointF(c.x() - d, c.y() + d))
        else:
            # "i" for info, "!" for warning: a bar and a dot, flipped.
            top, bottom = (
                (c.y() - r * 0.05, c.y() + r * 0.5)
                if self._kind == "info"
                else (
                    c.y() - r * 0.5,
                    c.y() + r * 0.12,
                )
            )
            dot_y = c.y() - r * 0.35 if self._kind == "info" else c.y() + r * 0.42
            painter.drawLine(QPointF(c.x(), top), QPointF(c.x(), bottom))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(c.x(), dot_y), stroke * 0.75, stroke * 0.75)
        painter.end()


class MessagePanel(QFrame):
    def __init__(self, kind: Kind = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "panel")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(24)
        layout.addStretch(1)
        self.icon = StatusIcon(kind, parent=self)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._title.setWordWrap(True)
        layout.addWidget(self._title)
        self._body = QLabel(self)
        self._body.setProperty("role", "subtitle")
        self._body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._body.setWordWrap(True)
        layout.addWidget(self._body)
        layout.addStretch(1)

    def set_message(self, kind: Kind, title: str, body: str = "") -> None:
        self.icon.set_kind(kind)
        self._title.setText(title)
        self._body.setText(body)
        self._body.setVisible(bool(body))

    def title(self) -> str:
        return self._title.text()

    def body(self) -> str:
        return self._body.text()
