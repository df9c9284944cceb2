"""Redaction of card data and PINs from any text that leaves the process (logs, journal, errors)."""

from __future__ import annotations

import re
import secrets

# A digit is an ASCII digit or a full-width one (U+FF10-FF19, what a Chinese input method types): a PAN
# or ID number written in full-width digits is the same secret.
_D = "[0-9\uff10-\uff19]"
_WORD = "[0-9\uff10-\uff19A-Za-z]"
_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})
# 13-19 digits, optionally grouped by spaces or dashes: the shape of a PAN. A digit run inside a longer
# word (a hex idempotency key such as "a7115264348272ea") is not a card number: masking it would corrupt
# the evidence crash recovery reads back, so letters count as boundaries too.
_PAN = re.compile(rf"(?<!{_WORD})(?:{_D}[ -]?){{12,18}}{_D}(?!{_WORD})")
# A resident ID number (GB 11643): 17 digits and a check character that may be X. An all-digit one is
# also a PAN shape and is masked as one; the X form needs its own pattern.
_ID_X = re.compile(rf"(?<!{_WORD}){_D}{{17}}[Xx\uff38\uff58](?!{_WORD})")
# A Chinese mobile number, 1[3-9] and 9 more digits, with or without +86 / 0086 / 86, grouped by spaces or
# dashes or not. Not part of a longer digit group (a grouped PAN is left to the PAN pattern).
_PHONE = re.compile(
    rf"(?<!{_WORD})(?<!{_D}[ -])(?:(?:\+|00)?86[ -]?)?1[3-9\uff13-\uff19](?:[ -]?{_D}){{9}}"
    rf"(?!{_WORD})(?![ -]{_D})"
)
# "pinblock 0412…", "PIN block: 0412…", "pin-block=…": a PIN block named in prose, separated by spaces.
_PIN_BLOCK_WORD = re.compile(r"(?i)(\bpin[ _-]?block\b[\"']?\s*[:=]?\s*)([\"']?)[0-9A-Fa-f]{8,64}\2")
# ISO 7813 track 1 (%B...^...^...?) and track 2 (;PAN=...?) data.
_TRACK1 = re.compile(r"%B[0-9]{1,19}\^[^?]{0,80}\?.?")
_TRACK2 = re.compile(r";[0-9]{1,19}=[0-9]{0,40}\?.?")
# key=value or "key": "value" pairs whose key names a PIN or PIN block.
_PIN_FIELD = re.compile(
    r"""(?ix)
    (["']?\b(?:pin|pin_?block|new_?pin|old_?pin|pvv|track[123]?|cvv2?|password)\b["']?\s*[:=]\s*)
    (b?["'][^"']*["']|[^\s,;}\]]+)
    """
)


def key_token(nbytes: int = 8) -> str:
    """The random part of an idempotency key: hex with at least one letter. Sixteen hex digits are all
    decimal digits about once in 1,800 draws, and such a key ("S1A2B3C4D5E6F:8155822741209431") has the
    shape of a PAN: the journal masked it, and recovery asked the ledger about a key that never existed."""
    while True:
        token = secrets.token_hex(nbytes)
        if not token.isdigit():
            return token


def mask_pan(pan: str) -> str:
    """First 6 and last 4 digits at most (PCI DSS), the rest as '*'."""
    digits = re.sub(r"[^0-9]", "", pan.translate(_FULL_WIDTH_DIGITS))
    if len(digits) < 11:
        return "*" * len(digits)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_account(number: str) -> str:
    """An account number as screens, receipts and the journal show it: "****" and its last 4 digits
    (a number of 4 digits or fewer is all stars)."""
    number = number.strip()
    if len(number) <= 4:
        return "*" * len(number)
    return f"****{number[-4:]}"


def mask_name(name: str) -> str:
    """A person's name as receipts print it: a Chinese name keeps its last character ("*娜"), a Latin
    name the first letter of each word ("L* N*"). Enough for its owner to recognise, too little for a
    stranger who finds the slip to use."""
    name = name.strip()
    if any("\u3400" <= ch <= "\u9fff" for ch in name):
        return "*" * (len(name) - 1) + name[-1:]
    return " ".join(word[0] + "*" * (len(word) - 1) for word in re.split(r"[\s/]+", name) if word)


def mask_id_number(id_number: str) -> str:
    """A resident ID number as logs show it: first 6 (region) and last 4 visible, full-width digits and
    check character folded to ASCII."""
    text = re.sub(r"[\s-]", "", id_number.translate(_FULL_WIDTH_DIGITS)).upper().replace("\uff38", "X")
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(phone: str) -> str:
    """A mobile number as logs show it: the first 3 and last 4 of its 11 digits ("138****8000"); a
    country prefix is dropped."""
    digits = re.sub(r"[^0-9]", "", phone.translate(_FULL_WIDTH_DIGITS))[-11:]
    return digits[:3] + "****" + digits[-4:]


def redact(text: str) -> str:
    text = _TRACK1.sub("[TRACK1]", text)
    text = _TRACK2.sub("[TRACK2]", text)
    text = _PIN_FIELD.sub(lambda m: m.group(1) + "[REDACTED]", text)
    text = _PIN_BLOCK_WORD.sub(lambda m: m.group(1) + "[REDACTED]", text)
    text = _ID_X.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return _PAN.sub(lambda m: mask_pan(m.group(0)), text)
