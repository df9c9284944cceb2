"""The PIN pad as the card link's security module, and the card link built from the terminal's settings.

``kiosk.cardlink.CardLink`` holds no key: it hands key blocks to the PIN pad and asks it for MACs through
:class:`PinPadSecurity`, which turns the device's operations into plain calls (on the worker pool, never
the GUI thread) and its failures into :class:`~kiosk.cardlink.CardLinkError`.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path

from devices.pin_pad.interface import PinPad
from kiosk.cardlink import CardLink, CardLinkError, KeyExchangeError

CARDLINK_STATE_DIR = "cardlink"


class PinPadSecurity:
    def __init__(self, pad: PinPad, timeout_s: float = 10.0) -> None:
        self.pad = pad
        self.timeout_s = timeout_s

    def load_working_key(self, kind: str, key_block: str) -> str:
        result = self.pad.load_working_key(kind, key_block).result(self.timeout_s)
        if not result.ok or result.value is None:
            raise KeyExchangeError(f"the PIN pad did not load the {kind} key: {result.detail}")
        return result.value

    def mac(self, data: bytes) -> bytes:
        result = self.pad.generate_mac(data).result(self.timeout_s)
        if not result.ok or result.value is None:
            raise CardLinkError(f"the PIN pad could not compute a MAC: {result.detail}")
        return result.value


def card_link(
    addresses: list[str],
    terminal_id: str,
    pad: PinPad,
    data_dir: Path,
    *,
    timeout_s: float = 10.0,
    real_pin_pad: bool = False,
    local_zone: tzinfo = UTC,
) -> CardLink:
    """The terminal's card link: its state (STAN, queued reversals) under ``data_dir/cardlink``. With a
    ``real_pin_pad`` a sign-on whose keys come under the documented test TMK is refused."""
    return CardLink(
        addresses,
        terminal_id,
        PinPadSecurity(pad, timeout_s),
        data_dir / CARDLINK_STATE_DIR,
        timeout_s=timeout_s,
        local_zone=local_zone,
        refuse_test_master_key=real_pin_pad,
    )
