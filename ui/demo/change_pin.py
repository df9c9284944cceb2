"""Card + PIN, then Change PIN with every turn it can take: a wrong current PIN (tries left), a weak new PIN
(1111: refused by the host), two new PINs that differ, then 1234 → 7391 changed; the card returned.

The seed card's PIN is 7391 afterwards: a later demo on the same data dir logs in with ``--pin 7391``.
"""

from __future__ import annotations

from kiosk.i18n import tr
from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
NEW_PIN = "7391"


def _entry(demo: Demo, stage: str, keys: str, label: str = "", error_key: str = "") -> None:
    """Wait for the PIN screen of ``stage`` showing ``error_key`` (or no error), snap it, type ``keys``."""
    screen = demo.wait_screen("pin_entry")
    title = tr(f"pin_change.{stage}.title", demo.lang)
    error = tr(error_key, demo.lang, tries=2) if error_key else ""
    demo.wait_until(
        lambda: screen.title_text() == title and screen.error_text() == error,
        f"the {stage} PIN screen{' with ' + error_key if error_key else ''}",
    )
    if label:
        demo.pump(0.2)
        demo.snap(label)
    demo.press_keys(keys)


def run(demo: Demo) -> None:
    login(demo)
    demo.act("change_pin")
    _entry(demo, "current", "2580E", "current")  # not the card's PIN
    _entry(demo, "new", "1111E", "new")
    _entry(demo, "confirm", "1111E", "confirm")
    _entry(demo, "current", "1234E", "wrong", "pin_change.wrong")  # the new PIN is kept: sent at once
    _entry(demo, "new", NEW_PIN + "E", "weak", "pin_change.weak")
    _entry(demo, "confirm", "7392E")
    _entry(demo, "new", NEW_PIN + "E", "mismatch", "pin_change.mismatch")
    _entry(demo, "confirm", NEW_PIN + "E")
    notice = demo.wait_screen("notice")
    if notice.panel.title() != tr("pin_change.done.title", demo.lang):
        raise DemoFailed(f"the PIN change ended with {notice.panel.title()!r}")
    demo.act("ok")
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
