"""ISO 7813 tracks with LRC, and the Luhn check. LRCs below were worked out by hand (XOR of the 4-bit /
6-bit character values over start sentinel..end sentinel); the longer ones are also checked against a
reference loop written in this file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card_reader.tracks import (
    TrackError,
    encode_track1,
    encode_track2,
    encode_track3,
    luhn_check_digit,
    luhn_valid,
    parse_track1,
    parse_track2,
    parse_track3,
)
from hostlink.redaction import mask_pan

PAN = "4321987654321098"
TRACK2 = ";4321987654321098=25121010000?9"
TRACK1 = "%B4321987654321098^ZHANG/WEI^25121010000?F"


def reference_lrc(chars: str, base: int) -> str:
    value = 0
    for ch in chars:
        value ^= ord(ch) - base
    return chr(base + value)


def test_track2_lrc_small_by_hand() -> None:
    # ; = 0xB, 1, = = 0xD, 2, ? = 0xF: B^1=A, A^D=7, 7^2=5, 5^F=A → ':' (0x3A)
    assert encode_track3("1=2") == ";1=2?:"


def test_track2_golden() -> None:
    assert encode_track2(PAN, "2512", "101", "0000") == TRACK2
    assert reference_lrc(TRACK2[:-1], 0x30) == "9"
    t2 = parse_track2(TRACK2)
    assert (t2.pan, t2.expiry, t2.service_code, t2.discretionary) == (PAN, "2512", "101", "0000")


def test_track1_golden() -> None:
    assert encode_track1(PAN, "zhang/wei", "2512", "101", "0000") == TRACK1
    assert reference_lrc(TRACK1[:-1], 0x20) == "F"
    t1 = parse_track1(TRACK1)
    assert (t1.pan, t1.name, t1.expiry, t1.service_code) == (PAN, "ZHANG/WEI", "2512", "101")


def test_lrc_mismatch_and_missing() -> None:
    with pytest.raises(TrackError, match="LRC mismatch"):
        parse_track2(TRACK2[:-1] + "8")
    with pytest.raises(TrackError, match="LRC character missing"):
        parse_track2(TRACK2[:-1])
    assert parse_track2(TRACK2[:-1], require_lrc=False).pan == PAN
    with pytest.raises(TrackError, match="LRC mismatch"):
        parse_track1(TRACK1[:-1] + "G")


def test_structure_errors() -> None:
    for bad in (";4321987654321098?0", ";43219=2512101?", ":4321987654321098=2512101?", ""):
        with pytest.raises(TrackError):
            parse_track2(bad + reference_lrc(bad, 0x30) if bad else bad)
    with pytest.raises(TrackError):
        parse_track1("%A" + TRACK1[2:])
    with pytest.raises(TrackError):
        encode_track2(PAN, "2513", "101")  # month 13
    with pytest.raises(TrackError):
        encode_track1(PAN, "A^B", "2512", "101")


def test_track3() -> None:
    raw = encode_track3("0112345678901234567890")
    assert parse_track3(raw) == "0112345678901234567890"


def test_luhn() -> None:
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("")
    assert parse_track2(TRACK2).luhn_ok is luhn_valid(PAN)


def test_repr_masks_the_pan() -> None:
    assert mask_pan(PAN) == "432198******1098"
    assert PAN not in repr(parse_track2(TRACK2))
    assert PAN not in repr(parse_track1(TRACK1))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=90))
def test_fuzz_track_parsers(raw: str) -> None:
    for parser in (parse_track1, parse_track2, parse_track3):
        try:
            parser(raw)
        except TrackError as exc:
            assert str(exc)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[0-9]{15}", fullmatch=True), st.integers(min_value=0, max_value=len(TRACK2)))
def test_fuzz_round_trip_and_truncation(partial: str, cut: int) -> None:
    pan = partial + luhn_check_digit(partial)
    raw = encode_track2(pan, "3001", "201", "123")
    assert parse_track2(raw).pan == pan
    if cut < len(raw):
        with pytest.raises(TrackError):
            parse_track2(raw[:cut])
