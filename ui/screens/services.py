"""The logged-in services menu and "anything else?"."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from ui.screens.step import StepScreen
from ui.widgets.button import KioskButton

SERVICES: tuple[tuple[str, str], ...] = (
    ("balance", "services.balance"),
    ("mini_statement", "services.mini_statement"),
    ("history", "services.history"),
    ("transfer", "services.transfer"),
)


class ServicesMenuScreen(StepScreen):
    name = "services_menu"
    title_key = "services.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        grid = QGridLayout()
        grid.setSpacing(28)
        self.service_buttons: dict[str, KioskButton] = {}
        for index, (action, _) in enumerate(SERVICES):
            button = KioskButton(variant="primary", parent=self)
            button.setObjectName(f"services-{action}")
            button.setMinimumHeight(150)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, a=action: self.emit_action(a))
            self.service_buttons[action] = button
            grid.addWidget(button, index // 2, index % 2)
        self.body.addLayout(grid, 1)
        self._printer = self.value_label("muted")
        self.body.addWidget(self._printer)
        self.add_button("finish", "services.finish")

    def refresh_view(self) -> None:
        account = str(self.data("account", ""))
        self.set_header(self.t("services.title"), self.t("services.account", account=account))
        for action, key in SERVICES:
            self.service_buttons[action].set_texts(self.t(key), self.t(f"{key}.hint"))
        self._printer.setText("" if self.data("printer_ok", True) else self.t("services.no_printer"))


class AnythingElseScreen(StepScreen):
    name = "anything_else"
    title_key = "anything_else.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.body.addStretch(1)
        self.add_button("yes", "anything_else.yes", "primary").setMinimumHeight(140)
        self.add_button("no", "anything_else.no", "secondary").setMinimumHeight(140)

    def refresh_view(self) -> None:
        self.set_header(self.t("anything_else.title"), self.t("anything_else.body"))
