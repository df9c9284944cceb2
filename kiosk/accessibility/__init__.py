"""Accessibility modes (Qt-free): what the window, the journeys and the speech guidance consult."""

from kiosk.accessibility.modes import AccessibilityModes, scaled_session_timeouts

__all__ = ["AccessibilityModes", "scaled_session_timeouts"]
