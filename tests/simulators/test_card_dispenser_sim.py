"""The dispenser simulator on the wire and through its control API."""

from __future__ import annotations

import pytest

from devices.card_dispenser import protocol as p
from devices.card_reader.tracks import encode_track2
from devices.serial_link import ACK, NAK
from simulators.card_dispenser import CardDispenserSimulator

TRACK2 = encode_track2("6217001234567894", "3112", "101")


def send(sim: CardDispenserSimulator, command: str, data: bytes = b"") -> p.Reply:
    out = sim.on_bytes(p.encode_frame(command, data))
    assert out[0] == ACK
    return p.parse_reply(out[1:])


def test_wire_golden_and_faults() -> None:
    sim = CardDispenserSimulator(stock=3, low_threshold=1)
    assert sim.on_bytes(bytes.fromhex("02 30 52 46 03 25")) == bytes([ACK]) + bytes.fromhex(
        "02 30 52 46 30 30 30 50 03 45"
    )
    assert sim.on_bytes(bytes.fromhex("02 30 52 46 03 24")) == bytes([NAK])  # bad BCC
    assert sim.on_bytes(p.encode_frame("RF", address="5")) == b""  # another unit's address
    assert send(sim, "ZZ").error is p.ErrorCode.UNKNOWN_COMMAND
    assert send(sim, "DC").positive
    assert send(sim, "WT", b";123?").error is p.ErrorCode.BAD_DATA
    assert send(sim, "WT", TRACK2.encode()).positive
    reply = send(sim, "DP")
    assert reply.positive and reply.status.position is p.Position.AT_GATE
    assert sim.snapshot()["dispensed"][0]["pan_masked"] == "621700******7894"


def test_control_errors() -> None:
    sim = CardDispenserSimulator()
    with pytest.raises(ValueError):
        sim.ctl_take_card()
    with pytest.raises(ValueError):
        sim.ctl_set_stock(-1)
    assert sim.ctl_stock_low()["stock"] == "low"
    assert sim.ctl_stock_empty()["stock"] == "empty"
