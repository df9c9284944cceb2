"""The logged-in services menu and "anything else?"."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from kiosk.i18n_catalog import CATALOG
from ui.screens.step import StepScreen
from ui.widgets.button import KioskButton

SERVICES: tuple[tuple[str, str], ...] = (
    ("balance", "services.balance"),
    ("mini_statement", "services.mini_statement"),
    ("history", "services.history"),
    ("transfer", "services.transfer"),
)


def has_text(key: str) -> bool:
    return key in CATALOG["en"]


class ServicesMenuScreen(StepScreen):
    """Built-in services first, then whatever the logged-in registry offers (``extra`` in the view)."""

    name = "services_menu"
    title_key = "services.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._grid = QGridLayout()
        self._grid.setSpacing(24)
        self.service_buttons: dict[str, KioskButton] = {}
        self._labels: dict[str, str] = dict(SERVICES)
        for action, _ in SERVICES:
            self._button(action)
        self._layout_buttons()
        self.body.addLayout(self._grid, 1)
        self._printer = self.value_label("muted")
        self.body.addWidget(self._printer)
        self.add_button("finish", "services.finish")

    def _button(self, action: str) -> KioskButton:
        button = KioskButton(variant="primary", parent=self)
        button.setObjectName(f"services-{action}")
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        button.clicked.connect(lambda _=False, a=action: self.emit_action(a))
        self.service_buttons[action] = button
        return button

    def _layout_buttons(self) -> None:
        # Two columns of tall buttons for the four built-ins; three columns once more services join.
        columns = 2 if len(self.service_buttons) <= 4 else 3
        height = 150 if columns == 2 else 110
        for column in range(3):
            self._grid.setColumnStretch(column, 1 if column < columns else 0)
        for index, button in enumerate(self.service_buttons.values()):
            self._grid.removeWidget(button)
            button.setMinimumHeight(height)
            self._grid.addWidget(button, index // columns, index % columns)

    def refresh_view(self) -> None:
        extra = [e for e in self.data("extra", []) or [] if e.get("action") not in self.service_buttons]
        for entry in extra:
            self._labels[entry["action"]] = entry["label_key"]
            self._button(entry["action"])
        if extra:
            self._layout_buttons()
        account = str(self.data("account", ""))
        self.set_header(self.t("services.title"), self.t("services.account", account=account))
        for action, key in self._labels.items():
            hint_key = f"{key}.hint"
            hint = self.t(hint_key) if has_text(hint_key) else ""
            self.service_buttons[action].set_texts(self.t(key), hint)
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
