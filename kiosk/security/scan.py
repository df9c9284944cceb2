"""Secret scan of the data dir: PINs, PIN blocks, full PANs and track data must not be anywhere at rest.

Run after the journeys (tests, and by technicians after a field incident). It reads every file under the
data dir except ``keys/`` (key material, no card data) — logs, the SQLite database with its ``-wal``
file (free pages included: a deleted row lingers there), the journal and its torn-tail side files,
receipts — as raw bytes and looks at three views of each: the bytes as Latin-1 (ASCII text and text
columns inside binary files), and UTF-16 LE / BE runs (what Windows tools and some drivers write).

What counts as a finding:
- ``pan``: a Luhn-valid 13-19 digit run not starting with 0 (MII 0 is never a card; our account numbers
  start with the branch code ``0001`` and are Luhn-valid too), digits possibly grouped by spaces or dashes;
  numbers the caller lists in ``not_pans`` (e.g. account numbers) are skipped. Runs inside a long
  hexadecimal token (hashes, keys, hex ciphertext: 32+ hex characters) are not PANs. A longer digit run is
  checked at both ends, where a PAN glued to the next column (expiry, amount) would sit.
- ``known_pan``: a PAN the caller names, anywhere, in text or as the big-endian integer SQLite would store.
- ``pin``: a PIN the caller names, as a separate number within 24 characters after a PIN word.
- ``pin_block``: 16 or 32 hex digits right after a PIN-block word, or the clear ISO format 0 block of any
  named PIN with any named PAN.
- ``track1`` / ``track2``: ISO 7813 track data (also the sentinel-less ``PAN=YYMM…`` and EMV ``PAN D YYMM``
  equivalents).
Findings never repeat the secret: PANs are masked and PINs shown as ``****``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hostlink.checkdigits import luhn_valid
from hostlink.redaction import mask_pan

SKIPPED_DIRS = frozenset({"keys"})
_MAX_FILE_BYTES = 512 * 1024 * 1024

_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
# How PANs are printed in groups: 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners). Dates (2031-01-01) are not.
_PAN_GROUPING = re.compile(
    r"[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}"
)
_HEX_TOKEN = re.compile(r"[0-9A-Fa-f]+")
_PIN_WORD = re.compile(r"(?i)(?:\bpin|pin_?code|passcode|密码)")
_PIN_BLOCK_HEX = re.compile(
    r"(?i)(?:pin[ _-]?block|pinblock|\bepb|\bpin_?blk)[\"']?\s*[:=]?\s*[\"']?(?:0x)?"
    r"([0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-f])"
)
_TRACK1 = re.compile(r"%?B[0-9]{12,19}\^[^\^\x00-\x1f]{2,26}\^[0-9]{4}")
_TRACK2 = re.compile(r";[0-9]{12,19}=[0-9]{4}|(?<![0-9])[0-9]{12,19}[=D][0-9]{7,}")
_UTF16LE_RUN = re.compile(rb"(?:[\x09\x0a\x0d\x20-\x7e]\x00){8,}")
_UTF16BE_RUN = re.compile(rb"(?:\x00[\x09\x0a\x0d\x20-\x7e]){8,}")


@dataclass(frozen=True)
class Finding:
    path: Path
    offset: int  # byte offset in the file (of the run, for UTF-16 views)
    kind: str  # pan, known_pan, pin, pin_block, track1, track2
    detail: str  # masked: never the secret itself

    def __str__(self) -> str:
        return f"{self.path} @{self.offset}: {self.kind} ({self.detail})"


def _views(data: bytes) -> Iterator[tuple[str, int, int]]:
    """(text, byte offset of text[0], bytes per char) for each way the file could hold text."""
    yield data.decode("latin-1"), 0, 1
    for pattern, codec in ((_UTF16LE_RUN, "utf-16-le"), (_UTF16BE_RUN, "utf-16-be")):
        for match in pattern.finditer(data):
            yield match.group(0).decode(codec), match.start(), 2


def _inside_hex_token(text: str, start: int, end: int) -> bool:
    left = start
    while left > 0 and text[left - 1] in "0123456789abcdefABCDEF":
        left -= 1
    right = end
    while right < len(text) and text[right] in "0123456789abcdefABCDEF":
        right += 1
    token = text[left:right]
    return right - left >= 32 and any(c.isalpha() for c in token)


def _runs(group_text: str, offset: int) -> Iterator[tuple[int, str]]:
    """(offset, digits) to test: the whole thing if grouped like a PAN, else each plain run on its own."""
    if _PAN_GROUPING.fullmatch(group_text):
        yield offset, re.sub(r"[ -]", "", group_text)
        return
    for part in re.finditer(r"[0-9]{13,}", group_text):
        yield offset + part.start(), part.group(0)


def _pan_candidates(digits: str) -> Iterator[str]:
    if 13 <= len(digits) <= 19:
        if digits[0] != "0":
            yield digits
        return
    # A longer run: a PAN glued to a neighbouring number sits at one end of it.
    for length in range(13, 20):
        for candidate in (digits[:length], digits[-length:]):
            if candidate[0] in "3456" or candidate.startswith("62"):
                yield candidate


def _scan_text(
    text: str,
    base: int,
    width: int,
    path: Path,
    pins: list[str],
    pans: list[str],
    clear_blocks: list[str],
    not_pans: frozenset[str],
) -> Iterator[Finding]:
    for match in _TRACK1.finditer(text):
        yield Finding(path, base + match.start() * width, "track1", "ISO 7813 track 1 data")
    for match in _TRACK2.finditer(text):
        yield Finding(path, base + match.start() * width, "track2", "ISO 7813 track 2 data")
    for match in _DIGIT_RUN.finditer(text):
        for start, digits in _runs(match.group(0), match.start()):
            if _inside_hex_token(text, start, start + len(digits)):
                continue
            for candidate in _pan_candidates(digits):
                if candidate not in not_pans and luhn_valid(candidate):
                    yield Finding(path, base + start * width, "pan", mask_pan(candidate))
                    break
    for match in _PIN_BLOCK_HEX.finditer(text):
        yield Finding(
            path, base + match.start(1) * width, "pin_block", "hex PIN block next to a PIN-block word"
        )
    upper = text.upper()
    for clear in clear_blocks:
        start = upper.find(clear)
        if start >= 0:
            yield Finding(path, base + start * width, "pin_block", "clear format 0 PIN block of a known PIN")
    for pan in pans:
        start = text.find(pan)
        if start >= 0:
            yield Finding(path, base + start * width, "known_pan", mask_pan(pan))
    for word in _PIN_WORD.finditer(text):
        window = text[word.end() : word.end() + 24]
        for pin in pins:
            if re.search(rf"(?<![0-9]){re.escape(pin)}(?![0-9])", window):
                yield Finding(path, base + word.start() * width, "pin", "**** after a PIN word")


def _clear_format0(pin: str, pan: str) -> str | None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12 and pan.isdigit() and len(pan) >= 13):
        return None
    pin_field = int(f"0{len(pin):X}{pin}".ljust(16, "F"), 16)
    pan_field = int("0000" + pan[:-1][-12:], 16)
    return f"{pin_field ^ pan_field:016X}"


def _files(data_dir: Path) -> Iterator[Path]:
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts and relative.parts[0] in SKIPPED_DIRS:
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def scan_file(
    path: Path, *, pins: Iterable[str] = (), pans: Iterable[str] = (), not_pans: Iterable[str] = ()
) -> list[Finding]:
    pin_list, pan_list, skip = sorted(set(pins)), sorted(set(pans)), frozenset(not_pans)
    clear_blocks = [c for pin in pin_list for pan in pan_list if (c := _clear_format0(pin, pan))]
    with open(path, "rb") as handle:
        data = handle.read(_MAX_FILE_BYTES)
    findings: list[Finding] = []
    for text, base, width in _views(data):
        findings.extend(_scan_text(text, base, width, path, pin_list, pan_list, clear_blocks, skip))
    # SQLite keeps INTEGER columns as big-endian two's complement of 1..8 bytes: a PAN typed as a number.
    for pan in pan_list:
        value = int(pan)
        for size in (6, 8):
            if value < 1 << (8 * size - 1):
                start = data.find(value.to_bytes(size, "big"))
                if start >= 0:
                    findings.append(
                        Finding(path, start, "known_pan", f"{mask_pan(pan)} as a {size}-byte integer")
                    )
                break
    unique: dict[tuple[int, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.offset, finding.kind), finding)
    return sorted(unique.values(), key=lambda f: (f.offset, f.kind))


def scan_for_secrets(
    data_dir: Path, *, pins: Iterable[str] = (), pans: Iterable[str] = (), not_pans: Iterable[str] = ()
) -> list[Finding]:
    """Every secret found at rest under ``data_dir`` (``keys/`` excepted); an empty list means clean."""
    pin_list, pan_list, skip = list(pins), list(pans), list(not_pans)
    findings: list[Finding] = []
    for path in _files(data_dir):
        findings.extend(scan_file(path, pins=pin_list, pans=pan_list, not_pans=skip))
    return findings
