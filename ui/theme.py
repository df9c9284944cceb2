"""High-contrast kiosk theme: dark navy with white text and an amber accent, big fonts, big targets.

Every size is given for the 1280×800 design and multiplied by a scale factor, so the same look works on a
larger panel; sizes never drop below the accessibility floors (text 22 px, buttons 28 px, targets 44 px).
The palette's contrast ratios are computed (WCAG 2.x formula) and tested to stay ≥ 4.5:1.
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


def text_pairs(palette: Palette = PALETTE) -> dict[str, tuple[str, str]]:
    """Every (text, background) pair the stylesheet uses for readable text."""
    return {
        "body": (palette.text, palette.background),
        "muted": (palette.text_muted, palette.background),
        "panel": (palette.text, palette.surface),
        "panel_muted": (palette.text_muted, palette.surface),
        "primary_button": (palette.on_accent, palette.accent),
        "primary_pressed": (palette.on_accent, palette.accent_pressed),
        "disabled": (palette.disabled_text, palette.disabled_bg),
        "warning": (palette.on_warning, palette.warning_bg),
        "danger": (palette.on_danger, palette.danger_bg),
        "success_icon": (palette.success, palette.background),
    }


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
QPushButton[variant="primary"]:focus {{ border-color: {p.focus}; }}
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
    background: #FFFFFF; color: #000000; border: 3px solid {p.outline}; border-radius: {radius}px;
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
    palette.setColor(QPalette.ColorRole.Base, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    palette.setColor(QPalette.ColorRole.Button, QColor(PALETTE.surface))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(PALETTE.text))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(PALETTE.accent))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(PALETTE.on_accent))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(scale))
