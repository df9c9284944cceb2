"""Cards found at start: a crash between two journaled steps leaves a card with no open intent."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.journal import Journal
from kiosk.journal.recovery import SWEEP_EVENT, sweep_cards


class Port:
    """A device port in a chosen state (recovery's ports are plain protocols; this is one)."""

    def __init__(self, present: bool, capture_ok: bool = True, broken: bool = False) -> None:
        self.present = present
        self.capture_ok = capture_ok
        self.broken = broken
        self.captures = 0

    def card_present(self) -> bool:
        if self.broken:
            raise OSError("link down")
        return self.present

    def capture_card(self) -> bool:
        self.captures += 1
        if self.capture_ok:
            self.present = False
        return self.capture_ok


def records(journal: Journal) -> list[dict[str, object]]:
    return [json.loads(line) for line in journal.path.read_text(encoding="utf-8").splitlines()]


def test_a_card_in_a_device_is_captured_and_journaled_and_empty_devices_are_left_alone(
    tmp_path: Path,
) -> None:
    with Journal(tmp_path, "K1") as journal:
        reader, dispenser, empty = Port(True), Port(True, capture_ok=False), Port(False)
        swept = sweep_cards(journal, {"card_reader": reader, "card_dispenser": dispenser, "other": empty})
        assert swept == {"card_reader": "card_captured", "card_dispenser": "capture_failed"}
        assert reader.captures == 1 and empty.captures == 0
        written = [(r["event"], r["fields"]) for r in records(journal)]
        assert written == [
            (SWEEP_EVENT, {"device": "card_reader", "result": "card_captured"}),
            (SWEEP_EVENT, {"device": "card_dispenser", "result": "capture_failed"}),
        ]
        assert journal.verify().ok


def test_a_device_that_fails_does_not_stop_the_sweep(tmp_path: Path) -> None:
    with Journal(tmp_path, "K1") as journal:
        reader = Port(True)
        swept = sweep_cards(journal, {"card_dispenser": Port(True, broken=True), "card_reader": reader})
        assert swept == {"card_dispenser": "sweep_failed: OSError", "card_reader": "card_captured"}
        assert reader.captures == 1
