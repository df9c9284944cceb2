"""The developer control panel window: one tab per simulator plus an activity log of every command."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMainWindow, QSplitter, QTabWidget, QWidget

from simulators.panel.tabs import TAB_CLASSES, CameraTab, DeviceTab
from simulators.panel.worker import DEFAULT_POLL_MS, DeviceLink

LOG_LIMIT = 300
DEVICE_ORDER = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")


class ControlPanel(QMainWindow):
    """``addresses`` is what ``python -m simulators --json`` prints: device → {"url", "control", …}."""

    def __init__(
        self,
        addresses: dict[str, dict[str, Any]],
        *,
        faces_dir: Path | None = None,
        poll_ms: int = DEFAULT_POLL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Smart Teller — simulated devices (developer control panel)")
        self.resize(1280, 860)
        self.links: dict[str, DeviceLink] = {}
        self.tabs: dict[str, DeviceTab] = {}
        self._closed = False

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.tab_widget = QTabWidget(splitter)
        self.tab_widget.setStyleSheet(
            "QTabBar::tab { min-height: 34px; padding: 4px 14px; font-weight: bold; }"
        )
        self.log = QListWidget(splitter)
        self.log.setMaximumHeight(150)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)

        known = [d for d in DEVICE_ORDER if d in addresses] + [d for d in addresses if d not in DEVICE_ORDER]
        for device in known:
            tab_class = TAB_CLASSES.get(device)
            if tab_class is None:
                continue  # a device class the panel has no tab for yet: still served, just not shown
            link = DeviceLink(device, addresses[device], poll_ms, parent=self)
            tab = CameraTab(link, faces_dir) if tab_class is CameraTab else tab_class(link)
            link.on_reply.append(partial(self._log_reply, device))
            self.links[device] = link
            self.tabs[device] = tab
            self.tab_widget.addTab(tab, tab.title)
        for link in self.links.values():
            link.start()
        self.statusBar().showMessage(f"{len(self.links)} simulators; state polled every {poll_ms} ms")

    def note(self, text: str, error: bool = False) -> None:
        """A line in the activity log (also used by the supervisor for fleet news)."""
        item = QListWidgetItem(f"{time.strftime('%H:%M:%S')}  {text}")
        if error:
            item.setForeground(QColor("#c9302c"))
        self.log.insertItem(0, item)
        while self.log.count() > LOG_LIMIT:
            self.log.takeItem(self.log.count() - 1)

    def _log_reply(self, device: str, cmd: str, ok: bool, result: object) -> None:
        if ok:
            self.note(f"{device}: {cmd} → ok")
        else:
            self.note(f"{device}: {cmd} refused: {result}", error=True)

    def shutdown(self) -> None:
        """Stop every poller and join its thread (safe to repeat)."""
        if self._closed:
            return
        self._closed = True
        for link in self.links.values():
            link.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
