"""Wealth advice: the result (level, allocation, range chart), the product shelf, a product, the
cooling-off notice and the registered interest."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.screens.advice_chart import ProjectionChart, yuan_label
from ui.screens.advice_questionnaire import percent
from ui.screens.step import StepScreen, clear_layout, detail_grid, money_text
from ui.widgets.button import KioskButton


def panel(parent: QWidget) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame(parent)
    frame.setProperty("role", "panel")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(20, 16, 20, 16)
    layout.setSpacing(8)
    return frame, layout


class AdviceResultScreen(StepScreen):
    name = "advice_result"
    title_key = "advice.chart.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        row = QHBoxLayout()
        row.setSpacing(24)
        left, left_layout = panel(self)
        self._caps = QLabel(left)
        self._caps.setWordWrap(True)
        self._caps.setProperty("role", "muted")
        self._allocation_title = QLabel(left)
        self._allocation_title.setStyleSheet("font-weight: 700;")
        self.allocation = QGridLayout()
        self.allocation.setHorizontalSpacing(16)
        left_layout.addWidget(self._caps)
        left_layout.addWidget(self._allocation_title)
        left_layout.addLayout(self.allocation)
        left_layout.addStretch(1)
        self.chart = ProjectionChart(lang, self)
        row.addWidget(left, 5)
        row.addWidget(self.chart, 6)
        self.body.addLayout(row, 1)
        self._range = self.value_label()
        self._assumptions = self.value_label("muted")
        self.body.addWidget(self._range)
        self.body.addWidget(self._assumptions)
        self.add_button("shelf", "advice.result.shelf", "primary")
        self.add_button("done", "common.done")

    def range_text(self) -> str:
        return self._range.text()

    def refresh_view(self) -> None:
        level = str(self.data("level", ""))
        if not level:
            return
        currency = str(self.data("currency", "CNY"))
        self.set_header(
            self.t("advice.result.title", level=level, name=self.t(f"advice.level.{level}")),
            self.t("advice.result.score", score=self.data("score", 0)),
        )
        caps = list(self.data("caps", []))
        if caps:
            lines = [self.t("advice.result.capped", band=self.data("band_level", ""), level=level)]
            lines += [f"• {self.t(key)}" for key in caps]
            self._caps.setText("\n".join(lines))
        self._caps.setVisible(bool(caps))
        amount = int(self.data("amount_minor", 0))
        self._allocation_title.setText(
            self.t("advice.result.allocation", amount=money_text(amount, currency, self.lang))
        )
        clear_layout(self.allocation)
        for n, row in enumerate(self.data("allocation", [])):
            minor = int(row["minor"])
            share = minor * 10_000 // amount if amount else 0
            cells = (
                self.t(f"advice.product.{row['product']}"),
                str(row["risk"]),
                percent(share).replace(".00", ""),
                money_text(minor, currency, self.lang),
            )
            for col, text in enumerate(cells):
                label = QLabel(text, self)
                if col >= 2:
                    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.allocation.addWidget(label, n, col)
        self.allocation.setColumnStretch(0, 1)
        projection: dict[str, Any] = dict(self.data("projection", {}))
        points = list(projection.get("points", []))
        self.chart.set_points(points, self.lang)
        if points:
            last = points[-1]
            self._range.setText(
                self.t(
                    "advice.result.range",
                    years=projection.get("years", 0),
                    rate=percent(int(projection.get("expected_return_bps", 0))),
                    low=yuan_label(int(last["p5"]), self.lang),
                    mid=yuan_label(int(last["p50"]), self.lang),
                    high=yuan_label(int(last["p95"]), self.lang),
                )
            )
        self._assumptions.setText(self.t("advice.result.assumptions"))


class AdviceShelfScreen(StepScreen):
    name = "advice_shelf"
    title_key = "advice.shelf.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.grid = QGridLayout()
        self.grid.setSpacing(14)
        self.body.addLayout(self.grid)
        self.body.addStretch(1)
        self.product_buttons: dict[str, KioskButton] = {}
        self.add_button("back", "common.back")
        self.add_button("done", "common.done", "primary")

    def refresh_view(self) -> None:
        level = str(self.data("level", "C1"))
        self.set_header(
            self.t("advice.shelf.title"), self.t("advice.shelf.body", level=level, max_risk="R" + level[-1])
        )
        clear_layout(self.grid)
        self.product_buttons = {}
        for n, item in enumerate(self.data("products", [])):
            code = str(item["code"])
            hint = self.t(
                "advice.shelf.row",
                risk=self.t(f"advice.risk.{item['risk']}"),
                rate=percent(int(item["expected_return_bps"])),
            )
            if item.get("interested"):
                hint += " · " + self.t("advice.shelf.interested")
            elif not item.get("allowed", False):
                hint += " · " + self.t("advice.shelf.above")
            button = KioskButton(
                self.t(f"advice.product.{code}"),
                hint=hint,
                variant="secondary",
                parent=self,
            )
            button.setObjectName(f"advice-product-{code}")
            button.clicked.connect(lambda _=False, c=code: self.emit_action("product", {"code": c}))
            self.grid.addWidget(button, n // 2, n % 2)
            self.product_buttons[code] = button


class AdviceProductScreen(StepScreen):
    name = "advice_product"
    title_key = "advice.shelf.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.details = QVBoxLayout()
        self.body.addLayout(self.details)
        self._note = self.value_label()
        self.body.addWidget(self._note)
        self.body.addStretch(1)
        self.add_button("back", "advice.back_to_shelf")
        self.add_button("interest", "advice.product.interest", "primary")

    def refresh_view(self) -> None:
        code = str(self.data("code", ""))
        if not code:
            return
        currency = str(self.data("currency", "CNY"))
        risk = str(self.data("risk", ""))
        self.set_header(self.t(f"advice.product.{code}"), self.t(f"advice.product.{code}.desc"))
        rows = [
            (self.t("advice.product.risk"), self.t(f"advice.risk.{risk}")),
            (
                self.t("advice.product.return"),
                self.t("advice.product.per_year", rate=percent(int(self.data("expected_return_bps", 0)))),
            ),
            (
                self.t("advice.product.volatility"),
                self.t("advice.product.per_year", rate=percent(int(self.data("volatility_bps", 0)))),
            ),
            (
                self.t("advice.product.minimum"),
                money_text(int(self.data("min_amount_minor", 0)), currency, self.lang),
            ),
            (self.t("advice.product.liquidity"), self.t(str(self.data("liquidity_key", "")))),
        ]
        clear_layout(self.details)
        self.details.addLayout(detail_grid(rows, self))
        interested = bool(self.data("interested", False))
        notes = []
        if interested:
            notes.append(self.t("advice.product.interested"))
        if self.data("cooling_off", False):
            notes.append(self.t("advice.product.cooling_note"))
        self._note.setText("\n".join(notes))
        self.buttons["interest"].setEnabled(not interested)
        # A refusal names the product's rating and the customer's level; other errors are plain.
        refusal = str(self.data("refusal") or "")
        error = str(self.data("error") or "")
        if refusal:
            self.set_error(self.t(refusal, risk=risk, level=self.data("level", "")))
        else:
            self.set_error(self.t(error) if error else "")


class AdviceCoolingOffScreen(StepScreen):
    name = "advice_cooling_off"
    title_key = "advice.cooling.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._body = self.value_label()
        self._body.setStyleSheet("font-size: 30px;")
        self.body.addWidget(self._body)
        self.body.addStretch(1)
        self.add_button("back", "common.back")
        self.add_button("acknowledge", "advice.cooling.acknowledge", "primary")

    def refresh_view(self) -> None:
        code = str(self.data("code", ""))
        self.set_header(self.t("advice.cooling.title"))
        self._body.setText(
            self.t(
                "advice.cooling.body",
                product=self.t(f"advice.product.{code}") if code else "",
                risk=self.data("risk", ""),
                hours=self.data("hours", 24),
            )
        )

    def body_text(self) -> str:
        return self._body.text()


class AdviceRegisteredScreen(StepScreen):
    name = "advice_registered"
    title_key = "advice.registered.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._body = self.value_label()
        self._cooling = self.value_label("subtitle")
        self.body.addWidget(self._body)
        self.body.addWidget(self._cooling)
        self.body.addStretch(1)
        self.add_button("shelf", "advice.back_to_shelf")
        self.add_button("done", "common.done", "primary")

    def refresh_view(self) -> None:
        code = str(self.data("code", ""))
        self.set_header(self.t("advice.registered.title"))
        self._body.setText(
            self.t("advice.registered.body", product=self.t(f"advice.product.{code}") if code else "")
        )
        until = str(self.data("cooling_off_until", ""))
        self._cooling.setText(self.t("advice.registered.cooling", until=until) if until else "")
