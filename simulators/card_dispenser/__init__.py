"""Simulated card dispenser with a track 2 encoder (CRT-541-style frames; see docs/protocols.md).

It holds a stock of blank cards (with a low threshold), a reject bin, a card in the transport (at the
encoder or at the gate) and the list of cards it has handed out (PAN read back from the written track 2;
these are simulated cards, so the list keeps the PAN for end-to-end tests). Control commands: ``take_card``,
``set_stock`` / ``stock_low`` / ``stock_empty``, ``jam``, ``write_fail`` (the encoder fails the next
write), ``bin_full``, ``nak``, ``clear_faults``, ``state``; plus the server's link faults.
"""

from __future__ import annotations

from typing import Any

from devices.card_dispenser import protocol as p
from devices.card_reader.tracks import TrackError, parse_track2
from devices.serial_link import DeviceSide
from hostlink.redaction import mask_pan
from simulators.base import DeviceServer, SimulatedDevice

FIRMWARE = "SIM-CRT541 1.0"


class CardDispenserSimulator(SimulatedDevice):
    device_class = "card_dispenser"

    def __init__(
        self,
        seed: int = 0,
        stock: int = 50,
        low_threshold: int = 10,
        reject_capacity: int = 20,
        address: str = p.DEFAULT_ADDRESS,
    ) -> None:
        super().__init__(seed)
        self.address = address
        self.stock = stock
        self.low_threshold = low_threshold
        self.reject_count = 0
        self.reject_capacity = reject_capacity
        self.position = p.Position.NONE
        self.written_track2: str | None = None
        self.jammed = False
        self.fail_next_write = False
        self.dispensed: list[dict[str, Any]] = []
        self.framer = DeviceSide(p.FrameDecoder, self._answer)
        self.commands: list[str] = []

    # -- wire --------------------------------------------------------------------------------
    def on_connect(self) -> None:
        self.framer.reset()

    def on_bytes(self, data: bytes) -> bytes:
        return self.framer.feed(data)

    def _answer(self, raw: bytes) -> bytes | None:
        frame = p.decode_frame(raw)
        if frame.address != self.address:
            return None  # addressed to another unit on the bus
        return self._handle(frame.command, frame.data)

    def _status(self) -> p.DispenserStatus:
        if self.stock <= 0:
            stock = p.Stock.EMPTY
        elif self.stock <= self.low_threshold:
            stock = p.Stock.LOW
        else:
            stock = p.Stock.OK
        return p.DispenserStatus(stock, self.position, self.jammed)

    def _reply(self, command: str, error: p.ErrorCode | None = None, data: bytes = b"") -> bytes:
        return p.encode_reply(command, self._status(), error, data, self.address)

    def _handle(self, command: str, data: bytes) -> bytes:
        self.commands = [*self.commands[-49:], command]
        if command == p.STATUS:
            return self._reply(command)
        if command == p.RESET:
            return self._reply(command, data=FIRMWARE.encode())
        if command not in p.COMMANDS:
            return self._reply(command, p.ErrorCode.UNKNOWN_COMMAND)
        if self.jammed:
            return self._reply(command, p.ErrorCode.CARD_JAM)
        if command == p.MOVE_TO_ENCODER:
            if self.position is not p.Position.NONE:
                return self._reply(command, p.ErrorCode.POSITION_OCCUPIED)
            if self.stock <= 0:
                return self._reply(command, p.ErrorCode.STOCK_EMPTY)
            self.stock -= 1
            self.position, self.written_track2 = p.Position.AT_ENCODER, None
            return self._reply(command)
        if command == p.WRITE_TRACK2:
            if self.position is not p.Position.AT_ENCODER:
                return self._reply(command, p.ErrorCode.NO_CARD)
            try:
                parse_track2(data.decode("ascii"))
            except (UnicodeDecodeError, TrackError):
                return self._reply(command, p.ErrorCode.BAD_DATA)
            if self.fail_next_write:
                self.fail_next_write = False
                return self._reply(command, p.ErrorCode.WRITE_FAILED)
            self.written_track2 = data.decode("ascii")
            return self._reply(command)
        if command == p.PRESENT:
            if self.position is not p.Position.AT_ENCODER:
                return self._reply(command, p.ErrorCode.NO_CARD)
            self.position = p.Position.AT_GATE
            track2 = self.written_track2
            pan = parse_track2(track2).pan if track2 else None
            self.dispensed.append({"pan": pan, "track2": track2, "taken": False})
            return self._reply(command)
        # CAPTURE
        if self.position is p.Position.NONE:
            return self._reply(command, p.ErrorCode.NO_CARD)
        if self.reject_count >= self.reject_capacity:
            return self._reply(command, p.ErrorCode.BIN_FULL)
        if self.position is p.Position.AT_GATE and self.dispensed:
            self.dispensed.pop()  # pulled back before the customer took it
        self.reject_count += 1
        self.position, self.written_track2 = p.Position.NONE, None
        return self._reply(command)

    # -- control -----------------------------------------------------------------------------
    def ctl_take_card(self) -> dict[str, Any]:
        if self.position is not p.Position.AT_GATE:
            raise ValueError("no card at the gate to take")
        self.position, self.written_track2 = p.Position.NONE, None
        if self.dispensed:
            self.dispensed[-1]["taken"] = True
        return self.snapshot()

    def ctl_set_stock(self, count: int) -> dict[str, Any]:
        if int(count) < 0:
            raise ValueError("stock cannot be negative")
        self.stock = int(count)
        return self.snapshot()

    def ctl_stock_low(self) -> dict[str, Any]:
        return self.ctl_set_stock(min(self.stock, self.low_threshold) or 1)

    def ctl_stock_empty(self) -> dict[str, Any]:
        return self.ctl_set_stock(0)

    def ctl_jam(self, on: bool = True) -> dict[str, Any]:
        self.jammed = bool(on)
        return self.snapshot()

    def ctl_write_fail(self) -> dict[str, Any]:
        self.fail_next_write = True
        return self.snapshot()

    def ctl_bin_full(self) -> dict[str, Any]:
        self.reject_count = self.reject_capacity
        return self.snapshot()

    def ctl_nak(self, count: int = 1) -> dict[str, Any]:
        self.framer.nak_next = int(count)
        return self.snapshot()

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.jammed = False
        self.fail_next_write = False
        self.framer.nak_next = 0
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        status = self._status()
        return {
            "device": self.device_class,
            "stock": p.STOCK_NAMES[status.stock],
            "stock_count": self.stock,
            "low_threshold": self.low_threshold,
            "position": p.POSITION_NAMES[self.position],
            "jammed": self.jammed,
            "reject_count": self.reject_count,
            "reject_capacity": self.reject_capacity,
            "dispensed": [
                dict(d, pan_masked=mask_pan(d["pan"]) if d["pan"] else None) for d in self.dispensed
            ],
            "frames_received": self.framer.frames_received,
            "naks_sent": self.framer.naks_sent,
            "rejections": list(self.framer.rejections),
            "commands": list(self.commands),
        }


def make_server(
    seed: int = 0,
    port: int = 0,
    control_port: int = 0,
    stock: int = 50,
    low_threshold: int = 10,
    reject_capacity: int = 20,
    **_ignored: Any,
) -> DeviceServer:
    device = CardDispenserSimulator(seed, stock, low_threshold, reject_capacity)
    return DeviceServer(device, port=port, control_port=control_port)
