"""Free text from people and devices (payee names, ID-card names, bill references) that can reach the
receipt printer or a log: control characters in it would be commands to the printer (ESC @ resets it,
GS V cuts, ESC p kicks a cash drawer) or forge log lines, so they are refused at input and stripped on
output.

A control character here is any of Unicode's ``Cc`` (C0 and C1 controls, DEL) and ``Cf`` (format
characters such as bidi overrides, which can make a name read backwards on a screen).
"""

from __future__ import annotations

import unicodedata


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf")


def has_control(text: str) -> bool:
    """True when ``text`` holds any control or format character."""
    return any(is_control(ch) for ch in text)


def strip_control(text: str) -> str:
    """``text`` without its control and format characters."""
    return "".join(ch for ch in text if not is_control(ch))
