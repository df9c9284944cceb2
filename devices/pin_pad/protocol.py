"""PIN pad codec: the ``E`` command set over the Sankyo frame layer (see docs/protocols.md).

Host command TEXT: ``E`` + cmd + pm + data; reply: ``P`` + cmd + pm + st1 + st0 + data or
``N`` + cmd + pm + e1 + e0. In every reply st1 is the tamper flag and st0 the entry mode, so any exchange
tells the host whether the pad has been attacked.

Key hierarchy: the pad holds a terminal master key (TMK, loaded at enrolment). At sign-on the host sends
the PIN key (TPK) and MAC key (TAK) as TR-31 key blocks under the TMK (``E7``); the pad unwraps them inside
and answers with their key check values. ``E8`` MACs data with the TAK, ``E9`` reports the three KCVs.
Data is ASCII in every command except ``E8``, whose data is the raw bytes to MAC.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.sankyo_frame import MAX_TEXT_LEN, FrameError, Reply, command_text

COMMAND_LETTER = "E"

# (command char, parameter char)
INITIALISE = ("0", "0")
STATUS = ("1", "0")
START_PIN_ENTRY = ("2", "0")
READ_KEYS = ("3", "0")
GET_PIN_BLOCK = {0: ("4", "0"), 4: ("4", "4")}
START_CLEAR_ENTRY = ("5", "0")
STOP_ENTRY = ("6", "0")
LOAD_WORKING_KEY = {"pin": ("7", "P"), "mac": ("7", "M")}
MAC_MORE = ("8", "0")  # a chunk of data to MAC, more follows
MAC_LAST = ("8", "1")  # the last chunk: the reply carries the MAC and the pad starts afresh
KEY_STATUS = ("9", "0")

MAX_MAC_CHUNK = 512  # bytes of E8 data per command
KCV_LEN = 6
NO_KCV = "------"  # E9: no key in that slot
# what each E7 parameter loads: key usage, the modes of use the pad accepts, the key lengths it takes
WORKING_KEY_USAGE = {"P": ("P0", "EB", (16, 24)), "M": ("M3", "CG", (16,))}

MIN_PIN_LEN, MAX_PIN_LEN = 4, 12


class EntryMode(StrEnum):
    """st0 of every reply."""

    IDLE = "0"
    PIN = "1"
    CLEAR = "2"
    PIN_READY = "3"  # ENTER accepted a PIN; the block can be fetched once


class ErrorCode(StrEnum):
    UNKNOWN_COMMAND = "00"
    BAD_PARAMETER = "01"
    NO_PIN = "20"
    TAMPERED = "30"
    NO_KEY = "31"
    KEY_BLOCK_REFUSED = "32"
    NO_MASTER_KEY = "34"
    NO_MAC_KEY = "35"


ERROR_TEXT = {
    ErrorCode.UNKNOWN_COMMAND: "unknown command",
    ErrorCode.BAD_PARAMETER: "bad parameter",
    ErrorCode.NO_PIN: "no PIN entered",
    ErrorCode.TAMPERED: "pad tampered: refused until re-initialised",
    ErrorCode.NO_KEY: "PIN key not loaded",
    ErrorCode.KEY_BLOCK_REFUSED: "key block refused (malformed, wrong usage or failed authentication)",
    ErrorCode.NO_MASTER_KEY: "no terminal master key",
    ErrorCode.NO_MAC_KEY: "MAC key not loaded",
}

# One byte per key in the E3 reply. Digits only ever appear in clear-text mode; during PIN entry the pad
# sends MASKED for each digit.
MASKED = "*"
KEY_CODES = {
    "E": "ENTER",
    "X": "CANCEL",
    "C": "CLEAR",
    "B": "BACKSPACE",
    **{chr(ord("a") + i): f"F{i + 1}" for i in range(8)},
}
CODE_FOR_KEY = {name: code for code, name in KEY_CODES.items()}
CLEAR_TEXT_KEYS = set("0123456789.")


def key_name(code: str) -> str:
    """Key code → event name: ``*``, a digit or ``.``, or ENTER/CANCEL/CLEAR/BACKSPACE/F1..F8."""
    if code == MASKED or code in CLEAR_TEXT_KEYS:
        return code
    try:
        return KEY_CODES[code]
    except KeyError as exc:
        raise FrameError(f"unknown key code {code!r}") from exc


def command(cmd_pm: tuple[str, str], data: bytes = b"") -> bytes:
    return command_text(COMMAND_LETTER, cmd_pm[0], cmd_pm[1], data)


def positive(cmd_pm: tuple[str, str], tamper: bool, mode: EntryMode, data: bytes = b"") -> bytes:
    return f"P{cmd_pm[0]}{cmd_pm[1]}{int(tamper)}{mode.value}".encode("ascii") + data


def negative(cmd_pm: tuple[str, str], error: ErrorCode) -> bytes:
    return f"N{cmd_pm[0]}{cmd_pm[1]}{error.value}".encode("ascii")


def parse_command(text: bytes) -> tuple[str, str, bytes]:
    if len(text) < 3:
        raise FrameError(f"command TEXT too short: {len(text)} bytes")
    if text[0:1] != COMMAND_LETTER.encode():
        raise FrameError(f"command letter {text[0:1]!r} is not {COMMAND_LETTER!r}")
    if not all(0x20 <= b < 0x7F for b in text[1:3]):
        raise FrameError("command and parameter must be printable ASCII")
    return chr(text[1]), chr(text[2]), bytes(text[3:])


@dataclass(frozen=True)
class PadState:
    tamper: bool
    mode: EntryMode


def reply_state(reply: Reply) -> PadState:
    if reply.st1 not in "01":
        raise FrameError(f"tamper flag must be 0 or 1, got {reply.st1!r}")
    try:
        return PadState(reply.st1 == "1", EntryMode(reply.st0))
    except ValueError as exc:
        raise FrameError(f"unknown entry mode {reply.st0!r}") from exc


def reply_error(reply: Reply) -> ErrorCode:
    try:
        return ErrorCode(reply.code)
    except ValueError as exc:
        raise FrameError(f"unknown error code {reply.code!r}") from exc


# -- data fields ---------------------------------------------------------------------------------


def encode_pin_entry(min_len: int, max_len: int, timeout_s: int) -> bytes:
    """E2 data: min length (2 digits), max length (2 digits), timeout in seconds (3 digits)."""
    if not MIN_PIN_LEN <= min_len <= max_len <= MAX_PIN_LEN:
        raise FrameError(f"PIN lengths must satisfy {MIN_PIN_LEN} <= min <= max <= {MAX_PIN_LEN}")
    if not 1 <= timeout_s <= 999:
        raise FrameError("PIN entry timeout must be 1..999 s")
    return f"{min_len:02d}{max_len:02d}{timeout_s:03d}".encode("ascii")


def parse_pin_entry(data: bytes) -> tuple[int, int, int]:
    if len(data) != 7 or not data.isdigit():
        raise FrameError("PIN entry data must be 7 digits: mm MM TTT")
    min_len, max_len, timeout_s = int(data[:2]), int(data[2:4]), int(data[4:])
    encode_pin_entry(min_len, max_len, timeout_s)  # same range checks on both sides
    return min_len, max_len, timeout_s


def encode_clear_entry(max_len: int) -> bytes:
    if not 1 <= max_len <= 32:
        raise FrameError("clear-text entry length must be 1..32")
    return f"{max_len:02d}".encode("ascii")


def parse_clear_entry(data: bytes) -> int:
    if len(data) != 2 or not data.isdigit():
        raise FrameError("clear-text entry data must be 2 digits")
    max_len = int(data)
    encode_clear_entry(max_len)
    return max_len


def encode_pan(pan: str) -> bytes:
    if not (pan.isascii() and pan.isdigit()) or not 12 <= len(pan) <= 19:
        raise FrameError("PAN must be 12..19 digits")
    return pan.encode("ascii")


def parse_pin_block(reply: Reply, fmt: int) -> bytes:
    size = 8 if fmt == 0 else 16
    try:
        block = bytes.fromhex(reply.data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError("PIN block reply is not hex") from exc
    if len(block) != size:
        raise FrameError(f"format {fmt} PIN block must be {size} bytes, got {len(block)}")
    return block


@dataclass(frozen=True)
class PadInfo:
    """E1 data: TDES key loaded, AES key loaded ('0'/'1'), then the firmware identification."""

    tdes_key: bool
    aes_key: bool
    firmware: str


def encode_status_data(tdes_key: bool, aes_key: bool, firmware: str) -> bytes:
    return f"{int(tdes_key)}{int(aes_key)}{firmware}".encode("ascii")


def parse_status_data(data: bytes) -> PadInfo:
    if len(data) < 2 or data[0:1] not in (b"0", b"1") or data[1:2] not in (b"0", b"1"):
        raise FrameError("status data must start with two key flags")
    return PadInfo(data[0:1] == b"1", data[1:2] == b"1", data[2:].decode("ascii", "replace"))


# -- key management ------------------------------------------------------------------------------


def encode_key_block(block: str) -> bytes:
    """E7 data: the TR-31 key block as ASCII (structure and authenticity are the pad's to check)."""
    if not (block.isascii() and block.isprintable()) or not 16 <= len(block) <= MAX_TEXT_LEN - 3:
        raise FrameError(f"key block must be 16..{MAX_TEXT_LEN - 3} printable ASCII characters")
    return block.encode("ascii")


def _kcv_or_none(text: str) -> str | None:
    if text == NO_KCV:
        return None
    if len(text) != KCV_LEN or set(text) - set("0123456789ABCDEF"):
        raise FrameError("key check value must be 6 upper-case hex digits or ------")
    return text


def parse_kcv(data: bytes) -> str:
    """E7 reply data: the loaded key's check value."""
    kcv = _kcv_or_none(data.decode("ascii", "replace"))
    if kcv is None:
        raise FrameError("key load reply carries no key check value")
    return kcv


def mac_chunks(data: bytes) -> list[tuple[tuple[str, str], bytes]]:
    """The E8 commands that MAC ``data``: chunks of at most 512 bytes, the last one ``E81``."""
    pieces = [data[i : i + MAX_MAC_CHUNK] for i in range(0, len(data), MAX_MAC_CHUNK)] or [b""]
    return [(MAC_MORE, piece) for piece in pieces[:-1]] + [(MAC_LAST, pieces[-1])]


def parse_mac(data: bytes) -> bytes:
    """E81 reply data: the 8-byte MAC as 16 hex characters."""
    try:
        mac = bytes.fromhex(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError("MAC reply is not hex") from exc
    if len(mac) != 8:
        raise FrameError(f"MAC must be 8 bytes, got {len(mac)}")
    return mac


@dataclass(frozen=True)
class KeyStatus:
    """E9 data: the key check value of the TMK, TPK and TAK, None where the pad holds no such key."""

    tmk: str | None
    tpk: str | None
    tak: str | None


def encode_key_status(status: KeyStatus) -> bytes:
    return "".join(k or NO_KCV for k in (status.tmk, status.tpk, status.tak)).encode("ascii")


def parse_key_status(data: bytes) -> KeyStatus:
    text = data.decode("ascii", "replace")
    if len(text) != 3 * KCV_LEN:
        raise FrameError(f"key status data must be 3 x {KCV_LEN} characters, got {len(text)}")
    tmk, tpk, tak = (_kcv_or_none(text[i : i + KCV_LEN]) for i in range(0, 3 * KCV_LEN, KCV_LEN))
    return KeyStatus(tmk, tpk, tak)
