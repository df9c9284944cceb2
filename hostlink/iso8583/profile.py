"""Smart Teller's ISO 8583 (1987) profile: the field specification, MTIs, codes and field helpers.

Terminal ↔ bank host and bank host ↔ interbank switch speak the 1987 field set with the field
definitions of pyiso8583's ``default_ascii`` spec (ASCII MTI, bitmaps as 16 upper-case hex characters,
ASCII lengths), changed only where :data:`SPEC` says so. Framing is in :mod:`hostlink.iso8583.framing`,
the codec and the MAC rule in :mod:`hostlink.iso8583.codec`.

Field roles (the constants below; "n" digits, "an" letters and digits, "ans" printable ASCII,
"hex" upper-case hex digits, "b" raw bytes):

=======  ==========================  =======  ===================================================
DE       constant                    content  how the profile uses it
=======  ==========================  =======  ===================================================
2        PAN                         n..19    card number (LLVAR); masked in every log line
3        PROCESSING_CODE             n6       BALANCE, MINI_STATEMENT, TRANSFER, BILL_PAYMENT, ...
4        AMOUNT                      n12      amount in minor units (fen for CNY), zero-padded
7        TRANSMISSION_DATETIME       n10      MMDDhhmmss of the send time in UTC
11       STAN                        n6       system trace audit number, 000001..999999
12       LOCAL_TIME                  n6       hhmmss, the terminal's local time
13       LOCAL_DATE                  n4       MMDD, the terminal's local date
14       EXPIRY                      n4       card expiry YYMM
32       ACQUIRER_ID                 n..11    acquiring institution id (LLVAR)
37       RRN                         ans12    retrieval reference number, set by the host
38       AUTH_ID                     ans6     authorisation id response, set by the host
39       RESPONSE_CODE               an2      see RESPONSE_CODES
41       TERMINAL_ID                 ans8     terminal id, left-justified, space padded
42       CARD_ACCEPTOR_ID            ans15    card acceptor (branch) id
48       ADDITIONAL_DATA             ans..999 ``key=value;`` pairs, see :func:`additional_data`
49       CURRENCY                    n3       ISO 4217 numeric currency, CURRENCY_CNY = "156"
52       PIN_BLOCK                   b8       enciphered ISO 9564 PIN block (8 raw bytes)
54       BALANCES                    an..240  20-character amounts: account type 2, amount type 2,
                                              currency 3, sign C/D 1, amount 12 (1987 layout)
64       MAC_PRIMARY                 b8       MAC when the message has no secondary bitmap
70       NETWORK_CODE                n3       SIGN_ON, SIGN_OFF, KEY_CHANGE, ECHO
90       ORIGINAL_DATA               n42      see :func:`original_data`
100      RECEIVING_INSTITUTION_ID    n..11    receiving bank for an other-bank transfer (LLVAR)
102      ACCOUNT_FROM                ans..28  account 1, the account debited (LLVAR)
103      ACCOUNT_TO                  ans..28  account 2: the account credited, or the biller and
                                              bill reference of a bill payment (LLVAR)
120      TPK_KEY_BLOCK               ans..999 TR-31 key block of the new TPK, ASCII (LLLVAR)
121      TAK_KEY_BLOCK               ans..999 TR-31 key block of the new TAK, ASCII (LLLVAR)
122      KEY_CHECK_VALUES            hex..999 TPK KCV (6 hex) + TAK KCV (6 hex), 12 characters
125      NEW_PIN_BLOCK               hex..999 new PIN block of a PIN change, 16 hex characters
128      MAC_SECONDARY               b8       MAC when the message has a secondary bitmap
=======  ==========================  =======  ===================================================

DE48 ``key=value;`` pairs: every pair ends with ``;`` (the last one too); a key is 1-32 of
``a-z 0-9 _``; a value is printable ASCII without ``;`` or ``=`` and may be empty; no key twice; order
is kept. Example: ``lang=zh;channel=kiosk;``. No JSON, no escaping.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from iso8583.specs import default_ascii

__all__ = [
    "ACCOUNT_FROM",
    "ACCOUNT_TO",
    "ACQUIRER_ID",
    "ADDITIONAL_DATA",
    "AMOUNT",
    "APPROVED",
    "AUTH_ADVICE",
    "AUTH_ADVICE_REPEAT",
    "AUTH_ADVICE_RESPONSE",
    "AUTH_ID",
    "AUTH_REQUEST",
    "AUTH_RESPONSE",
    "BALANCE",
    "BALANCES",
    "BILL_PAYMENT",
    "CARD_ACCEPTOR_ID",
    "CARD_RETAINED",
    "CURRENCY",
    "CURRENCY_CNY",
    "ECHO",
    "EXPIRY",
    "FIELD_CONTENT",
    "FINANCIAL_ADVICE",
    "FINANCIAL_ADVICE_RESPONSE",
    "FINANCIAL_REQUEST",
    "FINANCIAL_RESPONSE",
    "KEY_CHANGE",
    "KEY_CHECK_VALUES",
    "LOCAL_DATE",
    "LOCAL_TIME",
    "MAC_PRIMARY",
    "MAC_SECONDARY",
    "MINI_STATEMENT",
    "NETWORK_CODE",
    "NETWORK_REQUEST",
    "NETWORK_RESPONSE",
    "NEW_PIN_BLOCK",
    "ORIGINAL_DATA",
    "PAN",
    "PIN_BLOCK",
    "PIN_CHANGE",
    "PIN_VERIFY",
    "PROCESSING_CODE",
    "RECEIVING_INSTITUTION_ID",
    "RESPONSE_CODE",
    "RESPONSE_CODES",
    "REVERSAL",
    "REVERSAL_REPEAT",
    "REVERSAL_RESPONSE",
    "RRN",
    "SENSITIVE_FIELDS",
    "SIGN_OFF",
    "SIGN_ON",
    "SPEC",
    "STAN",
    "TAK_KEY_BLOCK",
    "TERMINAL_ID",
    "TPK_KEY_BLOCK",
    "TRANSFER",
    "TRANSMISSION_DATETIME",
    "OriginalData",
    "StanCounter",
    "additional_data",
    "amount_field",
    "original_data",
    "parse_additional_data",
    "parse_amount",
    "parse_original_data",
    "response_mti",
    "terminal_id_field",
    "transmission_time",
]

# -- the field specification ----------------------------------------------------------------------------


def _build_spec() -> Mapping[str, Mapping[str, Any]]:
    spec: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)
    # Change 1: default_ascii carries DE52 as 16 ASCII hex characters. We carry the enciphered PIN block
    # as the 8 raw bytes ISO 8583:1987 defines (b 64): the block never exists as text a log line or
    # str() could print, and the PIN pad's output goes on the wire unconverted.
    spec["52"] = {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8, "desc": "PIN"}
    # Change 2: DE64 and DE128 as 8 raw bytes (1987's b 64) instead of 16 hex characters, so the MAC is
    # exactly the last 8 bytes of a MACed message and the MAC input is raw[:-8] (see codec.mac_input).
    spec["64"] = {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8, "desc": "MAC"}
    spec["128"] = {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8, "desc": "MAC"}
    # Change 3: DE65 removed. pyiso8583 reads bit 65 as "a tertiary bitmap follows" (fields 129-192),
    # which the 1987 field set does not have and our profile never sends; without a DE65 definition the
    # codec refuses a bitmap with bit 65 set instead of reading fields nobody defined.
    del spec["65"]
    return MappingProxyType({key: MappingProxyType(value) for key, value in spec.items()})


SPEC: Mapping[str, Mapping[str, Any]] = _build_spec()
"""Read-only pyiso8583 spec: ``default_ascii`` with DE52/DE64/DE128 binary and DE65 removed."""

# -- field roles ----------------------------------------------------------------------------------------

PAN = "2"
PROCESSING_CODE = "3"
AMOUNT = "4"
TRANSMISSION_DATETIME = "7"
STAN = "11"
LOCAL_TIME = "12"
LOCAL_DATE = "13"
EXPIRY = "14"
ACQUIRER_ID = "32"
RRN = "37"
AUTH_ID = "38"
RESPONSE_CODE = "39"
TERMINAL_ID = "41"
CARD_ACCEPTOR_ID = "42"
ADDITIONAL_DATA = "48"
CURRENCY = "49"
PIN_BLOCK = "52"
BALANCES = "54"
MAC_PRIMARY = "64"
NETWORK_CODE = "70"
ORIGINAL_DATA = "90"
RECEIVING_INSTITUTION_ID = "100"
ACCOUNT_FROM = "102"
ACCOUNT_TO = "103"
TPK_KEY_BLOCK = "120"
TAK_KEY_BLOCK = "121"
KEY_CHECK_VALUES = "122"
NEW_PIN_BLOCK = "125"
MAC_SECONDARY = "128"

CURRENCY_CNY = "156"

FIELD_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        PAN: "n",
        PROCESSING_CODE: "n",
        AMOUNT: "n",
        TRANSMISSION_DATETIME: "n",
        STAN: "n",
        LOCAL_TIME: "n",
        LOCAL_DATE: "n",
        EXPIRY: "n",
        ACQUIRER_ID: "n",
        RRN: "ans",
        AUTH_ID: "ans",
        RESPONSE_CODE: "an",
        TERMINAL_ID: "ans",
        CARD_ACCEPTOR_ID: "ans",
        ADDITIONAL_DATA: "ans",
        CURRENCY: "n",
        PIN_BLOCK: "b",
        BALANCES: "an",
        MAC_PRIMARY: "b",
        NETWORK_CODE: "n",
        ORIGINAL_DATA: "n",
        RECEIVING_INSTITUTION_ID: "n",
        ACCOUNT_FROM: "ans",
        ACCOUNT_TO: "ans",
        TPK_KEY_BLOCK: "ans",
        TAK_KEY_BLOCK: "ans",
        KEY_CHECK_VALUES: "hex",
        NEW_PIN_BLOCK: "hex",
        MAC_SECONDARY: "b",
    }
)
"""Content class the codec enforces for each field of the table above (both directions). Any other
field SPEC defines must be printable ASCII ("ans"), or raw bytes where SPEC says binary."""

SENSITIVE_FIELDS: frozenset[str] = frozenset({"2", "34", "35", "36", "45", "52", "55", "120", "121", "125"})
"""Fields whose values no error message, log line or describe() output ever contains (PANs, tracks,
PIN blocks, ICC data, key blocks). The codec goes further: its errors contain no field value at all."""

# -- message type indicators ----------------------------------------------------------------------------

AUTH_REQUEST = "0100"
AUTH_RESPONSE = "0110"
AUTH_ADVICE = "0120"
AUTH_ADVICE_REPEAT = "0121"
AUTH_ADVICE_RESPONSE = "0130"
FINANCIAL_REQUEST = "0200"
FINANCIAL_RESPONSE = "0210"
FINANCIAL_ADVICE = "0220"
FINANCIAL_ADVICE_RESPONSE = "0230"
REVERSAL = "0420"
REVERSAL_REPEAT = "0421"
REVERSAL_RESPONSE = "0430"
NETWORK_REQUEST = "0800"
NETWORK_RESPONSE = "0810"

_REQUEST_MTI = re.compile(r"0[1-9][02][01]")


def response_mti(mti: str) -> str:
    """The MTI that answers ``mti``: 0100→0110, 0120→0130, 0200→0210, 0220→0230, 0420/0421→0430,
    0800→0810. A repeat (last digit 1) is answered like the original. ValueError for a response or
    anything that is not a 1987 request/advice MTI."""
    if not isinstance(mti, str) or not _REQUEST_MTI.fullmatch(mti):
        raise ValueError("not a 1987 request or advice MTI (0xy0 or 0xy1 with y = 0 or 2)")
    return mti[:2] + str(int(mti[2]) + 1) + "0"


# -- processing codes (DE3) -----------------------------------------------------------------------------

BALANCE = "310000"
MINI_STATEMENT = "380000"
TRANSFER = "400000"
BILL_PAYMENT = "500000"
PIN_CHANGE = "920000"
PIN_VERIFY = "960000"  # private use (9x): verify the PIN only, no other effect
CARD_RETAINED = "000000"  # with a 0120/0220 advice: the terminal kept the card

# -- network management codes (DE70) --------------------------------------------------------------------

SIGN_ON = "001"
SIGN_OFF = "002"
KEY_CHANGE = "101"
ECHO = "301"

# -- response codes (DE39) ------------------------------------------------------------------------------

APPROVED = "00"

RESPONSE_CODES: dict[str, str] = {
    "00": "approved",
    "05": "do not honour",
    "12": "invalid transaction",
    "13": "invalid amount",
    "14": "invalid card number",
    "25": "unable to locate record",
    "30": "format error",
    "51": "insufficient funds",
    "54": "expired card",
    "55": "incorrect PIN",
    "57": "transaction not permitted to cardholder",
    "61": "exceeds withdrawal/transfer limit",
    "75": "PIN tries exceeded",
    "91": "issuer or switch inoperative",
    "94": "duplicate transmission",
    "96": "system malfunction",
    "A0": "MAC failure",  # private to this profile: 1987 has no MAC-failure code
}

# -- field helpers --------------------------------------------------------------------------------------


def transmission_time(dt: datetime) -> str:
    """DE7: MMDDhhmmss of ``dt`` in UTC. ``dt`` must carry a time zone (a naive datetime could be
    local time or UTC, and a 8-hour error would break reversal matching)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("transmission_time needs an aware datetime (e.g. datetime.now(UTC))")
    return dt.astimezone(UTC).strftime("%m%d%H%M%S")


@dataclass(frozen=True)
class OriginalData:
    """DE90 taken apart. ``acquirer_id`` without its zero padding (as DE32 carries it)."""

    mti: str
    stan: str
    transmission_time: str
    acquirer_id: str


_DIGITS = re.compile(r"[0-9]+")


def _require_digits(name: str, value: str, length: int | None = None, max_len: int | None = None) -> None:
    if not isinstance(value, str) or not value.isascii() or not _DIGITS.fullmatch(value):
        raise ValueError(f"{name} must be ASCII digits")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must be {length} digits, got {len(value)}")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{name} must be at most {max_len} digits, got {len(value)}")


def original_data(mti: str, stan: str, transmission_time: str, acquirer_id: str) -> str:
    """DE90, 42 digits: original MTI (4) + original STAN (6) + original DE7 (10) + acquirer id (DE32,
    right-justified, zero-filled to 11) + forwarding institution id (11 zeros: we forward nothing)."""
    _require_digits("original MTI", mti, length=4)
    _require_digits("original STAN", stan, length=6)
    _require_digits("original transmission time", transmission_time, length=10)
    _require_digits("acquirer id", acquirer_id, max_len=11)
    return mti + stan + transmission_time + acquirer_id.rjust(11, "0") + "0" * 11


def parse_original_data(value: str) -> OriginalData:
    """Inverse of :func:`original_data`. ValueError unless 42 digits with a zero forwarding id. The
    acquirer id comes back without leading zeros ("0" if it was all zeros)."""
    _require_digits("DE90", value, length=42)
    if value[31:] != "0" * 11:
        raise ValueError("DE90 forwarding institution id must be 11 zeros in this profile")
    return OriginalData(
        mti=value[0:4],
        stan=value[4:10],
        transmission_time=value[10:20],
        acquirer_id=value[20:31].lstrip("0") or "0",
    )


def terminal_id_field(tid: str) -> str:
    """DE41: the terminal id left-justified and space padded to 8. ValueError if empty, longer than 8
    or not printable ASCII."""
    if not isinstance(tid, str) or not tid or not tid.isascii() or not tid.isprintable():
        raise ValueError("terminal id must be 1-8 printable ASCII characters")
    if len(tid) > 8:
        raise ValueError(f"terminal id is {len(tid)} characters, DE41 holds 8")
    return tid.ljust(8, " ")


_MAX_AMOUNT = 10**12 - 1


def amount_field(minor_units: int) -> str:
    """DE4: minor units as 12 zero-padded digits. ValueError if negative or over 999999999999."""
    if isinstance(minor_units, bool) or not isinstance(minor_units, int):
        raise TypeError("amount must be an int count of minor units")
    if minor_units < 0:
        raise ValueError("amount must not be negative")
    if minor_units > _MAX_AMOUNT:
        raise ValueError("amount does not fit 12 digits")
    return f"{minor_units:012d}"


def parse_amount(value: str) -> int:
    """Inverse of :func:`amount_field`: exactly 12 ASCII digits."""
    _require_digits("amount", value, length=12)
    return int(value)


class StanCounter:
    """DE11 trace numbers 000001..999999, then 000001 again. Thread-safe.

    ``start`` is the number the first :meth:`next` returns; a terminal persists :attr:`next_value`
    (after each :meth:`next`) and passes it back as ``start`` when it restarts.
    """

    def __init__(self, start: int = 1) -> None:
        if isinstance(start, bool) or not isinstance(start, int):
            raise TypeError("start must be an int")
        if not 1 <= start <= 999_999:
            raise ValueError("start must be 1..999999")
        self._next = start
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            value = self._next
            self._next = 1 if value == 999_999 else value + 1
        return f"{value:06d}"

    @property
    def next_value(self) -> int:
        """The number the next call to :meth:`next` returns (what to persist)."""
        with self._lock:
            return self._next


_DE48_KEY = re.compile(r"[a-z0-9_]{1,32}")
_DE48_VALUE = re.compile(r"[\x20-\x7e]*")


def additional_data(pairs: Mapping[str, str]) -> str:
    """DE48 from ``pairs``, in their order: ``key=value;`` each. ValueError for a bad key or value."""
    out = []
    for key, value in pairs.items():
        if not isinstance(key, str) or not _DE48_KEY.fullmatch(key):
            raise ValueError("DE48 keys are 1-32 characters of a-z, 0-9 and _")
        if not isinstance(value, str) or not _DE48_VALUE.fullmatch(value) or ";" in value or "=" in value:
            raise ValueError(f"DE48 value for {key!r} must be printable ASCII without ';' or '='")
        out.append(f"{key}={value};")
    text = "".join(out)
    if len(text) > 999:
        raise ValueError(f"DE48 is {len(text)} characters, at most 999")
    return text


def parse_additional_data(value: str) -> dict[str, str]:
    """Inverse of :func:`additional_data`. ValueError for anything else (no ``;`` at the end, a pair
    without ``=``, a bad key, a key twice)."""
    if not isinstance(value, str) or not _DE48_VALUE.fullmatch(value):
        raise ValueError("DE48 must be printable ASCII")
    if value == "":
        return {}
    if not value.endswith(";"):
        raise ValueError("DE48 must end with ';'")
    result: dict[str, str] = {}
    for index, pair in enumerate(value[:-1].split(";"), start=1):
        key, sep, item = pair.partition("=")
        if not sep or "=" in item:
            raise ValueError(f"DE48 pair {index} is not key=value")
        if not _DE48_KEY.fullmatch(key):
            raise ValueError(f"DE48 pair {index} has a bad key")
        if key in result:
            raise ValueError(f"DE48 key {key!r} appears twice")
        result[key] = item
    return result
