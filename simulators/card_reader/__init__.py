"""Simulated motorised card reader speaking the Sankyo-style ``C`` protocol (see docs/protocols.md).

Virtual cards carry PAN, name, expiry, service code and discretionary data; the simulator builds tracks
1 and 2 (with LRC) from them. Control commands (JSON): ``insert_card`` (explicit fields, or ``{"pan": …}``
of a card given at construction; ``damaged_track`` makes a track unreadable), ``take_card`` /
``remove_card`` (the customer takes the card at the gate), ``jam``, ``bin_full``, ``nak`` (refuse the
next N frames), ``clear_faults``, ``state``; plus the server's link faults (unplug, plug, garbage, silent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devices.card_reader import protocol as p
from devices.card_reader.tracks import encode_track1, encode_track2, encode_track3, luhn_check_digit
from devices.sankyo_frame import DeviceFramer, FrameError
from hostlink.redaction import mask_pan
from simulators.base import DeviceServer, SimulatedDevice

FIRMWARE = "SIM-ICT3Q8 1.0"
TEST_BIN = "621700"  # issuer prefix of the simulated bank's test cards


@dataclass(frozen=True)
class VirtualCard:
    pan: str
    name: str = "TEST/CUSTOMER"
    expiry: str = "2912"
    service_code: str = "101"
    discretionary: str = "00000000"
    track3_data: str | None = None
    damaged_track: tuple[int, ...] = ()

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> VirtualCard:
        damaged = args.get("damaged_track") or ()
        if isinstance(damaged, int):
            damaged = (damaged,)
        card = cls(
            pan=str(args["pan"]),
            name=str(args.get("name", cls.name)),
            expiry=str(args.get("expiry", cls.expiry)),
            service_code=str(args.get("service_code", cls.service_code)),
            discretionary=str(args.get("discretionary", cls.discretionary)),
            track3_data=args.get("track3_data"),
            damaged_track=tuple(int(n) for n in damaged),
        )
        card.track(1), card.track(2)  # validate now: a bad card is refused at the control API
        return card

    def track(self, n: int) -> str | None:
        if n == 1:
            return encode_track1(self.pan, self.name, self.expiry, self.service_code, self.discretionary)
        if n == 2:
            return encode_track2(self.pan, self.expiry, self.service_code, self.discretionary)
        return encode_track3(self.track3_data) if self.track3_data is not None else None

    def public(self) -> dict[str, Any]:
        return {"pan": mask_pan(self.pan), "name": self.name, "damaged_track": list(self.damaged_track)}


def make_test_pan(rng_digits: str, bin_prefix: str = TEST_BIN) -> str:
    partial = (bin_prefix + rng_digits)[:15]
    return partial + luhn_check_digit(partial)


class CardReaderSimulator(SimulatedDevice):
    device_class = "card_reader"

    def __init__(
        self,
        seed: int = 0,
        cards: list[dict[str, Any]] | None = None,
        bin_capacity: int = 50,
        retained: int = 0,
    ) -> None:
        super().__init__(seed)
        if cards is None:  # seeded default wallet: three Luhn-valid test cards
            cards = [
                {"pan": make_test_pan("".join(str(self.rng.randrange(10)) for _ in range(9))), "name": name}
                for name in ("ZHANG/WEI", "LI/NA", "TEST/CUSTOMER")
            ]
        self.known: dict[str, VirtualCard] = {}
        for entry in cards:
            card = VirtualCard.from_args(entry)
            self.known[card.pan] = card
        self.framer = DeviceFramer(self._handle)
        self.position = p.Position.NONE
        self.card: VirtualCard | None = None
        self.offered: VirtualCard | None = None  # held at the closed shutter until entry is permitted
        self.entry_permitted = False
        self.retained = retained
        self.capacity = bin_capacity
        self.jammed = False
        self.commands: list[str] = []

    # -- wire --------------------------------------------------------------------------------
    def on_connect(self) -> None:
        self.framer.reset()

    def on_bytes(self, data: bytes) -> bytes:
        return self.framer.feed(data)

    def _handle(self, text: bytes) -> bytes:
        try:
            cmd, pm, _data = p.parse_command(text)
        except FrameError:
            return p.negative(("?", "?"), p.ErrorCode.UNKNOWN_COMMAND)
        key = (cmd, pm)
        self.commands = [*self.commands[-49:], f"C{cmd}{pm}"]
        if key == p.INITIALISE:
            self.entry_permitted = False
            return p.positive(key, self.position, FIRMWARE.encode())
        if key == p.STATUS:
            return p.positive(
                key, self.position, p.encode_status_data(self.retained, self.capacity, self.jammed)
            )
        if key == p.PERMIT_ENTRY:
            self.entry_permitted = True
            if self.offered is not None and self.card is None and not self.jammed:
                self.card, self.offered = self.offered, None
                self.position = p.Position.INSIDE
            return p.positive(key, self.position)
        if key == p.PROHIBIT_ENTRY:
            self.entry_permitted = False
            return p.positive(key, self.position)
        if key == p.EJECT:
            if self.card is None:
                return p.negative(key, p.ErrorCode.NO_CARD)
            if self.jammed:
                return p.negative(key, p.ErrorCode.CARD_JAM)
            self.position = p.Position.AT_GATE
            return p.positive(key, self.position)
        if key == p.CAPTURE:
            if self.card is None:
                return p.negative(key, p.ErrorCode.NO_CARD)
            if self.jammed:
                return p.negative(key, p.ErrorCode.CARD_JAM)
            if self.retained >= self.capacity:
                return p.negative(key, p.ErrorCode.BIN_FULL)
            self.retained += 1
            self.card, self.position = None, p.Position.NONE
            return p.positive(key, self.position, f"{min(self.retained, 999):03d}".encode())
        for n, read_key in p.READ_TRACK.items():
            if key == read_key:
                return self._read_track(key, n)
        return p.negative(key, p.ErrorCode.UNKNOWN_COMMAND)

    def _read_track(self, key: tuple[str, str], n: int) -> bytes:
        if self.card is None or self.position is not p.Position.INSIDE:
            return p.negative(key, p.ErrorCode.NO_CARD)
        if self.jammed:
            return p.negative(key, p.ErrorCode.CARD_JAM)
        track = self.card.track(n)
        if track is None or n in self.card.damaged_track:
            return p.negative(key, p.ErrorCode.TRACK_UNREADABLE)
        return p.positive(key, self.position, track.encode("ascii"))

    # -- control -----------------------------------------------------------------------------
    def ctl_insert_card(self, **args: Any) -> dict[str, Any]:
        if "pan" not in args:
            raise ValueError("insert_card needs at least a pan")
        known = self.known.get(str(args["pan"]))
        # {"pan": …} alone picks a card from the wallet; more fields describe a new card
        card = known if known is not None and len(args) == 1 else VirtualCard.from_args(args)
        if self.card is not None or self.offered is not None:
            raise ValueError("the slot is occupied")
        if self.entry_permitted and not self.jammed:
            self.card, self.position = card, p.Position.INSIDE
        else:
            self.offered = card
        return self.snapshot()

    def ctl_take_card(self) -> dict[str, Any]:
        if self.offered is not None:
            self.offered = None  # the customer gave up before the shutter opened
        elif self.position is p.Position.AT_GATE:
            self.card, self.position = None, p.Position.NONE
        else:
            raise ValueError("no card at the gate to take")
        return self.snapshot()

    def ctl_remove_card(self) -> dict[str, Any]:
        return self.ctl_take_card()

    def ctl_jam(self, on: bool = True) -> dict[str, Any]:
        self.jammed = bool(on)
        return self.snapshot()

    def ctl_bin_full(self) -> dict[str, Any]:
        self.retained = max(self.retained, self.capacity)
        return self.snapshot()

    def ctl_empty_bin(self) -> dict[str, Any]:
        self.retained = 0
        return self.snapshot()

    def ctl_nak(self, count: int = 1) -> dict[str, Any]:
        self.framer.nak_next = int(count)
        return self.snapshot()

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.jammed = False
        self.framer.nak_next = 0
        return self.snapshot()

    def ctl_cards(self) -> list[dict[str, Any]]:
        # the simulated wallet: full test PANs so a tester can pick one to insert
        return [{**card.public(), "pan": card.pan} for card in self.known.values()]

    def snapshot(self) -> dict[str, Any]:
        return {
            "device": self.device_class,
            "media": p.MEDIA_NAMES[self.position],
            "card": self.card.public() if self.card else None,
            "offered": self.offered.public() if self.offered else None,
            "entry_permitted": self.entry_permitted,
            "retained": self.retained,
            "bin_capacity": self.capacity,
            "bin_full": self.retained >= self.capacity,
            "jammed": self.jammed,
            "frames_received": self.framer.frames_received,
            "naks_sent": self.framer.naks_sent,
            "rejections": list(self.framer.rejections),
            "commands": list(self.commands),
        }


def make_server(
    seed: int = 0,
    port: int = 0,
    control_port: int = 0,
    cards: list[dict[str, Any]] | None = None,
    bin_capacity: int = 50,
    **_ignored: Any,
) -> DeviceServer:
    return DeviceServer(CardReaderSimulator(seed, cards, bin_capacity), port=port, control_port=control_port)
