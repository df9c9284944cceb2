"""One tab per simulated device: big buttons for actions and faults, and a live state view.

Every button only *sends* a control command through its :class:`~simulators.panel.worker.DeviceLink`;
what the tab shows comes back from the simulator's own ``state`` (polled), so the panel never claims a
fault that the simulator did not take. Buttons are kept in ``tab.buttons`` under stable ids for tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QHideEvent, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hostlink.redaction import mask_pan
from simulators.panel.worker import DeviceLink

BUTTON_MIN_HEIGHT = 44
FAULT_STYLE = "QPushButton { background: #fde2e1; border: 1px solid #d9534f; }"
ACTION_STYLE = "QPushButton { background: #e3f0ff; border: 1px solid #3d7fd6; }"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# state keys that are long histories: shown as their last few entries only
TRIMMED_KEYS = ("commands", "rejections", "failed_jobs")


def state_text(state: dict[str, Any]) -> str:
    shown = dict(state)
    for key in TRIMMED_KEYS:
        value = shown.get(key)
        if isinstance(value, list) and len(value) > 5:
            shown[key] = ["…", *value[-5:]]
    return json.dumps(shown, indent=2, ensure_ascii=False, sort_keys=True, default=str)


class DeviceTab(QWidget):
    """Controls on the left, the simulator's live state on the right."""

    title = "Device"
    has_serial_link = True  # socket:// and tcp:// devices share unplug/plug/garbage/silent

    def __init__(self, link: DeviceLink, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.link = link
        self.buttons: dict[str, QPushButton] = {}
        self.state: dict[str, Any] | None = None

        outer = QHBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        outer.addWidget(splitter)

        controls = QWidget(splitter)
        self.controls = QVBoxLayout(controls)
        header = QHBoxLayout()
        heading = QLabel(self.title, controls)
        font = QFont(heading.font())
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        heading.setFont(font)
        self.status_pill = QLabel("● connecting…", controls)
        self.status_pill.setStyleSheet("color: #777; font-weight: bold;")
        header.addWidget(heading)
        header.addStretch(1)
        header.addWidget(self.status_pill)
        self.controls.addLayout(header)
        self.address_label = QLabel(
            f"{link.address.get('url', '?')}   control {link.address.get('control', '?')}", controls
        )
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label.setStyleSheet("color: #555;")
        self.controls.addWidget(self.address_label)
        self.summary = QFormLayout()
        self.controls.addLayout(self.summary)
        self.build()
        self.controls.addWidget(self.link_box())
        self.controls.addStretch(1)

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(QLabel("Live state (polled from the simulator)", right))
        self.state_view = QPlainTextEdit(right)
        self.state_view.setReadOnly(True)
        self.state_view.setFont(QFont("monospace"))
        right_layout.addWidget(self.state_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        link.on_state.append(self._on_state)
        link.on_reply.append(self.on_reply)

    # -- building blocks ---------------------------------------------------------------------
    def build(self) -> None:
        """The device's own sections (subclasses)."""

    def button(
        self,
        key: str,
        text: str,
        action: Callable[[], None] | tuple[str, dict[str, Any]],
        fault: bool = False,
    ) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(key)
        button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        button.setStyleSheet(FAULT_STYLE if fault else ACTION_STYLE)
        if callable(action):
            button.clicked.connect(lambda _checked=False: action())
        else:
            cmd, args = action
            button.clicked.connect(lambda _checked=False: self.link.send(cmd, **args))
        self.buttons[key] = button
        return button

    def section(self, title: str, rows: list[list[QWidget]]) -> QGroupBox:
        box = QGroupBox(title, self)
        grid = QGridLayout(box)
        for r, row in enumerate(rows):
            for c, widget in enumerate(row):
                grid.addWidget(widget, r, c)
        self.controls.addWidget(box)
        return box

    def value_label(self, caption: str) -> QLabel:
        label = QLabel("–", self)
        font = QFont(label.font())
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        label.setFont(font)
        self.summary.addRow(caption, label)
        return label

    def link_box(self) -> QGroupBox:
        box = QGroupBox("Link faults (every device)", self)
        grid = QGridLayout(box)
        if self.has_serial_link:
            items = [
                self.button("unplug", "Unplug", ("unplug", {}), fault=True),
                self.button("plug", "Plug in", ("plug", {})),
                self.button("garbage", "Garbage ×3 replies", ("garbage", {"count": 3}), fault=True),
                self.button("silent", "Go silent", ("silent", {"on": True}), fault=True),
                self.button("unsilent", "Answer again", ("silent", {"on": False})),
                self.button("clear_faults", "Clear all faults", ("clear_faults", {})),
            ]
        else:
            items = [
                self.button("unplug", "Disconnect", ("disconnect", {}), fault=True),
                self.button("plug", "Reconnect", ("reconnect", {})),
                self.button("clear_faults", "Clear all faults", ("clear_faults", {})),
            ]
        for i, widget in enumerate(items):
            grid.addWidget(widget, i // 3, i % 3)
        return box

    # -- state -------------------------------------------------------------------------------
    def _on_state(self, state: dict[str, Any] | None) -> None:
        if not isinstance(state, dict):
            self.state = None
            self.status_pill.setText("● unreachable")
            self.status_pill.setStyleSheet("color: #c9302c; font-weight: bold;")
            return
        self.state = state
        self.state_view.setPlainText(state_text(state))
        problem = self.problem(state)
        if problem:
            self.status_pill.setText(f"● {problem}")
            self.status_pill.setStyleSheet("color: #d58512; font-weight: bold;")
        else:
            self.status_pill.setText("● online")
            self.status_pill.setStyleSheet("color: #2e8b3a; font-weight: bold;")
        self.show_state(state)

    def problem(self, state: dict[str, Any]) -> str:
        if state.get("plugged") is False:
            return "unplugged"
        if state.get("silent"):
            return "silent"
        return ""

    def show_state(self, state: dict[str, Any]) -> None:
        """Fill the summary labels (subclasses)."""

    def on_reply(self, cmd: str, ok: bool, result: Any) -> None:
        """A command's answer (subclasses pick the ones they display)."""


class CardReaderTab(DeviceTab):
    title = "Card reader"

    def build(self) -> None:
        self.media = self.value_label("Card position")
        self.card = self.value_label("Card in the reader")
        self.retained = self.value_label("Retain bin")
        self.wallet = QListWidget(self)
        self.wallet.setMinimumHeight(110)
        self.tracks = QComboBox(self)
        for text, damaged in (
            ("All tracks readable", []),
            ("Track 1 unreadable", [1]),
            ("Track 2 unreadable", [2]),
            ("Tracks 1 and 2 unreadable", [1, 2]),
        ):
            self.tracks.addItem(text, damaged)
        box = self.section(
            "Virtual cards",
            [
                [self.button("insert_card", "Insert selected card", self.insert_selected)],
                [self.tracks],
                [self.button("take_card", "Take / remove card", ("take_card", {}))],
            ],
        )
        grid = box.layout()
        assert isinstance(grid, QGridLayout)
        grid.addWidget(self.wallet, 0, 1, 3, 1)
        self.section(
            "Faults",
            [
                [
                    self.button("jam", "Jam", ("jam", {"on": True}), fault=True),
                    self.button("unjam", "Clear jam", ("jam", {"on": False})),
                ],
                [
                    self.button("bin_full", "Retain bin full", ("bin_full", {}), fault=True),
                    self.button("empty_bin", "Empty retain bin", ("empty_bin", {})),
                ],
                [self.button("nak", "NAK next 3 frames", ("nak", {"count": 3}), fault=True)],
            ],
        )
        self._asked_wallet = False
        self._cards: list[dict[str, str]] = []

    def insert_selected(self) -> None:
        item = self.wallet.currentItem()
        if item is None:
            return
        card = self._cards[int(item.data(Qt.ItemDataRole.UserRole))]
        damaged = list(self.tracks.currentData() or [])
        if damaged:
            self.link.send("insert_card", pan=card["pan"], name=card["name"], damaged_track=damaged)
        else:
            self.link.send("insert_card", pan=card["pan"])

    def show_state(self, state: dict[str, Any]) -> None:
        if not self._asked_wallet:
            self._asked_wallet = True
            self.link.send("cards")
        media = str(state.get("media", "?"))
        if state.get("offered"):
            media += " (card waiting at the closed shutter)"
        self.media.setText(media + ("  — JAMMED" if state.get("jammed") else ""))
        card = state.get("card") or state.get("offered")
        self.card.setText(f"{card['name']}  {card['pan']}" if isinstance(card, dict) else "none")
        full = "  — FULL" if state.get("bin_full") else ""
        self.retained.setText(f"{state.get('retained', '?')} of {state.get('bin_capacity', '?')}{full}")

    def on_reply(self, cmd: str, ok: bool, result: Any) -> None:
        if cmd != "cards" or not ok or not isinstance(result, list):
            return
        self.wallet.clear()
        # Python data stays in this list; the item only holds its index (no dicts through QVariant)
        self._cards = [{"pan": str(card["pan"]), "name": str(card["name"])} for card in result]
        for index, card in enumerate(self._cards):
            item = QListWidgetItem(f"{card['name']}   {mask_pan(card['pan'])}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.wallet.addItem(item)
        if self.wallet.count():
            self.wallet.setCurrentRow(0)


class PinPadTab(DeviceTab):
    title = "PIN pad (EPP)"

    KEYPAD = (
        ("1", "2", "3", "CANCEL"),
        ("4", "5", "6", "CLEAR"),
        ("7", "8", "9", "BACKSPACE"),
        (".", "0", "00", "ENTER"),
    )
    KEY_COLOURS: ClassVar[dict[str, str]] = {
        "CANCEL": "#f0ad4e",
        "CLEAR": "#ffe08a",
        "BACKSPACE": "#ffe08a",
        "ENTER": "#5cb85c",
    }

    def build(self) -> None:
        self.mode = self.value_label("Entry mode")
        self.pin = self.value_label("PIN typed")
        self.keys_loaded = self.value_label("Keys")
        pad = QGroupBox("Keypad (press_keys)", self)
        grid = QGridLayout(pad)
        for r, row in enumerate(self.KEYPAD):
            for c, key in enumerate(row):
                keys = ["0", "0"] if key == "00" else [key]
                button = self.button(f"key_{key}", key, ("press_keys", {"keys": keys}))
                button.setMinimumHeight(56)
                colour = self.KEY_COLOURS.get(key)
                if colour:
                    button.setStyleSheet(f"QPushButton {{ background: {colour}; font-weight: bold; }}")
                grid.addWidget(button, r, c)
        for i in range(8):
            grid.addWidget(self.button(f"key_F{i + 1}", f"F{i + 1}", ("press_keys", {"keys": [f"F{i + 1}"]})),
                           4 + i // 4, i % 4)  # fmt: skip
        self.controls.addWidget(pad)
        self.section(
            "Security and faults",
            [
                [
                    self.button("tamper", "Tamper (erases keys)", ("tamper", {}), fault=True),
                    self.button("load_keys", "Reload test keys", ("load_keys", {})),
                    self.button("nak", "NAK next 3 frames", ("nak", {"count": 3}), fault=True),
                ]
            ],
        )

    def show_state(self, state: dict[str, Any]) -> None:
        mode = str(state.get("mode", "?"))
        if mode == "clear" and state.get("clear_text"):
            mode += f"  “{state['clear_text']}”"
        self.mode.setText(mode + ("  — TAMPERED" if state.get("tamper") else ""))
        self.pin.setText("●" * int(state.get("pin_length", 0)) or "–")
        loaded = state.get("keys_loaded") or {}
        self.keys_loaded.setText(", ".join(k.upper() for k, v in loaded.items() if v) or "none (tampered?)")

    def problem(self, state: dict[str, Any]) -> str:
        return "tampered" if state.get("tamper") else super().problem(state)


class CardDispenserTab(DeviceTab):
    title = "Card dispenser"

    def build(self) -> None:
        self.stock = self.value_label("Blank cards")
        self.position = self.value_label("Card position")
        self.rejects = self.value_label("Reject bin")
        self.dispensed = self.value_label("Last card issued")
        self.stock_spin = QSpinBox(self)
        self.stock_spin.setRange(0, 500)
        self.stock_spin.setValue(50)
        self.stock_spin.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.section(
            "Stock and customer",
            [
                [self.stock_spin, self.button("set_stock", "Set stock", self.set_stock)],
                [
                    self.button("stock_low", "Stock low", ("stock_low", {}), fault=True),
                    self.button("stock_empty", "Stock empty", ("stock_empty", {}), fault=True),
                ],
                [self.button("take_card", "Customer takes the presented card", ("take_card", {}))],
            ],
        )
        self.section(
            "Faults",
            [
                [
                    self.button("jam", "Jam", ("jam", {"on": True}), fault=True),
                    self.button("unjam", "Clear jam", ("jam", {"on": False})),
                ],
                [
                    self.button("write_fail", "Next encoder write fails", ("write_fail", {}), fault=True),
                    self.button("bin_full", "Reject bin full", ("bin_full", {}), fault=True),
                ],
                [self.button("nak", "NAK next 3 frames", ("nak", {"count": 3}), fault=True)],
            ],
        )

    def set_stock(self) -> None:
        self.link.send("set_stock", count=self.stock_spin.value())

    def show_state(self, state: dict[str, Any]) -> None:
        self.stock.setText(f"{state.get('stock_count', '?')} ({state.get('stock', '?')})")
        self.position.setText(str(state.get("position", "?")) + ("  — JAMMED" if state.get("jammed") else ""))
        self.rejects.setText(f"{state.get('reject_count', '?')} of {state.get('reject_capacity', '?')}")
        issued = state.get("dispensed") or []
        if issued:
            last = issued[-1]
            taken = "taken" if last.get("taken") else "at the gate"
            self.dispensed.setText(f"{last.get('pan_masked') or 'blank'} ({taken}); {len(issued)} issued")
        else:
            self.dispensed.setText("none yet")


class IdReaderTab(DeviceTab):
    title = "ID-card reader"

    def build(self) -> None:
        self.card = self.value_label("Card on the reader")
        self.errors = self.value_label("Failing reads left")
        self.fixtures = QListWidget(self)
        self.fixtures.setMinimumHeight(110)
        box = self.section(
            "Fixture ID cards",
            [
                [self.button("place_card", "Place selected card", self.place_selected)],
                [self.button("remove_card", "Remove card", ("remove_card", {}))],
                [self.button("read_error", "Next read fails", ("read_error", {"count": 1}), fault=True)],
            ],
        )
        grid = box.layout()
        assert isinstance(grid, QGridLayout)
        grid.addWidget(self.fixtures, 0, 1, 3, 1)

    def place_selected(self) -> None:
        item = self.fixtures.currentItem()
        if item is not None:
            self.link.send("place_card", card_id=item.text())

    def show_state(self, state: dict[str, Any]) -> None:
        cards = [str(c) for c in state.get("cards") or []]
        if cards and self.fixtures.count() != len(cards):
            self.fixtures.clear()
            self.fixtures.addItems(cards)
            self.fixtures.setCurrentRow(0)
        placed = state.get("card")
        self.card.setText(f"{placed} ({state.get('name')})" if placed else "none")
        self.errors.setText(str(state.get("read_errors", 0)))


class PrinterTab(DeviceTab):
    title = "Receipt printer"

    def build(self) -> None:
        self.paper = self.value_label("Paper")
        self.cover = self.value_label("Cover / cutter")
        self.count = self.value_label("Receipts printed")
        self.after_bytes = QSpinBox(self)
        self.after_bytes.setRange(0, 100_000)
        self.after_bytes.setValue(200)
        self.after_bytes.setSuffix(" bytes into the next job")
        self.after_bytes.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.section(
            "Paper and cover",
            [
                [
                    self.button("paper_low", "Paper low", ("paper_low", {"on": True}), fault=True),
                    self.button("paper_out", "Paper out", ("paper_out", {"on": True}), fault=True),
                    self.button("refill", "Refill paper", ("refill", {})),
                ],
                [
                    self.button("cover_open", "Open cover", ("cover_open", {"on": True}), fault=True),
                    self.button("cover_close", "Close cover", ("cover_open", {"on": False})),
                    self.button("cutter_jam", "Cutter jam", ("cutter_jam", {"on": True}), fault=True),
                ],
            ],
        )
        self.section(
            "Mid-job faults",
            [
                [self.after_bytes],
                [
                    self.button(
                        "disconnect_after", "Disconnect mid-job", self.disconnect_mid_job, fault=True
                    ),
                    self.button("paper_end_after", "Paper ends mid-job", self.paper_end_mid_job, fault=True),
                ],
            ],
        )
        receipts = QGroupBox("Rendered receipts (newest first)", self)
        layout = QHBoxLayout(receipts)
        self.receipts = QListWidget(receipts)
        self.receipts.setMaximumWidth(180)
        self.receipt_image = QLabel("no receipt yet", receipts)
        self.receipt_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.receipt_image.setMinimumSize(260, 260)
        self.receipt_image.setStyleSheet("background: white; border: 1px solid #bbb;")
        layout.addWidget(self.receipts)
        layout.addWidget(self.receipt_image, 1)
        self.controls.addWidget(receipts)
        self.receipts.currentItemChanged.connect(self._show_receipt)
        self._receipts: list[dict[str, Any]] = []
        self.link.on_receipts.append(self.show_receipts)

    def disconnect_mid_job(self) -> None:
        self.link.send("disconnect_after", nbytes=self.after_bytes.value())

    def paper_end_mid_job(self) -> None:
        self.link.send("paper_end_after", nbytes=self.after_bytes.value())

    def show_state(self, state: dict[str, Any]) -> None:
        self.paper.setText(str(state.get("paper", "?")))
        cover = "OPEN" if state.get("cover_open") else "closed"
        cutter = "cutter ERROR" if state.get("cutter_error") else "cutter jam armed" if state.get(
            "cutter_jam_armed") else "cutter ok"  # fmt: skip
        self.cover.setText(f"cover {cover}, {cutter}")
        failed = state.get("failed_jobs") or []
        self.count.setText(
            f"{state.get('receipts', 0)}" + (f" ({len(failed)} failed jobs)" if failed else "")
        )

    def problem(self, state: dict[str, Any]) -> str:
        if state.get("paper") == "out" or state.get("cover_open") or state.get("cutter_error"):
            return "fault"
        return super().problem(state)

    def show_receipts(self, receipts: list[dict[str, Any]]) -> None:
        if not isinstance(receipts, list):
            return
        self.receipts.clear()
        self._receipts = list(reversed(receipts))
        for index, receipt in enumerate(self._receipts):
            cut = "" if receipt.get("cut") else " (uncut)"
            item = QListWidgetItem(f"#{receipt.get('number')}{cut}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(str(receipt.get("text", "")))
            self.receipts.addItem(item)
        if self.receipts.count():
            self.receipts.setCurrentRow(0)

    def _show_receipt(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        if item is None:
            return
        receipt = self._receipts[int(item.data(Qt.ItemDataRole.UserRole))]
        pixmap = QPixmap(str(receipt.get("png", "")))
        if pixmap.isNull():
            self.receipt_image.setText(str(receipt.get("text", "")))  # PNG rendering switched off
            return
        self.receipt_image.setPixmap(
            pixmap.scaledToHeight(
                max(260, self.receipt_image.height()), Qt.TransformationMode.SmoothTransformation
            )
        )


class CameraTab(DeviceTab):
    title = "Camera"
    has_serial_link = False

    SOURCES = (
        ("virtual_person", "Virtual person (live, can blink and turn)"),
        ("video", "Video clip"),
        ("photo", "Still photo held up (photo attack)"),
        ("empty", "Empty scene"),
        ("clock", "Test clock"),
    )

    def __init__(
        self, link: DeviceLink, faces_dir: Path | None = None, parent: QWidget | None = None
    ) -> None:
        self.faces_dir = faces_dir
        super().__init__(link, parent)

    def build(self) -> None:
        self.source = self.value_label("Source")
        self.faults = self.value_label("Stream")
        self.source_box = QComboBox(self)
        for name, text in self.SOURCES:
            self.source_box.addItem(text, name)
        self.photo_box = QComboBox(self)
        photos = sorted(p.name for p in self.faces_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if (
            self.faces_dir and self.faces_dir.is_dir()) else []  # fmt: skip
        self.photo_box.addItems(photos)
        self.source_box.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.photo_box.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.section(
            "Source",
            [
                [self.source_box, self.photo_box],
                [self.button("apply_source", "Show this source", self.apply_source)],
                [
                    self.button("blink", "Blink", ("act", {"action": "blink"})),
                    self.button("turn_left", "Turn left", ("act", {"action": "turn_left"})),
                    self.button("turn_right", "Turn right", ("act", {"action": "turn_right"})),
                ],
            ],
        )
        self.section(
            "Stream faults",
            [
                [
                    self.button("freeze", "Freeze frame", ("freeze", {"on": True}), fault=True),
                    self.button("unfreeze", "Unfreeze", ("freeze", {"on": False})),
                ],
                [
                    self.button("stall", "Stall (no frames)", ("stall", {"on": True}), fault=True),
                    self.button("unstall", "Resume", ("stall", {"on": False})),
                ],
            ],
        )
        preview = QGroupBox("Live preview (/snapshot.jpg)", self)
        layout = QVBoxLayout(preview)
        self.preview = QLabel("no picture", preview)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(320, 240)
        self.preview.setStyleSheet("background: #222; color: #ddd;")
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        self.controls.addWidget(preview)
        self.link.on_snapshot.append(self.show_snapshot)
        self.frames_shown = 0

    def apply_source(self) -> None:
        name = str(self.source_box.currentData())
        args: dict[str, Any] = {"name": name}
        if name in ("virtual_person", "photo") and self.photo_box.currentText():
            args["photo"] = self.photo_box.currentText()
        self.link.send("source", **args)

    def show_state(self, state: dict[str, Any]) -> None:
        self.source.setText(str(state.get("source_detail") or state.get("source", "?")))
        faults = [name for name in ("frozen", "stalled", "disconnected") if state.get(name)]
        self.faults.setText(", ".join(faults).upper() if faults else f"live, {state.get('fps', '?')} fps")

    def problem(self, state: dict[str, Any]) -> str:
        for name in ("disconnected", "stalled", "frozen"):
            if state.get(name):
                return name
        return ""

    def show_snapshot(self, jpeg: bytes) -> None:
        pixmap = QPixmap()
        if not jpeg or not pixmap.loadFromData(jpeg, "JPG"):
            self.preview.setText("no picture")
            return
        self.frames_shown += 1
        self.preview.setPixmap(
            pixmap.scaled(
                self.preview.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.link.set_preview(True)  # fetch snapshots only while someone can see them

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.link.set_preview(False)


TAB_CLASSES: dict[str, type[DeviceTab]] = {
    "card_reader": CardReaderTab,
    "pin_pad": PinPadTab,
    "card_dispenser": CardDispenserTab,
    "id_reader": IdReaderTab,
    "printer": PrinterTab,
    "camera": CameraTab,
}
