"""Touch widgets for the kiosk: big buttons, on-screen keyboard and keypad, countdowns, busy spinner."""

from ui.widgets.busy import BusyOverlay
from ui.widgets.button import KioskButton
from ui.widgets.countdown import CountdownBanner
from ui.widgets.keyboard import OnScreenKeyboard
from ui.widgets.keypad import NumericKeypad
from ui.widgets.message_panel import MessagePanel, StatusIcon
from ui.widgets.pin_dots import PinDots

__all__ = [
    "BusyOverlay",
    "CountdownBanner",
    "KioskButton",
    "MessagePanel",
    "NumericKeypad",
    "OnScreenKeyboard",
    "PinDots",
    "StatusIcon",
]
