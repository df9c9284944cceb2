"""The EPP simulator on its own: keypad behaviour, the clear PIN never shows, control API errors."""

from __future__ import annotations

import pytest

from devices.pin_pad import protocol as p
from devices.sankyo_frame import ACK, FrameDecoder, encode_frame
from hostlink.pinblock import decrypt_pin_block
from simulators.pin_pad import TEST_TDES_PIN_KEY, PinPadSimulator, parse_keys

PAN = "43219876543210987"


def send(sim: PinPadSimulator, text: bytes) -> bytes:
    out = sim.on_bytes(encode_frame(text))
    assert out[0] == ACK
    frames = FrameDecoder().feed(out[1:])
    assert len(frames) == 1 and isinstance(frames[0], bytes)
    return frames[0]


def test_pin_entry_over_the_wire() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E200406030") == b"P2001"
    sim.ctl_press_keys("1234E")
    assert send(sim, b"E30") == b"P3003****E"
    snapshot = sim.snapshot()
    assert snapshot["pin_length"] == 4 and "1234" not in repr(snapshot)
    reply = send(sim, b"E40" + PAN.encode())
    assert reply[:5] == b"P4000"
    assert decrypt_pin_block(bytes.fromhex(reply[5:].decode()), TEST_TDES_PIN_KEY, PAN) == "1234"
    assert send(sim, b"E40" + PAN.encode()) == b"N4020"  # one block per entry


def test_refusals() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E2099") == b"N2001"
    assert send(sim, b"E40" + PAN.encode()) == b"N4020"
    assert send(sim, b"E99") == b"N9900"
    sim.ctl_tamper()
    assert send(sim, b"E200406030") == b"N2030"
    assert send(sim, b"E10") == b"P101000SIM-EPP 1.0"  # tamper 1, idle 0, no TDES, no AES key
    assert send(sim, b"E00") == b"P0000SIM-EPP 1.0"
    assert send(sim, b"E200406030") == b"N2031"  # keys stay erased after re-initialising


def test_key_parsing() -> None:
    assert parse_keys("12E") == ["1", "2", "ENTER"]
    assert parse_keys(["f2", "Cancel", "."]) == ["F2", "CANCEL", "."]
    with pytest.raises(ValueError):
        parse_keys("12Q")
    with pytest.raises(ValueError):
        parse_keys(["F9"])
    assert set(p.CODE_FOR_KEY) >= {"F1", "F8", "ENTER", "CANCEL", "CLEAR", "BACKSPACE"}
