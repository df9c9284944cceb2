"""The maintenance screen: who is logged in, the pages the role may open, and the idle-logout countdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hostlink.technicians import Action
from kiosk.i18n import tr
from ui.maintenance.common import FAIL_COLOUR, KeyboardFollower
from ui.maintenance.pages import (
    DevicesPage,
    JournalPage,
    LogsPage,
    Page,
    Runner,
    ServicePage,
    SettingsPage,
    TechniciansPage,
)
from ui.screens.base import Screen
from ui.theme import PALETTE
from ui.widgets.button import KioskButton
from ui.widgets.countdown import CountdownBanner
from ui.widgets.keyboard import OnScreenKeyboard

TECH_BUTTON_HEIGHT_PX = 64

# page name → (catalogue key, the permission that shows it)
NAV: dict[str, tuple[str, Action]] = {
    "devices": ("maint.nav.devices", Action.DEVICE_STATUS),
    "journal": ("maint.nav.journal", Action.VIEW_JOURNAL),
    "settings": ("maint.nav.settings", Action.DEVICE_STATUS),
    "logs": ("maint.nav.logs", Action.DEVICE_STATUS),
    "techs": ("maint.nav.techs", Action.TECH_MANAGEMENT),
    "service": ("maint.nav.service", Action.OUT_OF_SERVICE),
}


class MinimumHeightScrollArea(QScrollArea):
    """Gives its widget the view's size, or the widget's minimum height when the view is shorter (then it
    scrolls). Qt's own resizable mode sizes a widget holding wrapped labels by its preferred height for the
    width, which makes the pages scroll long before they need to."""

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return False

    def _fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        view = self.viewport().size()
        widget.resize(view.width(), max(view.height(), widget.minimumSizeHint().height()))


class CurrentPageStack(QStackedWidget):
    """A page stack as tall as the page on show: a plain stack asks for its tallest page's height, which
    would make every page scroll under the keyboard because the journal page is tall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()


class MaintenanceScreen(Screen):
    name = "maintenance"
    title_key = "maint.title"
    idle_exempt = True  # technicians have their own idle logout (TechSession), with its own countdown

    def __init__(
        self, runner: Runner, device_names: list[str], lang: str = "en", parent: QWidget | None = None
    ) -> None:
        super().__init__(lang, parent)
        self.runner = runner
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        top = QWidget(self)
        bar = QHBoxLayout(top)
        bar.setContentsMargins(24, 12, 24, 8)
        self._title = QLabel(top)
        self._title.setProperty("role", "title")
        self.user_label = QLabel(top)
        self.user_label.setProperty("role", "subtitle")
        self.logout_button = KioskButton(variant="secondary", parent=top)
        self.logout_button.setMaximumWidth(240)
        self.logout_button.clicked.connect(lambda: self.emit_action("logout"))
        bar.addWidget(self._title)
        bar.addStretch(1)
        bar.addWidget(self.user_label)
        bar.addWidget(self.logout_button)
        outer.addWidget(top)
        self.oos_label = QLabel(self)
        self.oos_label.setStyleSheet(
            f"background: {FAIL_COLOUR}; color: {PALETTE.on_danger}; font-weight: 700; padding: 8px 24px;"
        )
        self.oos_label.setWordWrap(True)
        outer.addWidget(self.oos_label)

        middle = QWidget(self)
        row = QHBoxLayout(middle)
        row.setContentsMargins(24, 8, 24, 8)
        row.setSpacing(16)
        nav = QVBoxLayout()
        nav.setSpacing(8)
        self.nav_buttons: dict[str, KioskButton] = {}
        for page in NAV:
            button = KioskButton(variant="secondary", parent=middle)
            button.setCheckable(True)
            button.setFixedWidth(200)
            button.clicked.connect(lambda _=False, p=page: self.open_page(p))
            nav.addWidget(button)
            self.nav_buttons[page] = button
        nav.addStretch(1)
        self._nav = nav
        self.nav: dict[str, tuple[str, Action]] = dict(NAV)  # NAV plus pages added by other areas
        row.addLayout(nav)
        self.pages_stack = CurrentPageStack(middle)
        self.pages: dict[str, Page] = {
            "devices": DevicesPage(runner, device_names, lang),
            "journal": JournalPage(runner, lang),
            "settings": SettingsPage(runner, lang),
            "logs": LogsPage(runner, lang),
            "techs": TechniciansPage(runner, lang),
            "service": ServicePage(runner, lang),
        }
        for widget in self.pages.values():
            self.pages_stack.addWidget(widget)
        row.addWidget(self.pages_stack, 1)
        # The pages scroll rather than shrink: when the keyboard takes the lower part of the screen, a
        # squeezed layout would stack buttons on top of each other and a tap would hit the wrong one.
        self.body_scroll = MinimumHeightScrollArea(self)
        self.body_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body_scroll.setWidget(middle)
        self.body_scroll.verticalScrollBar().rangeChanged.connect(lambda *_: self._keep_focus_in_view())
        outer.addWidget(self.body_scroll, 1)
        self.idle_banner = CountdownBanner(lang, self)
        outer.addWidget(self.idle_banner)
        self.keyboard = OnScreenKeyboard(lang, parent=self)
        outer.addWidget(self.keyboard)
        self._follower = KeyboardFollower(self, self.keyboard)
        self.current_page = "devices"
        # a technician's console, not the customer's: denser text, still >= 44 px touch targets
        self.setStyleSheet(
            'QLabel[role="button-title"] { font-size: 22px; } QLabel[role="button-hint"] { font-size: 18px; }'
            " QScrollArea#maint-details QLabel { font-size: 20px; } QPlainTextEdit { font-size: 16px; }"
            " QTableWidget { font-size: 18px; }"
        )
        for button in self.findChildren(KioskButton):
            button.setMinimumHeight(TECH_BUTTON_HEIGHT_PX)

    def _keep_focus_in_view(self) -> None:
        """The field being typed into stays above the keyboard (the view shrank when the keyboard rose)."""
        focused = QApplication.focusWidget()
        body = self.body_scroll.widget()
        if not isinstance(focused, QLineEdit) or body is None or not body.isAncestorOf(focused):
            return
        outcome = self.pages[self.current_page].outcome
        if outcome.isVisible() and outcome.text():
            self.body_scroll.ensureWidgetVisible(outcome, 0, 0)  # what the last action did, if it fits too
        self.body_scroll.ensureWidgetVisible(focused, 0, 8)

    @property
    def devices_page(self) -> DevicesPage:
        page = self.pages["devices"]
        assert isinstance(page, DevicesPage)
        return page

    def on_enter(self, context: Mapping[str, Any]) -> None:
        super().on_enter(context)
        self.keyboard.hide()
        self.retranslate(self.lang)
        self.open_page("devices")

    def on_leave(self) -> None:
        self.idle_banner.stop()
        self.keyboard.set_target(None)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self._title.setText(tr("maint.title", lang))
        self.logout_button.set_texts(tr("maint.logout", lang))
        session = self.runner.session
        if session is not None:
            role = tr(f"maint.role.{session.role.value}", lang)
            self.user_label.setText(tr("maint.user", lang, username=session.username, role=role))
        for page, (key, permission) in self.nav.items():
            button = self.nav_buttons[page]
            button.set_texts(tr(key, lang))
            # a page the role may not use is not offered at all (the service refuses it anyway)
            button.setVisible(session is not None and session.may(permission))
        for widget in self.pages.values():
            widget.retranslate(lang)
        self.idle_banner.retranslate(lang)
        self.keyboard.retranslate(lang)
        self.update_service_state()

    def open_page(self, page: str) -> bool:
        session = self.runner.session
        if page not in self.pages or session is None or not session.may(self.nav[page][1]):
            return False
        self.current_page = page
        for name, button in self.nav_buttons.items():
            button.setChecked(name == page)
        self.pages_stack.setCurrentWidget(self.pages[page])
        self.pages[page].shown()
        return True

    def add_page(self, name: str, title_key: str, permission: Action, page: Page) -> None:
        """A page from another area (loan reviews, security), offered to roles with ``permission``."""
        if name in self.pages:
            raise ValueError(f"a maintenance page named {name!r} exists")
        button = KioskButton(variant="secondary", parent=self)
        button.setCheckable(True)
        button.setFixedWidth(200)
        button.setMinimumHeight(TECH_BUTTON_HEIGHT_PX)
        button.clicked.connect(lambda _=False, p=name: self.open_page(p))
        self._nav.insertWidget(self._nav.count() - 1, button)  # above the stretch
        self.nav_buttons[name] = button
        self.nav[name] = (title_key, permission)
        self.pages[name] = page
        self.pages_stack.addWidget(page)
        self.retranslate(self.lang)

    def update_service_state(self) -> None:
        state = self.runner.service.out_of_service()
        self.oos_label.setVisible(state.active)
        if state.active:
            self.oos_label.setText(tr("maint.oos_banner", self.lang, reason=state.reason))

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.keyboard.hide()
            return
        super().keyPressEvent(event)
