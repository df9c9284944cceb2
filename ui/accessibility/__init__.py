"""Accessibility on the kiosk: speech guidance, keypad-only navigation, elderly and assisted modes.

``install_accessibility(window, app=None)`` wires it all onto a :class:`~ui.app.KioskWindow` without
editing the window: it listens to ``window.stack.screenChanged`` (speaks each screen), adds the
accessibility screen and a button for it on the language screen, filters keys for keypad navigation,
follows the PIN pad's idle function keys, and resets the modes when the session ends. See
:class:`~ui.accessibility.controller.AccessibilityController` and docs/accessibility.md.
"""

from __future__ import annotations

from typing import Any

from ui.accessibility.controller import AccessibilityController
from ui.accessibility.speech import Speaker


def install_accessibility(
    window: Any, app: Any | None = None, *, speaker: Speaker | None = None
) -> AccessibilityController:
    """Attach accessibility to ``window`` (and the running :class:`~ui.kiosk_app.KioskApp` when given)."""
    return AccessibilityController(window, app, speaker=speaker)


__all__ = ["AccessibilityController", "install_accessibility"]
