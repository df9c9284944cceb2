"""The card reader simulator on the wire: raw frames over a loopback socket, and its control API."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from devices.sankyo_frame import ACK, NAK, encode_frame
from devices.simcontrol import ControlClient, ControlError
from simulators.base import DeviceServer
from simulators.card_reader import CardReaderSimulator, make_server

PAN = "6217001234567894"


@pytest.fixture
def server() -> Iterator[DeviceServer]:
    srv = make_server(seed=3, cards=[{"pan": PAN}]).start()
    yield srv
    srv.close()


def exchange_raw(port: int, frame: bytes, expect: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(frame)
        buf = b""
        while len(buf) < expect:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf


def test_status_frame_on_the_wire(server: DeviceServer) -> None:
    reply = exchange_raw(server.port, bytes.fromhex("F2 00 03 43 31 30 C5 2A"), 1 + 17)
    # ACK, then P10 + position 00 + retained 000 + capacity 050 + no jam (CRC via binascii.crc_hqx)
    assert reply == bytes([ACK]) + bytes.fromhex("F2 00 0C 50 31 30 30 30 30 30 30 30 35 30 30 77 65")


def test_bad_crc_is_naked_and_stray_bytes_ignored(server: DeviceServer) -> None:
    reply = exchange_raw(server.port, b"\x00\x01" + bytes.fromhex("F2 00 03 43 31 30 C5 2B"), 1)
    assert reply == bytes([NAK])
    state = ControlClient(server.control.address).call("state")
    assert any("CRC" in r for r in state["rejections"])


def test_unknown_command_and_wrong_letter() -> None:
    sim = CardReaderSimulator(seed=1, cards=[])
    assert sim.on_bytes(encode_frame(b"C99")) == bytes([ACK]) + encode_frame(b"N9900")
    assert sim.on_bytes(encode_frame(b"X10")) == bytes([ACK]) + encode_frame(b"N??00")


def test_split_frames_are_reassembled() -> None:
    sim = CardReaderSimulator(seed=1, cards=[])
    frame = encode_frame(b"C10")
    assert sim.on_bytes(frame[:4]) == b""
    assert sim.on_bytes(frame[4:]).startswith(bytes([ACK]))


def test_control_api(server: DeviceServer) -> None:
    ctl = ControlClient(server.control.address)
    wallet = ctl.call("cards")
    assert wallet[0]["pan"] == PAN
    state = ctl.call("insert_card", pan=PAN)
    assert state["offered"]["pan"] == "621700******7894"  # shutter closed: held at the slot
    with pytest.raises(ControlError, match="occupied"):
        ctl.call("insert_card", pan=PAN)
    with pytest.raises(ControlError):
        ctl.call("insert_card", pan="123")  # not a valid card
    with pytest.raises(ControlError):
        ctl.call("insert_card", name="NO PAN")
    assert ctl.call("take_card")["offered"] is None
    with pytest.raises(ControlError, match="no card"):
        ctl.call("take_card")
    assert ctl.call("jam")["jammed"] is True
    assert ctl.call("clear_faults")["jammed"] is False


def test_seeded_wallet_is_reproducible() -> None:
    a = CardReaderSimulator(seed=42).ctl_cards()
    b = CardReaderSimulator(seed=42).ctl_cards()
    c = CardReaderSimulator(seed=43).ctl_cards()
    assert a == b and a != c
    assert all(card["pan"].startswith("621700") for card in a)
