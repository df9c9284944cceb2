"""WCAG AA contrast of the theme: every colour pair the screens use, by name, and no colour that
bypasses the palette (a literal in a screen would escape this check)."""

from __future__ import annotations

import re
from pathlib import Path

import ui
from ui.theme import PALETTE, ColourPair, colour_pairs, contrast_failures, contrast_ratio, is_large_text

UI_DIR = Path(ui.__file__).parent
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
NAMED = re.compile(r"color:\s*(white|black|red)\b")


def test_the_formula_matches_wcag() -> None:
    assert round(contrast_ratio("#FFFFFF", "#000000"), 1) == 21.0
    assert round(contrast_ratio("#777777", "#FFFFFF"), 2) == 4.48  # WCAG's own borderline grey
    assert contrast_ratio("#0B1F3A", "#FFC72C") == contrast_ratio("#FFC72C", "#0B1F3A")
    assert is_large_text(24, False) and is_large_text(19, True) and not is_large_text(22, False)


def test_every_colour_pair_of_the_theme_meets_wcag_aa() -> None:
    assert contrast_failures(colour_pairs()) == []


def test_a_failing_pair_is_listed_by_name() -> None:
    white_on_yellow = ColourPair("white_on_yellow", "#FFFFFF", PALETTE.accent, "text")
    assert contrast_failures([white_on_yellow]) == ["white_on_yellow: #FFFFFF on #FFC72C = 1.56 < 4.5"]


def test_the_pairs_cover_every_palette_colour() -> None:
    used = {c for pair in colour_pairs() for c in (pair.foreground, pair.background)}
    unused = {name for name, value in vars(PALETTE).items() if value not in used}
    # accent_pressed is covered as primary_pressed's background; every other colour is in a pair too.
    assert unused == set()


def test_no_screen_paints_a_colour_of_its_own() -> None:
    """Colours come from ui.theme.PALETTE, so colour_pairs sees them all."""
    found = []
    for path in sorted(UI_DIR.rglob("*.py")):
        if path.name == "theme.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if HEX.search(line) or NAMED.search(line) or "Qt.GlobalColor." in line:
                found.append(f"{path.relative_to(UI_DIR)}:{number}: {line.strip()}")
    assert found == []
