"""ISO 8583 encode/decode with :data:`hostlink.iso8583.profile.SPEC`, the MAC rule and a safe log form.

A :data:`Message` is a dict: ``"t"`` the MTI, ``"2"``..``"128"`` the fields (``str`` for ASCII fields,
``bytes`` for the binary DE52/DE64/DE128). Bitmaps are computed by :func:`encode` and not part of what
:func:`decode` returns.

Both directions check the same rules, so ``encode(decode(raw)) == raw`` for every ``raw`` that decodes:
the MTI is 4 digits of version 0; bitmaps are 16 upper-case hex characters; bit 1 is set exactly when a
field 65-128 is present; every field named is one SPEC defines (bit 65, a tertiary bitmap, is refused);
length prefixes are ASCII digits; a field is not empty, has the length its definition allows, and
holds printable ASCII of its content class (:data:`profile.FIELD_CONTENT`), or raw bytes if binary.

Errors are :class:`Iso8583Error` and never contain a field value (so never a PAN, PIN block or track):
they name the field and say what is wrong. pyiso8583's exceptions, which hold the whole message, are
never raised nor chained.

The MAC is the last field of a MACed message: DE64 without a secondary bitmap, DE128 with one. It is
computed over the encoded message up to the MAC (``raw[:-8]``) by a callable (PIN pad or HSM); this
module holds no keys.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import iso8583

from hostlink.iso8583.profile import FIELD_CONTENT, SPEC
from hostlink.redaction import mask_pan

__all__ = [
    "Iso8583Error",
    "Message",
    "decode",
    "describe",
    "encode",
    "encode_with_mac",
    "mac_field",
    "mac_input",
    "verify_mac",
]

Message: TypeAlias = dict[str, str | bytes]

MAC_LEN = 8

_BITMAP_KEYS = frozenset({"p", "s", "1"})
_DATA_FIELDS = frozenset(key for key in SPEC if key.isdigit() and key != "1")
_MTI = re.compile(rb"0[1-9][0-9][0-9]")
_HEX_BITMAP = re.compile(rb"[0-9A-F]{16}")
_CONTENT = {
    "n": (re.compile(r"[0-9]*"), "digits"),
    "an": (re.compile(r"[0-9A-Za-z]*"), "letters and digits"),
    "ans": (re.compile(r"[\x20-\x7e]*"), "printable ASCII"),
    "hex": (re.compile(r"[0-9A-F]*"), "upper-case hex digits"),
}
_PART_NAMES = {"t": "MTI", "p": "primary bitmap", "1": "secondary bitmap", "s": "secondary bitmap"}


class Iso8583Error(ValueError):
    """A message or field that does not follow the profile. ``field`` is "t" (MTI), "p"/"s" (primary/
    secondary bitmap), "2".."128", or None when no single field is to blame. The message never contains
    a field value."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _label(field: str) -> str:
    return _PART_NAMES.get(field, f"DE{field}")


# -- field checks shared by encode and decode -----------------------------------------------------------


def _check_text(field: str, value: str) -> None:
    """Printable ASCII of the field's content class; the message names the first bad position only."""
    content = FIELD_CONTENT.get(field, "ans")
    pattern, description = _CONTENT.get(content, _CONTENT["ans"])
    for index, char in enumerate(value, start=1):
        if not ("\x20" <= char <= "\x7e"):
            raise Iso8583Error(f"DE{field}: character {index} is not printable ASCII", field)
    if not pattern.fullmatch(value):
        bad = next(i for i, c in enumerate(value, start=1) if not pattern.fullmatch(c))
        raise Iso8583Error(f"DE{field}: character {bad} is not allowed, the field holds {description}", field)


def _check_length(field: str, spec: Mapping[str, Any], length: int, unit: str) -> None:
    if length == 0:
        raise Iso8583Error(f"DE{field} is empty; leave the field out instead", field)
    max_len = int(spec["max_len"])
    if spec["len_type"] == 0 and length != max_len:
        raise Iso8583Error(f"DE{field} is {length} {unit}, its fixed length is {max_len}", field)
    if length > max_len:
        raise Iso8583Error(f"DE{field} is {length} {unit}, at most {max_len}", field)


def _is_binary(spec: Mapping[str, Any]) -> bool:
    return bool(spec["data_enc"] == "b")


# -- encode ---------------------------------------------------------------------------------------------


def _check_mti(mti: object) -> str:
    if mti is None:
        raise Iso8583Error("the MTI (key 't') is missing", "t")
    if not isinstance(mti, str):
        raise Iso8583Error("the MTI must be a str of 4 digits", "t")
    if not mti.isascii() or not _MTI.fullmatch(mti.encode("ascii")):
        raise Iso8583Error("the MTI must be 4 digits starting with 0 (ISO 8583:1987)", "t")
    return mti


def _field_key(key: object) -> str:
    if not isinstance(key, str):
        raise Iso8583Error("field keys are str: 't' or '2'..'128'", None)
    if key not in _DATA_FIELDS:
        # No repr of the key: a caller might have put data where a key belongs.
        raise Iso8583Error("a key is neither 't' nor a field number our profile defines", None)
    return key


def _to_pyiso(field: str, value: object) -> str:
    spec = SPEC[field]
    if _is_binary(spec):
        if not isinstance(value, bytes | bytearray):
            raise Iso8583Error(f"DE{field} is binary: give bytes, not {type(value).__name__}", field)
        _check_length(field, spec, len(value), "bytes")
        return bytes(value).hex().upper()
    if not isinstance(value, str):
        raise Iso8583Error(f"DE{field} is ASCII: give str, not {type(value).__name__}", field)
    _check_text(field, value)
    _check_length(field, spec, len(value), "characters")
    return value


def encode(message: Mapping[str, str | bytes]) -> bytes:
    """The message as bytes (no length header). Keys "p", "s" and "1" (bitmaps) are ignored: bitmaps
    are computed. Iso8583Error for a missing or bad MTI, an unknown key or a value that does not fit."""
    if not isinstance(message, Mapping):
        raise TypeError(f"message must be a mapping, not {type(message).__name__}")
    doc: dict[str, str] = {"t": _check_mti(message.get("t"))}
    for key, value in message.items():
        if key == "t" or key in _BITMAP_KEYS:
            continue
        field = _field_key(key)
        doc[field] = _to_pyiso(field, value)
    failure: tuple[str, str | None]
    try:
        raw, _ = iso8583.encode(doc, SPEC)
    except iso8583.EncodeError as exc:  # pragma: no cover - the checks above come first
        # pyiso8583's messages hold lengths and field numbers, never data; the exception itself holds
        # the whole message, so it is dropped here and the error raised outside the except block.
        failure = (f"{_label(exc.field)}: {exc.msg}", exc.field)
    else:
        return bytes(raw)
    raise Iso8583Error(*failure)


# -- decode ---------------------------------------------------------------------------------------------


def _bits(bitmap: bytes, offset: int) -> list[int]:
    value = int(bitmap, 16)
    return [offset + bit for bit in range(1, 65) if value >> (64 - bit) & 1]


def _read_bitmap(raw: bytes, start: int, field: str) -> bytes:
    chunk = raw[start : start + 16]
    if len(chunk) < 16:
        raise Iso8583Error(f"truncated in the {_label(field)}: {len(chunk)} of 16 characters", field)
    if not _HEX_BITMAP.fullmatch(chunk):
        raise Iso8583Error(f"the {_label(field)} is not 16 upper-case hex characters", field)
    return chunk


def _scan_header(raw: bytes) -> list[int]:
    """MTI and bitmaps, checked before pyiso8583 sees the message; returns the data fields named."""
    if len(raw) < 4:
        raise Iso8583Error(f"truncated in the MTI: {len(raw)} of 4 bytes", "t")
    if not _MTI.fullmatch(raw[:4]):
        raise Iso8583Error("the MTI is not 4 ASCII digits starting with 0 (ISO 8583:1987)", "t")
    fields = _bits(_read_bitmap(raw, 4, "p"), 0)
    if fields and fields[0] == 1:
        secondary = _bits(_read_bitmap(raw, 20, "s"), 64)
        if not secondary:
            raise Iso8583Error("bit 1 is set but the secondary bitmap names no field", "s")
        fields = fields[1:] + secondary
    for number in fields:
        if str(number) not in _DATA_FIELDS:
            field = "s" if number > 64 else "p"
            raise Iso8583Error(f"the bitmap names DE{number}, which our profile does not define", field)
    return fields


def _from_pyiso(
    field: str, decoded: Mapping[str, str], encoded: Mapping[str, Mapping[str, bytes]]
) -> str | bytes:
    spec = SPEC[field]
    length_prefix = encoded[field]["len"]
    if length_prefix and not length_prefix.isdigit():
        raise Iso8583Error(f"DE{field}: the length prefix is not {len(length_prefix)} ASCII digits", field)
    data = encoded[field]["data"]
    if _is_binary(spec):
        _check_length(field, spec, len(data), "bytes")
        return bytes(data)
    value = decoded[field]
    _check_text(field, value)
    _check_length(field, spec, len(value), "characters")
    return value


def decode(raw: bytes) -> Message:
    """The message in ``raw`` (no length header). Iso8583Error for a truncated message, trailing bytes,
    a bad MTI or bitmap, a field our SPEC does not define, or a field that breaks its definition."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"raw must be bytes, not {type(raw).__name__}")
    data = bytes(raw)
    _scan_header(data)
    failure: tuple[str, str | None]
    try:
        decoded, encoded = iso8583.decode(data, SPEC)
    except iso8583.DecodeError as exc:
        if exc.msg.startswith("Extra data"):
            extra = len(data) - exc.pos
            failure = (f"{extra} extra byte(s) after the last field", None)
        else:
            # Messages such as "Field data is 3 bytes, expecting 12": lengths, never data.
            failure = (f"{_label(exc.field)}: {exc.msg} (at byte {exc.pos})", exc.field)
    except (KeyError, IndexError, TypeError, ValueError):  # pragma: no cover - _scan_header prevents these
        failure = ("the message does not follow the profile", None)
    else:
        message: Message = {"t": decoded["t"]}
        for field in decoded:
            if field in ("t", "p", "1"):
                continue
            message[field] = _from_pyiso(field, decoded, encoded)
        return message
    raise Iso8583Error(*failure)


# -- MAC ------------------------------------------------------------------------------------------------


def _numbers(message: Mapping[str, object]) -> set[int]:
    return {int(key) for key in message if isinstance(key, str) and key.isdigit() and key != "1"}


def mac_field(message: Mapping[str, object]) -> str:
    """Where the MAC of ``message`` goes: "128" if any field 65-127 is present (there will be a
    secondary bitmap), else "64". DE64/DE128 themselves do not count."""
    others = _numbers(message) - {64, 128}
    return "128" if any(65 <= number <= 127 for number in others) else "64"


def _check_mac_value(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TypeError("the MAC function must return bytes")
    if len(value) != MAC_LEN:
        # A plain ValueError, not Iso8583Error: our PIN pad/HSM is at fault, not the peer's message.
        raise ValueError(f"the MAC function returned {len(value)} bytes, expecting {MAC_LEN}")
    return bytes(value)


def encode_with_mac(message: Mapping[str, str | bytes], mac: Callable[[bytes], bytes]) -> bytes:
    """``message`` encoded with its MAC as the last field. Any DE64/DE128 given is replaced: the MAC
    field is set to 8 zero bytes, the message encoded, and the last 8 bytes replaced by
    ``mac(raw[:-8])``."""
    to_send: dict[str, str | bytes] = {k: v for k, v in message.items() if k not in ("64", "128")}
    to_send[mac_field(to_send)] = bytes(MAC_LEN)
    raw = encode(to_send)
    return raw[:-MAC_LEN] + _check_mac_value(mac(raw[:-MAC_LEN]))


def mac_input(raw: bytes) -> bytes:
    """The bytes the MAC of ``raw`` covers: ``raw`` without its last 8 bytes. Iso8583Error if ``raw``
    does not decode or does not carry its MAC as its last field (DE64 with no secondary bitmap, DE128
    with one, and never both)."""
    message = decode(raw)
    expected = mac_field(message)
    other = "64" if expected == "128" else "128"
    if other in message:
        if expected == "128":
            raise Iso8583Error("DE64 carries a MAC but the message has a secondary bitmap: use DE128", "64")
        raise Iso8583Error("DE128 is present in a message without fields 65-127: the MAC goes in DE64", "128")
    if expected not in message:
        raise Iso8583Error(f"the message carries no MAC (DE{expected})", expected)
    return bytes(raw[:-MAC_LEN])


def verify_mac(raw: bytes, mac: Callable[[bytes], bytes]) -> bool:
    """True if the last 8 bytes of ``raw`` equal ``mac(mac_input(raw))`` (constant-time compare).
    Iso8583Error, as :func:`mac_input`, for a message that does not decode or has no MAC in its place."""
    covered = mac_input(raw)
    return hmac.compare_digest(_check_mac_value(mac(covered)), bytes(raw[-MAC_LEN:]))


# -- log form -------------------------------------------------------------------------------------------


def _show(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if not isinstance(value, str):
        return "?"
    shown = "".join(c if "\x20" <= c <= "\x7e" else "?" for c in value[:40]).rstrip()
    return shown if len(value) <= 40 else shown + "..."


def describe(message: Mapping[str, object]) -> str:
    """One log line: MTI, DE3, DE11, DE39, DE41 (those present), the PAN masked to first 6 and last 4,
    and the field numbers present. Never the content of DE52, DE64, DE125, DE128 or any other field."""
    parts = [_show(message.get("t", "????"))]
    for field in ("3", "11", "39", "41"):
        if field in message:
            parts.append(f"DE{field}={_show(message[field])}")
    if "2" in message:
        pan = message["2"]
        parts.append(f"PAN={mask_pan(pan) if isinstance(pan, str) else '?'}")
    parts.append("fields=" + ",".join(str(n) for n in sorted(_numbers(message))))
    return " ".join(parts)
