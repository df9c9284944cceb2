"""ID card reader simulator: the SAM-style protocol on ``socket://127.0.0.1:PORT``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from devices.id_reader.protocol import (
    CMD_FIND,
    CMD_READ,
    CMD_SAM_STATUS,
    CMD_SELECT,
    SW_CHECKSUM_ERROR,
    SW_FOUND,
    SW_NOT_FOUND,
    SW_READ_FAILED,
    SW_SELECT_FAILED,
    SW_SUCCESS,
    SW_UNKNOWN_COMMAND,
    FrameDecoder,
    Identity,
    ProtocolError,
    encode_read_data,
    encode_reply,
)
from simulators.base import SimulatedDevice
from simulators.id_reader.cards import FIXTURE_CARDS, card_with_photo, default_faces_dir, load_photo_jpeg


class IdReaderDevice(SimulatedDevice):
    device_class = "id_reader"

    def __init__(self, faces_dir: Path | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        self.faces_dir = Path(faces_dir) if faces_dir is not None else default_faces_dir()
        self._decoder = FrameDecoder()
        self.card: Identity | None = None
        self.card_id: str | None = None
        self._selected = False
        self.read_errors = 0  # fail the next N reads
        self.commands_seen = 0

    def on_connect(self) -> None:
        self._decoder = FrameDecoder()
        self._selected = False

    def on_bytes(self, data: bytes) -> bytes:
        out = bytearray()
        for item in self._decoder.feed(data):
            if isinstance(item, ProtocolError):
                out += encode_reply(SW_CHECKSUM_ERROR)
                continue
            self.commands_seen += 1
            out += self._answer(item[:2], item[2:])
        return bytes(out)

    def _answer(self, command: bytes, data: bytes) -> bytes:
        if command == CMD_SAM_STATUS:
            return encode_reply(SW_SUCCESS)
        if command == CMD_FIND:
            if self.card is None:
                return encode_reply(SW_NOT_FOUND, bytes(4))
            return encode_reply(SW_FOUND, bytes(4))
        if command == CMD_SELECT:
            if self.card is None:
                return encode_reply(SW_SELECT_FAILED, bytes(8))
            self._selected = True
            return encode_reply(SW_SUCCESS, bytes(8))
        if command == CMD_READ:
            if self.card is None or not self._selected:
                return encode_reply(SW_READ_FAILED)
            if self.read_errors > 0:
                self.read_errors -= 1
                return encode_reply(SW_READ_FAILED)
            return encode_reply(SW_SUCCESS, encode_read_data(self.card))
        return encode_reply(SW_UNKNOWN_COMMAND)

    # -- control -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "name": self.card.name if self.card else None,
            "read_errors": self.read_errors,
            "cards": list(FIXTURE_CARDS),
        }

    def ctl_place_card(self, card_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Place a fixture card by id, or a custom card from full fields (dates ISO, photo_file name)."""
        if card_id is not None and not fields:
            identity = card_with_photo(card_id, self.faces_dir)
        else:
            identity = self._custom_card(fields)
            card_id = card_id or "custom"
        self.card, self.card_id, self._selected = identity, card_id, False
        return self.snapshot()

    def _custom_card(self, fields: dict[str, Any]) -> Identity:
        required = ("name", "sex_code", "ethnicity_code", "birth_date", "address", "id_number", "authority",
                    "valid_from")  # fmt: skip
        missing = [k for k in required if k not in fields]
        if missing:
            raise ValueError(f"custom card needs {', '.join(missing)}")
        photo_file = fields.get("photo_file")
        photo = load_photo_jpeg(self.faces_dir / str(photo_file)) if photo_file else b""
        until = fields.get("valid_until")
        identity = Identity(
            name=str(fields["name"]),
            sex_code=str(fields["sex_code"]),
            ethnicity_code=str(fields["ethnicity_code"]),
            birth_date=dt.date.fromisoformat(str(fields["birth_date"])),
            address=str(fields["address"]),
            id_number=str(fields["id_number"]),
            authority=str(fields["authority"]),
            valid_from=dt.date.fromisoformat(str(fields["valid_from"])),
            valid_until=dt.date.fromisoformat(str(until)) if until else None,
            photo=photo,
        )
        encode_read_data(identity)  # refuse fields that do not fit the card layout now, not at read time
        return identity

    def ctl_remove_card(self) -> dict[str, Any]:
        self.card, self.card_id, self._selected = None, None, False
        return self.snapshot()

    def ctl_read_error(self, count: int = 1) -> dict[str, Any]:
        self.read_errors = int(count)
        return self.snapshot()

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.read_errors = 0
        return self.snapshot()
