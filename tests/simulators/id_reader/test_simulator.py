"""The ID reader simulator on the wire, spoken to with raw hand-written frames."""

from __future__ import annotations

import socket
from pathlib import Path

from devices.id_reader.gb11643 import is_valid
from simulators.id_reader import make_server
from simulators.id_reader.cards import FIXTURE_CARDS

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"


def _ask(port: int, frame: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(frame)
        return sock.recv(4096)


def test_raw_frames_get_spec_answers() -> None:
    server = make_server(faces_dir=FACES).start()
    try:
        # find card, no card: SW 00 00 80, 4 data bytes, checksum 08 ^ 80 = 88
        assert _ask(server.port, bytes.fromhex("AAAAAA9669 0003 2001 22")) == bytes.fromhex(
            "AAAAAA9669 0008 000080 00000000 88"
        )
        # corrupted checksum: SW 00 00 10, LEN 00 04, checksum 04 ^ 10 = 14
        assert _ask(server.port, bytes.fromhex("AAAAAA9669 0003 2001 23")) == bytes.fromhex(
            "AAAAAA9669 0004 000010 14"
        )
        # unknown command 99 99: SW 00 00 21, checksum 04 ^ 21 = 25 (request checksum 03^99^99 = 03)
        assert _ask(server.port, bytes.fromhex("AAAAAA9669 0003 9999 03")) == bytes.fromhex(
            "AAAAAA9669 0004 000021 25"
        )
    finally:
        server.close()


def test_fixture_cards_have_the_promised_check_digits() -> None:
    verdicts = {card_id: is_valid(card.identity.id_number) for card_id, card in FIXTURE_CARDS.items()}
    assert verdicts.pop("bad_check_digit") is False
    assert all(verdicts.values()) and len(verdicts) >= 4
    assert FIXTURE_CARDS["expired"].identity.valid_until is not None
    for card in FIXTURE_CARDS.values():
        assert (FACES / card.photo_file).exists()
