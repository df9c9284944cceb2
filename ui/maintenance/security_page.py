"""Maintenance page: the live security feed and the active alerts, each acknowledged by name.

``install_security_monitor(controller, monitor)`` adds the page; the monitor's callbacks (any thread)
reach the page through a queued signal, so the page updates on events, never by polling.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from hostlink.technicians import Action, TechSession
from kiosk.banktime import CLOCK_FORMAT
from kiosk.i18n import tr
from kiosk.monitoring import Alert, SecurityMonitor
from ui.maintenance.pages import Page, Runner
from ui.theme import PALETTE
from ui.widgets.button import KioskButton

FEED_ROWS = 100


class _Bridge(QObject):
    changed = Signal()


class SecurityPage(Page):
    def __init__(
        self, runner: Runner, monitor: SecurityMonitor, lang: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(runner, lang, parent)
        self.monitor = monitor
        self._bridge = _Bridge(self)
        self._bridge.changed.connect(self.refresh, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = monitor.subscribe(lambda _kind, _item: self._bridge.changed.emit())
        self.destroyed.connect(lambda *_: self._unsubscribe())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.alerts_heading = QLabel(self)
        self.alerts_heading.setProperty("role", "title")
        self.alert_list = QListWidget(self)
        self.alert_list.setObjectName("security-alerts")
        self.alert_list.setMaximumHeight(220)
        self.ack_button = KioskButton(variant="primary", parent=self)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.feed_heading = QLabel(self)
        self.feed_heading.setProperty("role", "title")
        self.feed_list = QListWidget(self)
        self.feed_list.setObjectName("security-feed")
        layout.addWidget(self.alerts_heading)
        layout.addWidget(self.alert_list)
        layout.addWidget(self.ack_button)
        layout.addWidget(self.outcome)
        layout.addWidget(self.feed_heading)
        layout.addWidget(self.feed_list, 1)
        self.shown_alerts: list[Alert] = []

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.alerts_heading.setText(tr("maint.security.alerts", lang))
        self.feed_heading.setText(tr("maint.security.feed", lang))
        self.ack_button.set_texts(tr("maint.security.ack", lang))
        self.refresh()

    def shown(self) -> None:
        self.refresh()

    def alert_text(self, alert: Alert) -> str:
        return tr(
            "maint.security.alert_row",
            self.lang,
            severity=alert.severity.upper(),
            rule=tr(f"maint.security.rule.{alert.rule}", self.lang),
            subject=alert.subject,
            count=alert.count,
            time=self.bank_time(alert.raised_at, CLOCK_FORMAT),
        )

    def refresh(self) -> None:
        self.shown_alerts = self.monitor.alerts()
        self.alert_list.clear()
        for alert in self.shown_alerts:
            item = QListWidgetItem(self.alert_text(alert))
            if alert.severity == "critical":
                item.setForeground(QColor(PALETTE.error_text))  # pure red is 4.1:1 on navy
            self.alert_list.addItem(item)
        if not self.shown_alerts:
            self.alert_list.addItem(tr("maint.security.no_alerts", self.lang))
        else:
            self.alert_list.setCurrentRow(0)
        self.ack_button.setEnabled(bool(self.shown_alerts) and self.may(Action.SECURITY_MONITOR))
        self.feed_list.clear()
        feed = self.monitor.feed(FEED_ROWS)
        for event in feed:
            when = self.bank_time(event.at, CLOCK_FORMAT)
            self.feed_list.addItem(f"{when}  {event.category}  {event.subject}  {event.detail}".rstrip())
        if not feed:
            self.feed_list.addItem(tr("maint.security.no_events", self.lang))

    def acknowledge_selected(self) -> None:
        row = self.alert_list.currentRow()
        if not 0 <= row < len(self.shown_alerts):
            return
        alert_id = self.shown_alerts[row].alert_id

        def work(session: TechSession) -> int | None:
            return alert_id if self.monitor.acknowledge(alert_id, session.username) else None

        self.runner.run(work, self._acknowledged, label="acknowledge alert")

    def _acknowledged(self, alert_id: int | None) -> None:
        if alert_id is not None:
            self.outcome.show_outcome(True, tr("maint.security.acked", self.lang, alert=alert_id))
        self.refresh()


def install_security_monitor(controller: Any, monitor: SecurityMonitor) -> SecurityPage:
    """Add the security page to a :class:`~ui.maintenance.controller.MaintenanceController`'s screen."""
    page = SecurityPage(controller, monitor, controller.window.lang)
    controller.screen.add_page("security", "maint.nav.security", Action.SECURITY_MONITOR, page)
    return page
