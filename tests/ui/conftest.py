"""Shared fixtures for the Qt tests: a themed application and settings that touch nothing real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from kiosk.settings import Settings, load_settings

ALL_DEVICES = {
    name: "socket://127.0.0.1:9"
    for name in ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")
}


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    from ui.theme import apply_theme

    apply_theme(qapp, "en")
    yield qapp


@pytest.fixture
def kiosk_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    return load_settings(data_dir=str(tmp_path / "data"), devices=ALL_DEVICES)


def distinct_colours(path: Path, step: int = 7) -> int:
    """How many different colours a sample of the PNG's pixels has (a blank grab has one)."""
    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable image"
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    )
