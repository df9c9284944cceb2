"""Magnetic stripe tracks: ISO/IEC 7813 track 1 (format B) and track 2, ISO 4909 track 3, with LRC,
and the Luhn (ISO/IEC 7812) check digit of the PAN.

Track 1: ``%B PAN ^ NAME ^ YYMM SVC discretionary ? LRC``; 6-bit characters 0x20..0x5F, LRC = XOR of
(char - 0x20) over start sentinel..end sentinel, sent as chr(0x20 + LRC). At most 79 characters.
Track 2: ``; PAN = YYMM SVC discretionary ? LRC``; 4-bit characters 0x30..0x3F, LRC = XOR of
(char - 0x30), sent as chr(0x30 + LRC). At most 40 characters. Track 3 uses track 2's character set,
at most 107 characters. Parity bits are a physical-layer matter and not represented here.

Parsed tracks hold a PAN, so their ``repr`` masks it (first 6, last 4) and hides the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from hostlink.redaction import mask_pan

TRACK1_MAX = 79
TRACK2_MAX = 40
TRACK3_MAX = 107


class TrackError(ValueError):
    """A track that is malformed or whose LRC does not match (the message never contains the PAN)."""


def luhn_valid(pan: str) -> bool:
    if not pan.isascii() or not pan.isdigit() or len(pan) < 2:
        return False
    return luhn_check_digit(pan[:-1]) == pan[-1]


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these digits are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def lrc(chars: str, base: int) -> str:
    """XOR of (char - base) over ``chars``, as a character of the same set."""
    value = 0
    for ch in chars:
        value ^= ord(ch) - base
    return chr(base + value)


def _track1_lrc(chars: str) -> str:
    return lrc(chars, 0x20)


def _track2_lrc(chars: str) -> str:
    return lrc(chars, 0x30)


def _check_charset(text: str, low: int, high: int, what: str) -> None:
    bad = [c for c in text if not low <= ord(c) <= high]
    if bad:
        raise TrackError(f"{what}: {len(bad)} character(s) outside the track's character set")


def _check_pan(pan: str) -> None:
    if not (pan.isascii() and pan.isdigit()) or not 12 <= len(pan) <= 19:
        raise TrackError("PAN must be 12..19 digits")


def _check_expiry_and_service(expiry: str, service_code: str) -> None:
    if len(expiry) != 4 or not expiry.isdigit() or not 1 <= int(expiry[2:]) <= 12:
        raise TrackError("expiry must be YYMM")
    if len(service_code) != 3 or not service_code.isdigit():
        raise TrackError("service code must be 3 digits")


@dataclass(frozen=True, repr=False)
class Track1:
    pan: str
    name: str
    expiry: str
    service_code: str
    discretionary: str = ""

    @property
    def luhn_ok(self) -> bool:
        return luhn_valid(self.pan)

    def __repr__(self) -> str:
        return f"Track1(pan={mask_pan(self.pan)!r}, expiry=**, name=<{len(self.name)} chars>)"


@dataclass(frozen=True, repr=False)
class Track2:
    pan: str
    expiry: str
    service_code: str
    discretionary: str = ""

    @property
    def luhn_ok(self) -> bool:
        return luhn_valid(self.pan)

    def __repr__(self) -> str:
        return f"Track2(pan={mask_pan(self.pan)!r}, expiry=**)"


def encode_track1(pan: str, name: str, expiry: str, service_code: str, discretionary: str = "") -> str:
    _check_pan(pan)
    _check_expiry_and_service(expiry, service_code)
    name = name.upper()
    if not 2 <= len(name) <= 26 or "^" in name:
        raise TrackError("name must be 2..26 characters without '^'")
    body = f"%B{pan}^{name}^{expiry}{service_code}{discretionary}?"
    _check_charset(body, 0x20, 0x5F, "track 1")
    if any(c in "%?^" for c in discretionary):
        raise TrackError("track 1 discretionary data contains a sentinel or separator")
    if len(body) + 1 > TRACK1_MAX:
        raise TrackError(f"track 1 longer than {TRACK1_MAX} characters")
    return body + _track1_lrc(body)


def encode_track2(pan: str, expiry: str, service_code: str, discretionary: str = "") -> str:
    _check_pan(pan)
    _check_expiry_and_service(expiry, service_code)
    if not discretionary.isdigit() and discretionary:
        raise TrackError("track 2 discretionary data must be digits")
    body = f";{pan}={expiry}{service_code}{discretionary}?"
    if len(body) + 1 > TRACK2_MAX:
        raise TrackError(f"track 2 longer than {TRACK2_MAX} characters")
    return body + _track2_lrc(body)


def encode_track3(data: str) -> str:
    body = f";{data}?"
    _check_charset(data, 0x30, 0x3F, "track 3")
    if any(c in ";?" for c in data):
        raise TrackError("track 3 data contains a sentinel")
    if len(body) + 1 > TRACK3_MAX:
        raise TrackError(f"track 3 longer than {TRACK3_MAX} characters")
    return body + _track2_lrc(body)


def _split_lrc(raw: str, end: str, base: int, what: str, require_lrc: bool) -> str:
    """Returns the body (start sentinel..end sentinel) after checking the LRC character."""
    cut = raw.find(end)
    if cut < 0:
        raise TrackError(f"{what}: no end sentinel")
    body, rest = raw[: cut + 1], raw[cut + 1 :]
    if not rest:
        if require_lrc:
            raise TrackError(f"{what}: LRC character missing")
        return body
    if len(rest) != 1:
        raise TrackError(f"{what}: {len(rest)} characters after the end sentinel")
    if rest != lrc(body, base):
        raise TrackError(f"{what}: LRC mismatch")
    return body


def parse_track1(raw: str, *, require_lrc: bool = True) -> Track1:
    if len(raw) > TRACK1_MAX:
        raise TrackError(f"track 1 longer than {TRACK1_MAX} characters")
    _check_charset(raw, 0x20, 0x5F, "track 1")
    body = _split_lrc(raw, "?", 0x20, "track 1", require_lrc)
    if not body.startswith("%B"):
        raise TrackError("track 1 must start with %B (format B)")
    fields = body[2:-1].split("^")
    if len(fields) != 3:
        raise TrackError("track 1 needs PAN^NAME^DATA")
    pan, name, data = fields
    _check_pan(pan)
    if len(data) < 7:
        raise TrackError("track 1 data too short for expiry and service code")
    expiry, service, disc = data[:4], data[4:7], data[7:]
    _check_expiry_and_service(expiry, service)
    return Track1(pan, name.strip(), expiry, service, disc)


def parse_track2(raw: str, *, require_lrc: bool = True) -> Track2:
    if len(raw) > TRACK2_MAX:
        raise TrackError(f"track 2 longer than {TRACK2_MAX} characters")
    _check_charset(raw, 0x30, 0x3F, "track 2")
    body = _split_lrc(raw, "?", 0x30, "track 2", require_lrc)
    if not body.startswith(";"):
        raise TrackError("track 2 must start with ';'")
    pan, sep, data = body[1:-1].partition("=")
    if not sep:
        raise TrackError("track 2 has no field separator '='")
    _check_pan(pan)
    if len(data) < 7 or not data.isdigit():
        raise TrackError("track 2 data must be expiry, service code and digits")
    expiry, service, disc = data[:4], data[4:7], data[7:]
    _check_expiry_and_service(expiry, service)
    return Track2(pan, expiry, service, disc)


def parse_track3(raw: str, *, require_lrc: bool = True) -> str:
    """Track 3's data between the sentinels (its layout is issuer-specific)."""
    if len(raw) > TRACK3_MAX:
        raise TrackError(f"track 3 longer than {TRACK3_MAX} characters")
    _check_charset(raw, 0x30, 0x3F, "track 3")
    body = _split_lrc(raw, "?", 0x30, "track 3", require_lrc)
    if not body.startswith(";"):
        raise TrackError("track 3 must start with ';'")
    return body[1:-1]
