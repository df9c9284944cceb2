"""Redaction of card data and PINs from any text that leaves the process (logs, journal, errors)."""

from __future__ import annotations

import re
import secrets

# 13-19 digits, optionally grouped by spaces or dashes: the shape of a PAN. A digit run inside a longer
# word (a hex idempotency key such as "a7115264348272ea") is not a card number: masking it would corrupt
# the evidence crash recovery reads back, so letters count as boundaries too.
_PAN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9][ -]?){12,18}[0-9](?![0-9A-Za-z])")
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
    digits = re.sub(r"[^0-9]", "", pan)
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


def redact(text: str) -> str:
    text = _TRACK1.sub("[TRACK1]", text)
    text = _TRACK2.sub("[TRACK2]", text)
    text = _PIN_FIELD.sub(lambda m: m.group(1) + "[REDACTED]", text)
    return _PAN.sub(lambda m: mask_pan(m.group(0)), text)
