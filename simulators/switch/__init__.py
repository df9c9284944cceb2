"""Simulated interbank switch: ISO 8583 (1987, our profile) over TCP, 2-byte length framing, ZAK MACs.

It answers an 0200 transfer (DE3 ``400000``, DE100 the receiving bank's 3-digit code, DE102 the account
debited, DE103 the payee's account, DE48 ``payee_name=...;``) with an 0210 and DE39, an 0420/0421
reversal with an 0430, an 0800 with an 0810. Every message carries a retail MAC under the zone MAC key
(:data:`TEST_ZAK` unless given): a request whose MAC is missing or wrong is answered ``A0`` and not acted
on. A request repeated with the same DE11 + DE7 + DE32 (in the same message class) gets the first answer
again. A reversal of an approved transfer marks it reversed; of anything else it is answered ``00`` and
changes nothing.

Control commands (JSON lines, see :mod:`simulators.base`): ``mode`` (``mode``: ``approve`` — the
default, by the rules: bank ``999`` → ``91``, payee account ending in ``0000`` → ``14`` —, ``decline``
with ``code`` (default ``05``), ``timeout`` — never answers, does not act —, ``late`` with ``seconds`` —
decides at once, answers that much later); the shorthands ``approve``, ``decline``, ``timeout``,
``late``; ``script`` (``modes``: one mode per 0200/0420/0421, e.g. ``["timeout", "decline:51",
{"mode": "late", "seconds": 2}]``, then the standing mode again); ``state`` (counts, the switch's view
of the transfers, the last 50 messages as :func:`hostlink.iso8583.codec.describe` lines);
``clear_faults``; and the link faults ``unplug``/``plug``, ``silent``, ``garbage``. Modes and scripts
do not apply to 0800 (always answered while the link is up) nor to a request with a bad MAC.
"""

from __future__ import annotations

from typing import Any

from simulators.switch.server import TEST_ZAK, Mode, Reply, SwitchServer, SwitchSimulator, parse_mode

__all__ = ["TEST_ZAK", "Mode", "Reply", "SwitchServer", "SwitchSimulator", "make_server", "parse_mode"]


def make_server(
    seed: int = 0, port: int = 0, control_port: int = 0, *, zak: bytes | None = None, **_: Any
) -> SwitchServer:
    """A switch simulator on ``127.0.0.1:port`` (ephemeral by default), not started yet.

    ``zak``: the zone MAC key (16 bytes; default :data:`TEST_ZAK`). Other options the fleet hands every
    simulator (``out_dir``, ``faces_dir`` …) are ignored.
    """
    return SwitchServer(SwitchSimulator(seed, zak=zak), port, control_port)
