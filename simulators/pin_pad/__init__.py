"""Simulated encrypting PIN pad (EPP) speaking the ``E`` command set (see docs/protocols.md).

It is the only place in the system where a PIN exists in clear, as in a real EPP: keys typed through the
control API (``press_keys``) go into the pad's own buffer, the host sees ``*`` per digit, and ``E4``
returns the ISO 9564 block enciphered under the pad's PIN key. Control commands: ``press_keys``
(``"1234E"`` or ``["1", "2", "3", "4", "ENTER"]``), ``tamper``, ``load_keys``, ``nak``,
``clear_faults``, ``state``; plus the server's link faults.

Key hierarchy: the pad holds a terminal master key (TMK). ``E7`` loads a working key sent as a TR-31
key block under the TMK: the PIN key (TPK), which from then on enciphers format 0 PIN blocks in place of
the installed initial TDES key, or the MAC key (TAK) that ``E8`` computes retail MACs with. Clear keys
never leave the simulator: replies, snapshots and the control API show key check values only.
"""

from __future__ import annotations

from typing import Any

from devices.pin_pad import protocol as p
from devices.sankyo_frame import DeviceFramer, FrameError
from hostlink import keycheck
from hostlink.keyblock import KeyBlockError, unwrap
from hostlink.pinblock import PinBlockError, encrypt_pin_block
from hostlink.tdes import RetailMac, kcv
from simulators.base import DeviceServer, SimulatedDevice

# TEST KEYS — for simulators and tests only, never for production. The host's simulated HSM gets the
# same values through its settings (bank/settings.py).
TEST_TDES_PIN_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
TEST_AES_PIN_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
# TEST TERMINAL MASTER KEY — for simulators and tests only, never for production: the TMK the simulated
# pad was "enrolled" with (double-length, odd parity, KCV 0385D4). A host signing on to the simulated pad
# wraps the working keys (TR-31, usage P0 / M3) under this value.
TEST_TMK = bytes.fromhex(keycheck.TEST_TMK_HEX)

FIRMWARE = "SIM-EPP 1.0"
# single-character shorthands accepted in a press_keys string
SHORTHAND = {"E": "ENTER", "X": "CANCEL", "C": "CLEAR", "B": "BACKSPACE"}


def parse_keys(keys: str | list[str]) -> list[str]:
    """``"12E"`` or ``["1", "2", "ENTER", "F3"]`` → key names; unknown keys are refused."""
    items = list(keys) if isinstance(keys, str) else [str(k) for k in keys]
    names: list[str] = []
    for item in items:
        name = SHORTHAND.get(item, item) if isinstance(keys, str) else item.upper()
        if name not in p.CLEAR_TEXT_KEYS and name not in p.CODE_FOR_KEY:
            raise ValueError(f"unknown key {item!r}")
        names.append(name)
    return names


class PinPadSimulator(SimulatedDevice):
    device_class = "pin_pad"

    def __init__(
        self,
        seed: int = 0,
        tdes_key: bytes | None = TEST_TDES_PIN_KEY,
        aes_key: bytes | None = TEST_AES_PIN_KEY,
        tmk: bytes | None = TEST_TMK,
    ) -> None:
        super().__init__(seed)
        self.framer = DeviceFramer(self._handle)
        self._installed = (tdes_key, aes_key, tmk)
        # clear keys live only in these attributes: never in a reply, a snapshot or a log
        self.tdes_key = tdes_key  # the initial PIN key, used for format 0 until a TPK is loaded
        self.aes_key = aes_key
        self.tmk = tmk
        self.tpk: bytes | None = None
        self.tak: bytes | None = None
        self._mac: RetailMac | None = None  # a MAC in progress over E80 chunks
        self.tamper = False
        self.mode = p.EntryMode.IDLE
        self.min_len, self.max_len = p.MIN_PIN_LEN, p.MAX_PIN_LEN
        self._pin: list[str] = []  # the only clear PIN in the system: never in a snapshot or a log
        self._text: list[str] = []
        self._queue: list[str] = []
        self.blocks_issued = 0
        self.working_keys_loaded = 0
        self.macs_issued = 0
        self.commands: list[str] = []

    # -- wire --------------------------------------------------------------------------------
    def on_connect(self) -> None:
        self.framer.reset()

    def on_bytes(self, data: bytes) -> bytes:
        return self.framer.feed(data)

    def _ok(self, key: tuple[str, str], data: bytes = b"") -> bytes:
        return p.positive(key, self.tamper, self.mode, data)

    def _handle(self, text: bytes) -> bytes:
        try:
            cmd, pm, data = p.parse_command(text)
        except FrameError:
            return p.negative(("?", "?"), p.ErrorCode.UNKNOWN_COMMAND)
        key = (cmd, pm)
        self.commands = [*self.commands[-49:], f"E{cmd}{pm}"]
        if key in (p.MAC_MORE, p.MAC_LAST):
            return self._mac_chunk(key, data)
        self._mac = None  # any other command abandons a MAC in progress
        if key in p.LOAD_WORKING_KEY.values():
            return self._load_working_key(key, data)
        if key == p.KEY_STATUS:
            return self._ok(key, p.encode_key_status(self.key_status()))
        if key == p.INITIALISE:
            self.tamper = False
            self._end_entry()
            self._queue.clear()
            return self._ok(key, FIRMWARE.encode())
        if key == p.STATUS:
            return self._ok(
                key, p.encode_status_data(self._format0_key() is not None, self.aes_key is not None, FIRMWARE)
            )
        if key == p.READ_KEYS:
            keys, self._queue = "".join(self._queue), []
            return self._ok(key, keys.encode("ascii"))
        if key == p.STOP_ENTRY:
            self._end_entry()
            return self._ok(key)
        if key == p.START_PIN_ENTRY:
            return self._start_pin(key, data)
        if key == p.START_CLEAR_ENTRY:
            try:
                self.max_len = p.parse_clear_entry(data)
            except FrameError:
                return p.negative(key, p.ErrorCode.BAD_PARAMETER)
            if self.tamper:
                return p.negative(key, p.ErrorCode.TAMPERED)
            self._end_entry()
            self.mode = p.EntryMode.CLEAR
            return self._ok(key)
        for fmt, block_key in p.GET_PIN_BLOCK.items():
            if key == block_key:
                return self._pin_block(key, fmt, data)
        return p.negative(key, p.ErrorCode.UNKNOWN_COMMAND)

    def _start_pin(self, key: tuple[str, str], data: bytes) -> bytes:
        try:
            self.min_len, self.max_len, _timeout = p.parse_pin_entry(data)
        except FrameError:
            return p.negative(key, p.ErrorCode.BAD_PARAMETER)
        if self.tamper:
            return p.negative(key, p.ErrorCode.TAMPERED)
        if self._format0_key() is None and self.aes_key is None:
            return p.negative(key, p.ErrorCode.NO_KEY)
        self._end_entry()
        self._queue.clear()  # stale idle keys do not belong to this PIN
        self.mode = p.EntryMode.PIN
        return self._ok(key)

    def _pin_block(self, key: tuple[str, str], fmt: int, data: bytes) -> bytes:
        if self.tamper:
            return p.negative(key, p.ErrorCode.TAMPERED)
        if self.mode is not p.EntryMode.PIN_READY:
            return p.negative(key, p.ErrorCode.NO_PIN)
        pin_key = self._format0_key() if fmt == 0 else self.aes_key
        if pin_key is None:
            return p.negative(key, p.ErrorCode.NO_KEY)
        try:
            pan = p.encode_pan(data.decode("ascii")).decode()
            block = encrypt_pin_block("".join(self._pin), pan, pin_key, fmt)
        except (FrameError, UnicodeDecodeError, PinBlockError):
            return p.negative(key, p.ErrorCode.BAD_PARAMETER)
        self._end_entry()  # one block per entry
        self.blocks_issued += 1
        return self._ok(key, block.hex().upper().encode("ascii"))

    def _format0_key(self) -> bytes | None:
        """The TPK once the host has loaded one; until then the initial PIN key the pad was built with."""
        return self.tpk if self.tpk is not None else self.tdes_key

    # -- key management ----------------------------------------------------------------------
    def _load_working_key(self, key: tuple[str, str], data: bytes) -> bytes:
        if self.tamper:
            return p.negative(key, p.ErrorCode.TAMPERED)
        if self.tmk is None:
            return p.negative(key, p.ErrorCode.NO_MASTER_KEY)
        usage, modes, lengths = p.WORKING_KEY_USAGE[key[1]]
        try:
            loaded = unwrap(self.tmk, data.decode("ascii"))
        except (UnicodeDecodeError, KeyBlockError):
            return p.negative(key, p.ErrorCode.KEY_BLOCK_REFUSED)
        if (
            loaded.usage != usage
            or loaded.algorithm != "T"
            or loaded.mode not in modes
            or len(loaded.key) not in lengths
        ):
            return p.negative(key, p.ErrorCode.KEY_BLOCK_REFUSED)
        if key[1] == "P":
            self.tpk = loaded.key
        else:
            self.tak = loaded.key
        self.working_keys_loaded += 1
        return self._ok(key, kcv(loaded.key).encode("ascii"))

    def _mac_chunk(self, key: tuple[str, str], data: bytes) -> bytes:
        if self.tamper:
            self._mac = None
            return p.negative(key, p.ErrorCode.TAMPERED)
        if self.tak is None:
            self._mac = None
            return p.negative(key, p.ErrorCode.NO_MAC_KEY)
        if len(data) > p.MAX_MAC_CHUNK:
            self._mac = None
            return p.negative(key, p.ErrorCode.BAD_PARAMETER)
        if self._mac is None:
            self._mac = RetailMac(self.tak)
        self._mac.update(data)
        if key == p.MAC_MORE:
            return self._ok(key)
        mac, self._mac = self._mac.finalize(), None
        self.macs_issued += 1
        return self._ok(key, mac.hex().upper().encode("ascii"))

    def key_status(self) -> p.KeyStatus:
        return p.KeyStatus(*(None if k is None else kcv(k) for k in (self.tmk, self.tpk, self.tak)))

    def _end_entry(self) -> None:
        self._pin.clear()
        self._text.clear()
        self.mode = p.EntryMode.IDLE

    # -- the keypad --------------------------------------------------------------------------
    def _press(self, name: str) -> None:
        code = p.CODE_FOR_KEY.get(name, name)
        if self.mode is p.EntryMode.PIN:
            self._press_pin(name, code)
        elif self.mode is p.EntryMode.CLEAR:
            self._press_clear(name, code)
        elif name not in p.CLEAR_TEXT_KEYS:  # idle or PIN ready: only function/control keys report
            self._queue.append(code)

    def _press_pin(self, name: str, code: str) -> None:
        if name.isdigit():
            if len(self._pin) < self.max_len:
                self._pin.append(name)
                self._queue.append(p.MASKED)
        elif name == "BACKSPACE":
            if self._pin:
                self._pin.pop()
            self._queue.append(code)
        elif name == "CLEAR":
            self._pin.clear()
            self._queue.append(code)
        elif name == "ENTER":
            if len(self._pin) >= self.min_len:  # too short: the pad just beeps
                self.mode = p.EntryMode.PIN_READY
                self._queue.append(code)
        elif name == "CANCEL":
            self._end_entry()
            self._queue.append(code)
        elif name != ".":
            self._queue.append(code)

    def _press_clear(self, name: str, code: str) -> None:
        if name in p.CLEAR_TEXT_KEYS:
            if len(self._text) < self.max_len:
                self._text.append(name)
                self._queue.append(code)
            return
        if name == "BACKSPACE" and self._text:
            self._text.pop()
        elif name == "CLEAR":
            self._text.clear()
        elif name in ("ENTER", "CANCEL"):
            self._end_entry()
        self._queue.append(code)

    # -- control -----------------------------------------------------------------------------
    def ctl_press_keys(self, keys: str | list[str]) -> dict[str, Any]:
        for name in parse_keys(keys):
            self._press(name)
        return self.snapshot()

    def ctl_tamper(self) -> dict[str, Any]:
        """Someone opened the case: as a real EPP, erase every key (TMK, TPK, TAK too), refuse PIN entry."""
        self.tamper = True
        self.tdes_key = self.aes_key = self.tmk = self.tpk = self.tak = None
        self._mac = None
        self._end_entry()
        return self.snapshot()

    def ctl_load_keys(
        self, tdes_key: str | None = None, aes_key: str | None = None, tmk: str | None = None
    ) -> dict[str, Any]:
        """Key loading (a technician's job, e.g. enrolment): hex keys, or the keys the pad was built with.

        The working keys (TPK, TAK) are erased: they belong to the old key hierarchy, and the host loads
        new ones at its next sign-on."""
        self.tdes_key = bytes.fromhex(tdes_key) if tdes_key else self._installed[0]
        self.aes_key = bytes.fromhex(aes_key) if aes_key else self._installed[1]
        self.tmk = bytes.fromhex(tmk) if tmk else self._installed[2]
        self.tpk = self.tak = None
        self._mac = None
        return self.snapshot()

    def ctl_nak(self, count: int = 1) -> dict[str, Any]:
        self.framer.nak_next = int(count)
        return self.snapshot()

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.framer.nak_next = 0
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        """Visible state. Of the keys, only check values (None for an empty slot), never the keys."""
        status = self.key_status()
        return {
            "device": self.device_class,
            "tamper": self.tamper,
            "mode": self.mode.name.lower(),
            "pin_length": len(self._pin),  # the length only, never the digits
            "clear_text": "".join(self._text),
            "queued_keys": len(self._queue),
            "keys_loaded": {"tdes": self._format0_key() is not None, "aes": self.aes_key is not None},
            "kcv": {"tmk": status.tmk, "tpk": status.tpk, "tak": status.tak},
            "mac_in_progress": self._mac is not None,
            "working_keys_loaded": self.working_keys_loaded,
            "macs_issued": self.macs_issued,
            "blocks_issued": self.blocks_issued,
            "frames_received": self.framer.frames_received,
            "naks_sent": self.framer.naks_sent,
            "rejections": list(self.framer.rejections),
            "commands": list(self.commands),
        }


def make_server(
    seed: int = 0,
    port: int = 0,
    control_port: int = 0,
    tdes_key: bytes | None = TEST_TDES_PIN_KEY,
    aes_key: bytes | None = TEST_AES_PIN_KEY,
    tmk: bytes | None = TEST_TMK,
    **_ignored: Any,
) -> DeviceServer:
    return DeviceServer(PinPadSimulator(seed, tdes_key, aes_key, tmk), port=port, control_port=control_port)
