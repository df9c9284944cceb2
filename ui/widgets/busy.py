"""A spinner that covers its parent while work runs, shown only when the wait passes one second.

Short waits must not flash a spinner, long ones must not look frozen. ``begin()``/``end()`` nest, so
overlapping operations share one overlay.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.theme import PALETTE

SHOW_AFTER_MS = 1000
FRAME_MS = 50


class _Spinner(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.angle = 0
        self.setFixedSize(120, 120)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(10, 10, self.width() - 20, self.height() - 20)
        painter.setPen(QPen(QColor(PALETTE.disabled_bg), 12))
        painter.drawEllipse(rect)
        pen = QPen(QColor(PALETTE.accent), 12)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawArc(rect, -self.angle * 16, 100 * 16)
        painter.end()


class BusyOverlay(QWidget):
    def __init__(self, parent: QWidget, lang: str = "en", *, show_after_ms: int = SHOW_AFTER_MS) -> None:
        super().__init__(parent)
        self._depth = 0
        self._lang = lang
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"background: rgba(11, 31, 58, 220); color: {PALETTE.text};")
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._spinner = _Spinner(self)
        self._spinner.setStyleSheet("background: transparent;")
        layout.addWidget(self._spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self._label = QLabel(self)
        self._label.setProperty("role", "title")
        self._label.setStyleSheet("background: transparent;")
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._label)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(show_after_ms)
        self._delay.timeout.connect(self._reveal)
        self._animation = QTimer(self)
        self._animation.setInterval(FRAME_MS)
        self._animation.timeout.connect(self._advance)
        parent.installEventFilter(self)
        self.retranslate(lang)
        self.hide()

    def begin(self) -> None:
        self._depth += 1
        if self._depth == 1:
            self._delay.start()

    def end(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._delay.stop()
            self._animation.stop()
            self.hide()

    def active(self) -> bool:
        """Work is running (whether or not the spinner is showing yet)."""
        return self._depth > 0

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        self._label.setText(tr("busy.working", lang))

    def _reveal(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self._animation.start()

    def _advance(self) -> None:
        self._spinner.angle = (self._spinner.angle + 12) % 360
        self._spinner.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False
