"""The bank host's link to the interbank switch (ISO 8583): other-bank transfers held as pending are
forwarded as 0200s and posted or voided by the answer; an unanswered one is reversed (docs/iso8583.md,
"Host ↔ interbank switch"). With no ``switch.address`` set there is no link, and ``bank clear`` (the
simulated clearing house, :mod:`bank.clearing`) settles them as before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bank.switch.link import SwitchLink
from bank.switch.models import ForwardingState, SwitchForwarding

if TYPE_CHECKING:
    from bank.host import Host

__all__ = ["ForwardingState", "SwitchForwarding", "SwitchLink", "start_switch_link"]


def start_switch_link(host: Host) -> SwitchLink | None:
    """The host's switch link, started; None when ``switch.address`` is empty. ``close()`` it (it joins
    its thread) before ``host.close()``."""
    settings = host.settings.switch
    if not settings.address:
        return None
    return SwitchLink(
        host.engine, host.ledger, settings, clock=host.clock, name=f"switch-{host.settings.host_id}"
    ).start()
