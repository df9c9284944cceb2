"""What a driver reports, turned into a fault the technician can read and fix.

A driver says three kinds of things: a state (``hardware_error`` ...), an error text it set with that state
(``"card jam"``), and, after a self-test, the names of the checks that failed (``"no card jam"``). Each maps
to a fault of :data:`kiosk.catalogs.device_faults.FAULTS`, whose sentence and steps the page shows instead
of the driver's words. Qt-free; this layer may not import the drivers, so the names are matched as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.catalogs.device_faults import FAULTS
from kiosk.i18n import tr

# Driver error texts (the start of them: some carry a number or an exception) -> fault, per device class.
ERROR_FAULTS: dict[str, dict[str, str]] = {
    "card_reader": {"card jam": "jam"},
    "card_dispenser": {"card jam": "jam"},
    "pin_pad": {"pad tampered": "tampered"},
    "printer": {
        "auto-cutter error": "cutter",
        "printer error": "mechanism",
        "cover open": "cover_open",
        "paper out": "paper_out",
        "printer offline": "offline",
    },
    "camera": {"connected, waiting for frames": "no_frames", "no new frame for": "no_frames"},
}

# Self-test check names (as the drivers name them) -> the fault a failed check means, per device class.
CHECK_FAULTS: dict[str, dict[str, str]] = {
    "card_reader": {
        "initialise": "init_failed",
        "no card jam": "jam",
        "retain bin has room": "bin_full",
        "card path clear": "card_in_path",
        "shutter opens and closes": "shutter",
    },
    "card_dispenser": {
        "reset": "reset_failed",
        "no card jam": "jam",
        "card transport clear": "transport_blocked",
        "blank cards in stock": "stock_empty",
    },
    "pin_pad": {
        "status": "no_status",
        "not tampered": "tampered",
        "TDES PIN key loaded": "tdes_key_missing",
        "AES PIN key loaded": "aes_key_missing",
    },
    "id_reader": {"SAM module": "sam_failed", "card search": "search_failed"},
    "printer": {
        "online": "offline",
        "cover closed": "cover_open",
        "cutter": "cutter",
        "mechanism": "mechanism",
        "paper": "paper_out",
    },
    "camera": {"new frame": "no_frames", "frame size": "frame_size"},
}

# The buttons a fix step may name (as "{self_test}"): maint.action.<name>.
STEP_BUTTONS = ("self_test", "restart", "clear_card", "empty_bin", "replenish_cards", "replenish_paper")

# States in which the device works: nothing to fix.
WORKING_STATES = frozenset({"online", "busy"})


@dataclass(frozen=True)
class FaultText:
    sentence: str
    steps: tuple[str, ...]


def fault_key(device: str, fault: str) -> str | None:
    """The catalogue key of ``fault`` for ``device``: its own entry, else the one every device shares."""
    if fault in FAULTS.get(device, {}):
        return f"maint.fault.{device}.{fault}"
    if fault in FAULTS["any"]:
        return f"maint.fault.any.{fault}"
    return None


def status_fault(device: str, state: str, last_error: str | None) -> str | None:
    """The fault a device's status means, or None while it works."""
    if state in WORKING_STATES:
        return None
    error = (last_error or "").strip().lower()
    for text, fault in ERROR_FAULTS.get(device, {}).items():
        if error.startswith(text.lower()):
            return fault
    return state


def check_fault(device: str, check: str) -> str:
    """The fault a failed self-test check means; an unknown check counts as a hardware fault."""
    return CHECK_FAULTS.get(device, {}).get(check, "hardware_error")


def fault_text(device: str, fault: str, lang: str) -> FaultText:
    key = fault_key(device, fault) or "maint.fault.any.hardware_error"
    name = tr(f"maint.device.{device}", lang)
    if lang == "en" and len(name) > 1 and name[1].islower():
        name = name[0].lower() + name[1:]  # "the card reader", but "the PIN pad", "the ID card reader"
    buttons = {action: tr(f"maint.action.{action}", lang) for action in STEP_BUTTONS}
    steps = tr(f"{key}.steps", lang, device=name, **buttons)
    return FaultText(tr(key, lang, device=name), tuple(line for line in steps.split("\n") if line))
