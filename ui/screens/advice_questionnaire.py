"""Wealth advice: the disclosure, one screen per question (reused for all ten), the amount to plan for."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from ui.screens.step import StepScreen, clear_layout, money_text
from ui.widgets.button import KioskButton


class AdviceIntroScreen(StepScreen):
    name = "advice_intro"
    title_key = "advice.intro.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._disclaimer = self.value_label("muted")
        self.body.addWidget(self._disclaimer)
        self.body.addStretch(1)
        self.add_button("cancel", "common.cancel")
        self.add_button("start", "advice.intro.start", "primary")

    def refresh_view(self) -> None:
        self.set_header(
            self.t("advice.intro.title"), self.t("advice.intro.body", questions=self.data("questions", 10))
        )
        self._disclaimer.setText(self.t("advice.intro.disclaimer"))


class AdviceQuestionScreen(StepScreen):
    """The question as the title, its options as big buttons; the chosen one is ticked when coming back."""

    name = "advice_question"
    title_key = "advice.question.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.options = QGridLayout()
        self.options.setSpacing(16)
        self.body.addLayout(self.options)
        self.body.addStretch(1)
        self.option_buttons: dict[str, KioskButton] = {}
        self.add_button("back", "common.back")
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        if not self.data("text_key"):
            return  # built before any question was sent
        index = int(self.data("index", 0))
        self.set_header(
            self.t(str(self.data("text_key", ""))),
            self.t("advice.question.title", index=index + 1, total=self.data("total", 10)),
        )
        clear_layout(self.options)
        self.option_buttons = {}
        selected = str(self.data("selected", ""))
        options = list(self.data("options", []))
        columns = 1 if len(options) <= 4 else 2
        for n, option in enumerate(options):
            option_id = str(option["id"])
            text = self.t(str(option["key"]))
            button = KioskButton(
                f"✓ {text}" if option_id == selected else text,
                variant="primary" if option_id == selected else "secondary",
                parent=self,
            )
            button.setObjectName(f"advice-option-{option_id}")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, o=option_id: self.emit_action("answer", {"option": o}))
            self.options.addWidget(button, n // columns, n % columns)
            self.option_buttons[option_id] = button


class AdviceAmountScreen(StepScreen):
    name = "advice_amount"
    title_key = "advice.amount.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.grid = QGridLayout()
        self.grid.setSpacing(24)
        self.body.addLayout(self.grid)
        self.body.addStretch(1)
        self.amount_buttons: dict[int, KioskButton] = {}
        self.add_button("back", "common.back")
        self.add_button("cancel", "common.cancel")

    def refresh_view(self) -> None:
        self.set_header(self.t("advice.amount.title"), self.t("advice.amount.body"))
        clear_layout(self.grid)
        self.amount_buttons = {}
        currency = str(self.data("currency", "CNY"))
        for n, minor in enumerate(self.data("presets", [])):
            amount = int(minor)
            button = KioskButton(money_text(amount, currency, self.lang), variant="primary", parent=self)
            button.setObjectName(f"advice-amount-{amount}")
            button.setMinimumHeight(120)
            button.clicked.connect(lambda _=False, a=amount: self.emit_action("amount", {"minor": a}))
            self.grid.addWidget(button, n // 2, n % 2)
            self.amount_buttons[amount] = button


def percent(bps: int) -> str:
    """Basis points as a percentage with two decimals: 320 → ``3.20%`` (integer arithmetic)."""
    sign = "-" if bps < 0 else ""
    whole, frac = divmod(abs(int(bps)), 100)
    return f"{sign}{whole}.{frac:02d}%"
