"""A terminal's reversal of an other-bank transfer the host has forwarded to the switch: the switch is told
too, or the other bank keeps money the customer got back.

The forwarding row decides, by one conditional UPDATE per state, so it races neither the link's own
claim nor its answers:

- ``new`` (not sent): → ``reversed`` here; the caller voids the hold (the link's claim needs it pending).
- ``sent`` or ``approved``: → ``reversing``; the link sends the 0420 (repeated as 0421) and, on the 0430,
  voids the hold or, for a transfer already posted, posts the compensating transfer.
- ``reversing``: already on its way.  ``declined`` / ``reversed``: nothing left to undo.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, select, update

from bank.switch.models import ForwardingState, SwitchForwarding

FORWARDING = cast(Table, SwitchForwarding.__table__)
S = ForwardingState


class SwitchReversal(enum.StrEnum):
    NOT_FORWARDED = "not_forwarded"  # no forwarding row: the host undoes it alone
    VOID_HERE = "void_here"  # never sent: void the hold now
    AT_SWITCH = "at_switch"  # the link reverses it at the switch, then settles the ledger
    NOTHING = "nothing"  # declined or reversed already


def reverse_forwarded(engine: Engine, transfer_id: int, clock: Callable[[], datetime]) -> SwitchReversal:
    for from_state, to_state, outcome in (
        (S.NEW, S.REVERSED, SwitchReversal.VOID_HERE),
        (S.SENT, S.REVERSING, SwitchReversal.AT_SWITCH),
        (S.APPROVED, S.REVERSING, SwitchReversal.AT_SWITCH),
    ):
        with engine.begin() as conn:
            moved = conn.execute(
                update(FORWARDING)
                .where(FORWARDING.c.transfer_id == transfer_id, FORWARDING.c.state == from_state.value)
                .values(state=to_state.value, updated_at=clock())
            ).rowcount
        if moved == 1:
            return outcome
    with engine.connect() as conn:
        state = conn.execute(
            select(FORWARDING.c.state).where(FORWARDING.c.transfer_id == transfer_id)
        ).scalar_one_or_none()
    if state is None:
        return SwitchReversal.NOT_FORWARDED
    return SwitchReversal.AT_SWITCH if state == S.REVERSING.value else SwitchReversal.NOTHING
