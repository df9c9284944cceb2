"""The main menu: insert card, log in with face, open an account, help.

A service whose devices or journey are not available shows greyed out with "not available at this
terminal" (or "temporarily unavailable" while a device it needs is down) instead of failing after the
customer chose it. Inserting a card while the menu is showing
starts the card journey as if the button had been pressed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.screens.base import Screen
from ui.widgets.button import KioskButton, Variant

SERVICES: tuple[tuple[str, str], ...] = (
    ("insert_card", "menu.insert_card"),
    ("face_login", "menu.face_login"),
    ("open_account", "menu.open_account"),
    ("help", "menu.help"),
)
# Help has no journey yet; it shows, disabled, with "coming soon".
NOT_YET_BUILT: frozenset[str] = frozenset()


class MenuScreen(Screen):
    name = "menu"
    title_key = "menu.title"

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self._available: dict[str, bool] = {service: service not in NOT_YET_BUILT for service, _ in SERVICES}
        self._device_down: dict[str, bool] = {service: False for service, _ in SERVICES}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 48, 64, 48)
        layout.setSpacing(32)
        self._title = QLabel(self)
        self._title.setProperty("role", "title")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._title)
        grid = QGridLayout()
        grid.setSpacing(32)
        self.buttons: dict[str, KioskButton] = {}
        for index, (service, _) in enumerate(SERVICES):
            variant: Variant = "primary" if service not in NOT_YET_BUILT else "secondary"
            button = KioskButton(variant=variant, parent=self)
            button.setObjectName(f"menu-{service}")
            button.setMinimumHeight(170)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, s=service: self.emit_action(s))
            self.buttons[service] = button
            grid.addWidget(button, index // 2, index % 2)
        layout.addLayout(grid, 1)
        self._exit = KioskButton(variant="secondary", parent=self)
        self._exit.setMaximumWidth(320)
        self._exit.clicked.connect(lambda: self.emit_action("exit"))
        layout.addWidget(self._exit, 0, Qt.AlignmentFlag.AlignLeft)

    def set_available(self, service: str, available: bool, *, device_down: bool = False) -> None:
        """Enable a service (its devices are configured and working, its journey registered) or grey it
        out; ``device_down``: greyed out because a device it needs is down now ("temporarily unavailable"),
        not because this terminal does not offer it."""
        if service not in self._available:
            raise KeyError(service)
        self._available[service] = available and service not in NOT_YET_BUILT
        self._device_down[service] = device_down and not available
        self.retranslate(self.lang)

    def is_available(self, service: str) -> bool:
        return self._available[service]

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self._title.setText(tr("menu.title", lang))
        for service, key in SERVICES:
            button = self.buttons[service]
            available = self._available[service]
            if available:
                hint = tr(f"{key}.hint", lang)
            elif service in NOT_YET_BUILT:
                hint = tr("menu.help.hint", lang)
            elif self._device_down[service]:
                hint = tr("menu.temporarily_unavailable", lang)
            else:
                hint = tr("menu.unavailable", lang)
            button.set_texts(tr(key, lang), hint)
            button.setEnabled(available)
        self._exit.set_texts(tr("common.exit", lang))

    def on_device_event(self, event: Any) -> None:
        """A card reader's "card_inserted" while the menu shows starts the card journey."""
        if not self.isVisible() or not self._available["insert_card"]:
            return
        if getattr(event, "device", "") == "card_reader" and getattr(event, "kind", "") == "card_inserted":
            self.emit_action("insert_card")

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
