"""The range-of-outcomes chart: the 5th–95th percentile band and the median, year by year (QPainter).

Painted from the plain numbers the journey sent (minor units), so the chart and the sentence under it
always show the same figures. Axis labels are whole yuan; nothing here computes money.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.i18n import tr
from ui.theme import PALETTE


def yuan_label(minor: int, lang: str) -> str:
    whole = minor // 100
    return f"{whole:,} 元" if lang == "zh_CN" else f"¥{whole:,}"


class ProjectionChart(QWidget):
    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.points: list[Mapping[str, int]] = []
        self.setMinimumSize(QSize(420, 260))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def set_points(self, points: Sequence[Mapping[str, Any]], lang: str) -> None:
        self.points = [{k: int(v) for k, v in p.items()} for p in points]
        self.lang = lang
        self.setAccessibleName(self.describe())
        self.update()

    def describe(self) -> str:
        if not self.points:
            return ""
        last = self.points[-1]
        return (
            f"{tr('advice.chart.title', self.lang)}: {tr('advice.chart.p5', self.lang)} "
            f"{yuan_label(last['p5'], self.lang)}, {tr('advice.chart.p50', self.lang)} "
            f"{yuan_label(last['p50'], self.lang)}, {tr('advice.chart.p95', self.lang)} "
            f"{yuan_label(last['p95'], self.lang)}"
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(PALETTE.surface))
        if len(self.points) < 2:
            painter.end()
            return
        font = QFont(self.font())
        font.setPixelSize(18)
        painter.setFont(font)
        left, right, top, bottom = 120.0, 24.0, 44.0, 44.0
        plot = QRectF(
            left, top, max(10.0, self.width() - left - right), max(10.0, self.height() - top - bottom)
        )
        low = min(p["p5"] for p in self.points)
        high = max(p["p95"] for p in self.points)
        span = max(1, high - low)
        low_axis, high_axis = low - span // 20, high + span // 20
        years = self.points[-1]["year"] or 1

        def at(year: int, minor: int) -> QPointF:
            x = plot.left() + plot.width() * year / years
            y = plot.bottom() - plot.height() * (minor - low_axis) / max(1, high_axis - low_axis)
            return QPointF(x, y)

        text = QColor(PALETTE.text)
        muted = QColor(PALETTE.text_muted)
        # grid and y labels: four steps between the lowest and highest value
        painter.setPen(QPen(QColor(PALETTE.disabled_bg), 1))
        for step in range(5):
            minor = low_axis + (high_axis - low_axis) * step // 4
            y = at(0, minor).y()
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, y - 12, left - 10, 24),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                yuan_label(minor, self.lang),
            )
            painter.setPen(QPen(QColor(PALETTE.disabled_bg), 1))
        # x labels
        painter.setPen(muted)
        for p in self.points:
            if years > 10 and p["year"] % 5:
                continue
            x = at(p["year"], low_axis).x()
            painter.drawText(
                QRectF(x - 20, plot.bottom() + 6, 40, 24), int(Qt.AlignmentFlag.AlignCenter), str(p["year"])
            )
        # the 5–95 band
        band = QPolygonF(
            [at(p["year"], p["p95"]) for p in self.points]
            + [at(p["year"], p["p5"]) for p in reversed(self.points)]
        )
        accent = QColor(PALETTE.accent)
        fill = QColor(accent)
        fill.setAlpha(70)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawPolygon(band)
        # percentile lines
        for key, colour, width in (("p95", accent, 2), ("p5", accent, 2), ("p50", text, 4)):
            path = QPainterPath(at(self.points[0]["year"], self.points[0][key]))
            for p in self.points[1:]:
                path.lineTo(at(p["year"], p[key]))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(colour, width))
            painter.drawPath(path)
        # legend
        painter.setPen(text)
        legend = (
            f"— {tr('advice.chart.p50', self.lang)}    "
            f"▒ {tr('advice.chart.p5', self.lang)} – {tr('advice.chart.p95', self.lang)}    "
            f"{tr('advice.chart.years', self.lang)} →"
        )
        painter.drawText(QRectF(left, 8, plot.width(), 28), int(Qt.AlignmentFlag.AlignLeft), legend)
        painter.end()
