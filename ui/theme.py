"""High-contrast kiosk theme: dark navy with white text and an amber accent, big fonts, big targets.

Every size is given for the 1280×800 design and multiplied by a scale factor, so the same look works on a
larger panel; sizes never drop below the accessibility floors (text 22 px, buttons 28 px, targets 44 px).
Every colour the kiosk paints comes from :data:`PALETTE` (no colour literals elsewhere in ``ui/``), and
:func:`colour_pairs` names every foreground/background pair the screens use; their WCAG 2.x contrast ratios
are tested (text 4.5:1, large text 3:1, focus rings and icons 3:1). See docs/accessibility.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

DESIGN_WIDTH = 1280
DESIGN_HEIGHT = 800

MIN_TOUCH_PX = 44
BASE_FONT_PX = 24
BUTTON_FONT_PX = 30
TITLE_FONT_PX = 44
PRIMARY_BUTTON_HEIGHT_PX = 88

# Latin first (its glyphs look best for English), then the CJK family: Qt falls back per glyph.
LATIN_FAMILIES = ["Noto Sans", "DejaVu Sans"]
CJK_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class Palette:
    background: str = "#0B1F3A"  # dark navy
    surface: str = "#132D52"  # cards and panels, a step lighter
    text: str = "#FFFFFF"
    text_muted: str = "#D5DEEA"
    accent: str = "#FFC72C"  # amber primary buttons
    accent_pressed: str = "#E0A800"
    on_accent: str = "#0B1F3A"
    outline: str = "#FFFFFF"
    disabled_bg: str = "#22395E"
    disabled_text: str = "#A9B6C8"
    warning_bg: str = "#FFC72C"
    on_warning: str = "#0B1F3A"
    danger_bg: str = "#B00020"
    on_danger: str = "#FFFFFF"
    success: str = "#3DDC84"
    focus: str = "#7FDBFF"
    # Red text on navy or a panel (field errors, failed checks, critical alerts): lighter than danger_bg,
    # which is a background under white text.
    error_text: str = "#FF8A80"
    error_icon: str = "#FF6B6B"
    field_bg: str = "#FFFFFF"
    field_text: str = "#000000"
    field_placeholder: str = "#595959"
    # The focus ring of a primary (amber) button: the light focus colour is as bright as amber, so the
    # ring would not change the button at all.
    focus_on_accent: str = "#0B1F3A"


PALETTE = Palette()


def relative_luminance(hex_color: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour ``#RRGGBB``."""
    value = hex_color.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# WCAG 2.x minimum ratios: body text (1.4.3), large text (1.4.3), focus rings and icons (1.4.11).
MINIMUM_RATIO = {"text": 4.5, "large": 3.0, "ui": 3.0}


@dataclass(frozen=True)
class ColourPair:
    name: str
    foreground: str
    background: str
    kind: str  # text, large (>= 24 px, or >= 18.66 px bold), ui (non-text: rings, icons)

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.foreground, self.background)

    @property
    def minimum(self) -> float:
        return MINIMUM_RATIO[self.kind]


def is_large_text(pixel_size: int, bold: bool) -> bool:
    """WCAG's large text: 18 pt (24 px), or 14 pt (about 18.66 px) when bold."""
    return pixel_size >= 24 or (bold and pixel_size >= 19)


def colour_pairs(palette: Palette = PALETTE) -> list[ColourPair]:
    """Every foreground/background pair the stylesheet and the screens use. Text is checked as body
    text even where the theme draws it large, so a size change cannot make a colour fail."""
    p = palette
    text = [
        ("body", p.text, p.background),
        ("muted", p.text_muted, p.background),
        ("panel", p.text, p.surface),
        ("panel_muted", p.text_muted, p.surface),
        ("primary_button", p.on_accent, p.accent),
        ("primary_pressed", p.on_accent, p.accent_pressed),
        ("secondary_pressed", p.text, p.disabled_bg),
        ("key_action", p.text, p.disabled_bg),
        ("key_action_accent", p.on_accent, p.accent),
        ("disabled", p.disabled_text, p.disabled_bg),
        ("warning", p.on_warning, p.warning_bg),
        ("danger", p.on_danger, p.danger_bg),
        ("error_text", p.error_text, p.background),
        ("error_text_panel", p.error_text, p.surface),
        ("ok_text", p.success, p.background),
        ("field", p.field_text, p.field_bg),
        ("field_placeholder", p.field_placeholder, p.field_bg),
        ("chart_label", p.text_muted, p.surface),
    ]
    ui = [
        ("focus_ring", p.focus, p.background),
        ("primary_focus_ring", p.focus_on_accent, p.accent),
        ("button_outline", p.outline, p.background),
        ("field_focus", p.accent, p.background),
        ("success_icon", p.success, p.background),
        ("error_icon", p.error_icon, p.background),
        ("warning_icon", p.accent, p.background),
        ("info_icon", p.focus, p.background),
        ("busy_ring", p.accent, p.background),
    ]
    return [ColourPair(n, fg, bg, "text") for n, fg, bg in text] + [
        ColourPair(n, fg, bg, "ui") for n, fg, bg in ui
    ]


def contrast_failures(pairs: list[ColourPair]) -> list[str]:
    """``"name: fg on bg = 1.56 < 4.5"`` for each pair below its minimum."""
    return [
        f"{pair.name}: {pair.foreground} on {pair.background} = {pair.ratio:.2f} < {pair.minimum}"
        for pair in pairs
        if pair.ratio < pair.minimum
    ]


def scale_for(width: int, height: int) -> float:
    """How much bigger than the 1280×800 design the window is (never below 0.6 so targets stay ≥ 44 px)."""
    return max(0.6, min(width / DESIGN_WIDTH, height / DESIGN_HEIGHT))


def px(size: float, scale: float, floor: int = 0) -> int:
    return max(floor, round(size * scale))


def font_families(lang: str) -> list[str]:
    """Chinese screens put the CJK face first so Latin digits match the hanzi's weight."""
    return [CJK_FAMILY, *LATIN_FAMILIES] if lang == "zh_CN" else [*LATIN_FAMILIES, CJK_FAMILY]


def base_font(lang: str, scale: float = 1.0) -> QFont:
    font = QFont()
    font.setFamilies(font_families(lang))
    font.setPixelSize(px(BASE_FONT_PX, scale, 22))
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


def stylesheet(scale: float = 1.0, palette: Palette = PALETTE) -> str:
    p = palette
    base = px(BASE_FONT_PX, scale, 22)
    button = px(BUTTON_FONT_PX, scale, 28)
    title = px(TITLE_FONT_PX, scale, 32)
    hero = px(64, scale, 40)
    small_button = px(64, scale, MIN_TOUCH_PX)
    radius = px(14, scale, 8)
    key = px(64, scale, MIN_TOUCH_PX)
    return f"""
QWidget {{ background: {p.background}; color: {p.text}; font-size: {base}px; }}
QLabel {{ background: transparent; }}
QWidget[role="transparent"] {{ background: transparent; }}
QLabel[role="hero"] {{ font-size: {hero}px; font-weight: 700; }}
QLabel[role="title"] {{ font-size: {title}px; font-weight: 700; }}
QLabel[role="subtitle"] {{ font-size: {button}px; color: {p.text_muted}; }}
QLabel[role="muted"] {{ color: {p.text_muted}; }}
QLabel[role="button-hint"] {{ font-size: {base}px; background: transparent; }}
QLabel[role="button-title"] {{ font-size: {button}px; font-weight: 700; background: transparent; }}

QPushButton {{
    font-size: {button}px; font-weight: 600;
    border-radius: {radius}px; padding: 0 {px(24, scale)}px;
    background: {p.surface}; color: {p.text}; border: 3px solid {p.outline};
}}
QPushButton:pressed {{ background: {p.disabled_bg}; }}
QPushButton:focus {{ border-color: {p.focus}; }}
QPushButton:disabled {{
    background: {p.disabled_bg}; color: {p.disabled_text}; border-color: {p.disabled_bg};
}}
QPushButton[variant="primary"] {{
    background: {p.accent}; color: {p.on_accent}; border: 3px solid {p.accent};
}}
QPushButton[variant="primary"]:pressed {{ background: {p.accent_pressed}; border-color: {p.accent_pressed}; }}
QPushButton[variant="primary"]:focus {{ border-color: {p.focus_on_accent}; }}
QPushButton[variant="primary"]:disabled {{
    background: {p.disabled_bg}; color: {p.disabled_text}; border-color: {p.disabled_bg};
}}
QPushButton[variant="danger"] {{
    background: {p.danger_bg}; color: {p.on_danger}; border-color: {p.danger_bg};
}}
QLabel[tone="on-accent"] {{ color: {p.on_accent}; }}
QLabel[tone="on-danger"] {{ color: {p.on_danger}; }}
QLabel[tone="disabled"] {{ color: {p.disabled_text}; }}
QPushButton[variant="key"] {{
    min-width: {key}px; padding: 0; font-size: {button}px; border-width: 2px;
}}
QPushButton[variant="key-action"] {{
    min-width: {key}px; padding: 0 {px(8, scale)}px; font-size: {base}px;
    background: {p.disabled_bg}; border-width: 2px;
}}
QPushButton[variant="key-action"][accent="true"] {{ background: {p.accent}; color: {p.on_accent}; }}
QPushButton[variant="candidate"] {{
    min-width: {small_button}px; padding: 0 {px(12, scale)}px;
    font-size: {button}px; border: none; background: {p.surface};
}}

QLineEdit {{
    font-size: {button}px; padding: 0 {px(12, scale)}px;
    background: {p.field_bg}; color: {p.field_text}; border: 3px solid {p.outline}; border-radius: {radius}px;
    placeholder-text-color: {p.field_placeholder};
}}
QLineEdit:focus {{ border-color: {p.accent}; }}

QFrame[role="panel"] {{ background: {p.surface}; border-radius: {radius}px; }}
QFrame[role="panel"] QLabel {{ background: transparent; }}
QWidget[role="transparent"] {{ background: transparent; }}
QFrame[role="keyboard"] {{ background: {p.surface}; border-top: 3px solid {p.outline}; }}
QFrame[role="keyboard"] QLabel {{ background: transparent; }}
QWidget[role="transparent"] {{ background: transparent; }}
QFrame[role="candidates"] {{ background: {p.surface}; }}

QFrame[role="banner"] {{ background: {p.surface}; border: 3px solid {p.outline}; border-radius: {radius}px; }}
QFrame[role="banner"] QLabel {{ font-size: {button}px; font-weight: 700; color: {p.text}; }}
QFrame[role="banner"][level="warning"] {{ background: {p.warning_bg}; border-color: {p.warning_bg}; }}
QFrame[role="banner"][level="warning"] QLabel {{ color: {p.on_warning}; }}
QFrame[role="banner"][level="danger"] {{ background: {p.danger_bg}; border-color: {p.danger_bg}; }}
QFrame[role="banner"][level="danger"] QLabel {{ color: {p.on_danger}; }}
QFrame[role="banner"] QPushButton {{ }}

QLabel[role="pin-dots"] {{ font-size: {hero}px; font-weight: 700; letter-spacing: {px(8, scale)}px; }}
"""


def apply_theme(app: QApplication, lang: str = "en", scale: float = 1.0) -> None:
    """Font, palette and stylesheet for the whole application."""
    app.setFont(base_font(lang, scale))
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(PALETTE.background))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(PALETTE.text))
    palette.setColor(QPalette.ColorRole.Base, QColor(PALETTE.field_bg))
    palette.setColor(QPalette.ColorRole.Text, QColor(PALETTE.field_text))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(PALETTE.field_placeholder))
    palette.setColor(QPalette.ColorRole.Button, QColor(PALETTE.surface))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(PALETTE.text))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(PALETTE.accent))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(PALETTE.on_accent))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(scale))
