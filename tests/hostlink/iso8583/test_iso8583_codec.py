"""ISO 8583 codec, pinned to byte vectors written out by hand from the 1987 field layouts (not by the
encoder), plus decode errors, fuzzing and the MAC rule."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostlink.iso8583 import codec
from hostlink.iso8583.codec import (
    Iso8583Error,
    Message,
    decode,
    describe,
    encode,
    encode_with_mac,
    mac_field,
    mac_input,
    verify_mac,
)

# -- golden vectors -------------------------------------------------------------------------------------

# 0800 sign-on: DE7, DE11, DE41, DE70. DE70 > 64, so bit 1 (secondary bitmap) is set.
#   primary   bits 1, 7 → byte 1 = 0x80 + 0x02 = 82; bit 11 → byte 2 = 0x20 (9=80, 10=40, 11=20);
#             bit 41 → byte 6 = 0x80                              → 82 20 00 00 00 80 00 00
#   secondary bit 70 → byte 1 (65..72) = 0x04 (65=80 ... 70=04)  → 04 00 00 00 00 00 00 00
SIGN_ON: Message = {"t": "0800", "7": "0315143000", "11": "000001", "41": "TERM0001", "70": "001"}
SIGN_ON_RAW = (
    b"0800"
    b"8220000000800000"  # primary bitmap
    b"0400000000000000"  # secondary bitmap
    b"0315143000"  # DE7  MMDDhhmmss
    b"000001"  # DE11 STAN
    b"TERM0001"  # DE41
    b"001"  # DE70 sign-on
)

# 0200 balance enquiry: DE2, 3, 4, 7, 11, 14, 41, 49, 52 (b8), 64 (b8). No field > 64: no secondary.
#   byte 1 (1..8):   2, 3, 4, 7 → 40 + 20 + 10 + 02 = 72
#   byte 2 (9..16):  11, 14     → 20 + 04 = 24
#   bytes 3..5:      none       → 00 00 00
#   byte 6 (41..48): 41         → 80
#   byte 7 (49..56): 49, 52     → 80 + 10 = 90
#   byte 8 (57..64): 64         → 01                      → 72 24 00 00 00 80 90 01
PIN_BLOCK = bytes([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0])
MAC_BYTES = bytes([0xA1, 0xB2, 0xC3, 0xD4, 0x01, 0x02, 0x03, 0x04])
PAN = "6222020000001234"
BALANCE: Message = {
    "t": "0200",
    "2": PAN,
    "3": "310000",
    "4": "000000000000",
    "7": "0315143000",
    "11": "000002",
    "14": "2812",
    "41": "TERM0001",
    "49": "156",
    "52": PIN_BLOCK,
    "64": MAC_BYTES,
}
BALANCE_RAW = (
    b"0200"
    b"7224000000809001"  # primary bitmap
    b"16"
    b"6222020000001234"  # DE2 LLVAR
    b"310000"  # DE3 balance
    b"000000000000"  # DE4
    b"0315143000"  # DE7
    b"000002"  # DE11
    b"2812"  # DE14 YYMM
    b"TERM0001"  # DE41
    b"156"  # DE49 CNY
    b"\x12\x34\x56\x78\x9a\xbc\xde\xf0"  # DE52 PIN block, 8 raw bytes
    b"\xa1\xb2\xc3\xd4\x01\x02\x03\x04"  # DE64 MAC, 8 raw bytes
)

# 0420 reversal of a transfer: DE2, 3, 4, 7, 11, 32, 41, 49, 90, 128.
#   primary   byte 1: 1, 2, 3, 4, 7 → 80 + 40 + 20 + 10 + 02 = F2; byte 2: 11 → 20; byte 3: 00;
#             byte 4 (25..32): 32 → 01; byte 5: 00; byte 6: 41 → 80; byte 7: 49 → 80; byte 8: 00
#                                                              → F2 20 00 01 00 80 80 00
#   secondary byte 4 (89..96): 90 → 40; byte 8 (121..128): 128 → 01 → 00 00 00 40 00 00 00 01
#   DE90 = 0200 + 000002 + 0315143000 + 00012345678 (DE32 zero-filled to 11) + 00000000000
REVERSAL: Message = {
    "t": "0420",
    "2": PAN,
    "3": "400000",
    "4": "000000012345",
    "7": "0315143105",
    "11": "000003",
    "32": "12345678",
    "41": "TERM0001",
    "49": "156",
    "90": "020000000203151430000001234567800000000000",
    "128": MAC_BYTES,
}
REVERSAL_RAW = (
    b"0420"
    b"F220000100808000"  # primary bitmap
    b"0000004000000001"  # secondary bitmap
    b"16"
    b"6222020000001234"  # DE2
    b"400000"  # DE3 transfer
    b"000000012345"  # DE4 123.45
    b"0315143105"  # DE7
    b"000003"  # DE11
    b"08"
    b"12345678"  # DE32 LLVAR
    b"TERM0001"  # DE41
    b"156"  # DE49
    b"0200"
    b"000002"
    b"0315143000"
    b"00012345678"
    b"00000000000"  # DE90
    b"\xa1\xb2\xc3\xd4\x01\x02\x03\x04"  # DE128 MAC
)

GOLDEN = [(SIGN_ON, SIGN_ON_RAW), (BALANCE, BALANCE_RAW), (REVERSAL, REVERSAL_RAW)]
GOLDEN_IDS = ["0800", "0200", "0420"]


@pytest.mark.parametrize(("message", "raw"), GOLDEN, ids=GOLDEN_IDS)
def test_golden_vectors_encode_and_decode(message: dict[str, str | bytes], raw: bytes) -> None:
    assert encode(message) == raw
    assert decode(raw) == message


def test_binary_fields_are_bytes_and_ascii_fields_str() -> None:
    decoded = decode(BALANCE_RAW)
    assert decoded["52"] == PIN_BLOCK and isinstance(decoded["52"], bytes)
    assert isinstance(decoded["2"], str)
    assert "p" not in decoded and "1" not in decoded and "s" not in decoded


def test_bitmap_keys_given_to_encode_are_ignored() -> None:
    assert encode({**SIGN_ON, "p": "FFFFFFFFFFFFFFFF", "1": "0", "s": "0"}) == SIGN_ON_RAW


def test_decode_accepts_bytearray_and_memoryview() -> None:
    assert decode(bytearray(SIGN_ON_RAW)) == SIGN_ON  # type: ignore[arg-type]
    assert decode(memoryview(SIGN_ON_RAW)) == SIGN_ON  # type: ignore[arg-type]


# -- decode errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [SIGN_ON_RAW, BALANCE_RAW, REVERSAL_RAW], ids=GOLDEN_IDS)
def test_truncated_at_every_offset_raises_iso8583_error(raw: bytes) -> None:
    for cut in range(len(raw)):
        with pytest.raises(Iso8583Error):
            decode(raw[:cut])


@pytest.mark.parametrize("raw", [SIGN_ON_RAW, BALANCE_RAW, REVERSAL_RAW], ids=GOLDEN_IDS)
def test_one_trailing_byte(raw: bytes) -> None:
    with pytest.raises(Iso8583Error, match="extra byte") as info:
        decode(raw + b"0")
    assert info.value.field is None


@pytest.mark.parametrize(
    ("mti", "why"), [(b"02A0", "letter"), (b"1200", "1993 version"), (b"0000", "class 0"), (b"\xff200", "")]
)
def test_bad_mti(mti: bytes, why: str) -> None:
    with pytest.raises(Iso8583Error) as info:
        decode(mti + SIGN_ON_RAW[4:])
    assert info.value.field == "t"


def test_bitmap_naming_an_undefined_field() -> None:
    # Bit 65 (the tertiary-bitmap indicator in pyiso8583) is not defined by our SPEC: secondary byte 1
    # 04 → 84 adds it to the sign-on.
    raw = SIGN_ON_RAW[:20] + b"8400000000000000" + SIGN_ON_RAW[36:]
    with pytest.raises(Iso8583Error, match="DE65") as info:
        decode(raw)
    assert info.value.field == "s"


def test_bit_1_set_with_an_empty_secondary_bitmap() -> None:
    # Balance enquiry with bit 1 set (72 → F2) and a secondary bitmap naming nothing.
    raw = BALANCE_RAW[:4] + b"F224000000809001" + b"0000000000000000" + BALANCE_RAW[20:]
    with pytest.raises(Iso8583Error, match="bit 1") as info:
        decode(raw)
    assert info.value.field == "s"


@pytest.mark.parametrize("bitmap", [b"82200000008000G0", b"8220000000800 00", b"8220000000800a00"])
def test_non_hex_or_lower_case_primary_bitmap(bitmap: bytes) -> None:
    with pytest.raises(Iso8583Error, match="primary bitmap") as info:
        decode(b"0800" + bitmap + SIGN_ON_RAW[20:])
    assert info.value.field == "p"


def test_non_hex_secondary_bitmap() -> None:
    with pytest.raises(Iso8583Error, match="secondary bitmap"):
        decode(SIGN_ON_RAW[:20] + b"04000000000000XX" + SIGN_ON_RAW[36:])


def test_llvar_length_larger_than_what_remains() -> None:
    # Only DE2 in the bitmap; its LLVAR prefix claims 19 digits but 16 follow.
    raw = b"0200" + b"4000000000000000" + b"19" + b"6222020000001234"
    with pytest.raises(Iso8583Error) as info:
        decode(raw)
    assert info.value.field == "2"
    assert PAN not in str(info.value)


def test_llvar_length_over_the_field_maximum() -> None:
    raw = b"0200" + b"4000000000000000" + b"20" + b"62220200000012340000"
    with pytest.raises(Iso8583Error) as info:
        decode(raw)
    assert info.value.field == "2"


@pytest.mark.parametrize("prefix", [b"+9", b" 9", b"0x"])
def test_length_prefix_must_be_digits(prefix: bytes) -> None:
    raw = b"0200" + b"4000000000000000" + prefix + b"622202000"
    with pytest.raises(Iso8583Error) as info:
        decode(raw)
    assert info.value.field == "2"


def test_zero_length_llvar_refused() -> None:
    with pytest.raises(Iso8583Error, match="empty"):
        decode(b"0200" + b"4000000000000000" + b"00")


def test_letter_in_a_numeric_field() -> None:
    de4 = len(b"02007224000000809001166222020000001234310000")
    assert BALANCE_RAW[de4 : de4 + 12] == b"000000000000"
    raw = BALANCE_RAW[:de4] + b"0000000A0000" + BALANCE_RAW[de4 + 12 :]
    with pytest.raises(Iso8583Error, match="character 8") as info:
        decode(raw)
    assert info.value.field == "4"


def test_non_ascii_where_ascii_is_required() -> None:
    raw = SIGN_ON_RAW.replace(b"TERM0001", b"TERM\xe90001"[:8], 1)
    with pytest.raises(Iso8583Error) as info:
        decode(raw)
    assert info.value.field == "41"


def test_control_character_in_a_text_field() -> None:
    raw = SIGN_ON_RAW.replace(b"TERM0001", b"TERM\n001", 1)
    with pytest.raises(Iso8583Error, match="printable"):
        decode(raw)


def test_pan_and_pin_block_values_never_in_errors() -> None:
    # A letter in the PAN, on decode and on encode.
    bad_pan = "62220200000A1234"
    raw = BALANCE_RAW.replace(PAN.encode(), bad_pan.encode(), 1)
    for call in (lambda: decode(raw), lambda: encode({**BALANCE, "2": bad_pan})):
        with pytest.raises(Iso8583Error) as info:
            call()
        assert info.value.field == "2"
        assert bad_pan not in str(info.value) and bad_pan not in repr(info.value)
        assert "0000" not in str(info.value)
        assert info.value.__cause__ is None and info.value.__context__ is None
    # A PIN block of the wrong length, and of the wrong type.
    for value in (PIN_BLOCK[:7], PIN_BLOCK.hex()):
        with pytest.raises(Iso8583Error) as info:
            encode({**BALANCE, "52": value})
        text = str(info.value) + repr(info.value)
        assert info.value.field == "52"
        assert "1234" not in text and "\\x12" not in text and "9ABC" not in text.upper()
    # A message cut in the middle of DE52.
    cut = BALANCE_RAW[: BALANCE_RAW.index(PIN_BLOCK) + 5]
    with pytest.raises(Iso8583Error) as info:
        decode(cut)
    assert info.value.field == "52"
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_decode_rejects_a_str() -> None:
    with pytest.raises(TypeError):
        decode(SIGN_ON_RAW.decode("latin-1"))  # type: ignore[arg-type]


# -- encode errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"t": "800"}, "t"),
        ({"t": 800}, "t"),
        ({"3": "31000"}, "3"),  # fixed length 6
        ({"3": "31000A"}, "3"),
        ({"41": "TERM001"}, "41"),
        ({"2": "6" * 20}, "2"),  # LLVAR max 19
        ({"2": ""}, "2"),
        ({"52": "1234567890ABCDEF"}, "52"),  # str for a binary field
        ({"4": b"000000000000"}, "4"),  # bytes for an ASCII field
        ({"48": "lang=zh;\u00e9"}, "48"),
        ({"39": "0 "}, "39"),  # an
        ({"125": "0123456789abcdef"}, "125"),  # hex upper case
    ],
)
def test_encode_refuses_bad_values(change: dict[str, object], field: str) -> None:
    with pytest.raises(Iso8583Error) as info:
        encode({**BALANCE, **change})  # type: ignore[dict-item]
    assert info.value.field == field


@pytest.mark.parametrize("key", ["65", "129", "0", "02", "x", "h"])
def test_encode_refuses_unknown_keys(key: str) -> None:
    with pytest.raises(Iso8583Error):
        encode({**SIGN_ON, key: "1"})


def test_encode_requires_an_mti() -> None:
    with pytest.raises(Iso8583Error) as info:
        encode({"11": "000001"})
    assert info.value.field == "t"


# -- fuzz -----------------------------------------------------------------------------------------------


def _decode_or_error(raw: bytes) -> None:
    try:
        message = decode(raw)
    except Iso8583Error:
        return
    # Whatever decodes is canonical: it encodes back to the same bytes.
    assert encode(message) == raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _decode_or_error(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_after_a_valid_header(tail: bytes) -> None:
    _decode_or_error(b"0200" + b"7224000000809001" + tail)
    _decode_or_error(b"0420" + b"F220000100808000" + b"0000004000000001" + tail)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([SIGN_ON_RAW, BALANCE_RAW, REVERSAL_RAW]),
    st.lists(
        st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 200), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
)
def test_fuzz_mutated_golden_vectors(raw: bytes, edits: list[tuple[str, int, int]]) -> None:
    data = bytearray(raw)
    for kind, position, value in edits:
        index = position % (len(data) + 1)
        if kind == "insert":
            data.insert(index, value)
        elif data and index < len(data):
            if kind == "replace":
                data[index] = value
            else:
                del data[index]
    _decode_or_error(bytes(data))


# -- MAC ------------------------------------------------------------------------------------------------


def fake_mac(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:8]


def test_mac_field_follows_the_bitmap() -> None:
    assert mac_field(BALANCE) == "64"
    assert mac_field(REVERSAL) == "128"
    assert mac_field(SIGN_ON) == "128"  # DE70 brings the secondary bitmap
    assert mac_field({"t": "0200", "3": "310000", "128": b"x" * 8}) == "64"  # DE128 alone does not count


@pytest.mark.parametrize("message", [BALANCE, REVERSAL, SIGN_ON], ids=["0200", "0420", "0800"])
def test_encode_with_mac_puts_the_mac_last(message: dict[str, str | bytes]) -> None:
    raw = encode_with_mac(message, fake_mac)
    field = mac_field(message)
    assert raw[-8:] == fake_mac(raw[:-8])
    assert mac_input(raw) == raw[:-8]
    decoded = decode(raw)
    assert decoded[field] == fake_mac(raw[:-8])
    assert ("64" if field == "128" else "128") not in decoded
    assert verify_mac(raw, fake_mac)


def test_encode_with_mac_matches_the_golden_layout() -> None:
    # The golden 0200 up to its MAC, then the fake MAC of exactly those bytes.
    without_mac = {k: v for k, v in BALANCE.items() if k != "64"}
    assert encode_with_mac(without_mac, fake_mac) == BALANCE_RAW[:-8] + fake_mac(BALANCE_RAW[:-8])


def test_verify_mac_catches_one_flipped_bit_anywhere() -> None:
    raw = encode_with_mac(REVERSAL, fake_mac)
    for index in range(len(raw)):
        for bit in range(8):
            tampered = bytearray(raw)
            tampered[index] ^= 1 << bit
            try:
                ok = verify_mac(bytes(tampered), fake_mac)
            except Iso8583Error:
                continue
            assert not ok, (index, bit)


def test_mac_input_refuses_de64_with_a_secondary_bitmap() -> None:
    raw = encode({**SIGN_ON, "64": MAC_BYTES})  # DE70 present, MAC put in DE64
    with pytest.raises(Iso8583Error, match="DE128") as info:
        mac_input(raw)
    assert info.value.field == "64"
    with pytest.raises(Iso8583Error):
        verify_mac(raw, fake_mac)


def test_mac_input_refuses_both_or_neither_or_a_lone_de128() -> None:
    for message in (
        {**REVERSAL, "64": MAC_BYTES},  # both
        {k: v for k, v in REVERSAL.items() if k != "128"},  # none
        {k: v for k, v in BALANCE.items() if k != "64"} | {"128": MAC_BYTES},  # 128 without 65..127
    ):
        with pytest.raises(Iso8583Error):
            mac_input(encode(message))


def test_encode_with_mac_replaces_a_given_mac_and_checks_the_mac_length() -> None:
    assert encode_with_mac({**BALANCE, "128": b"\x00" * 8}, fake_mac) == encode_with_mac(BALANCE, fake_mac)
    with pytest.raises(ValueError, match="7 bytes") as info:
        encode_with_mac(BALANCE, lambda data: fake_mac(data)[:7])
    assert not isinstance(info.value, Iso8583Error)


# -- describe -------------------------------------------------------------------------------------------


def test_describe_masks_the_pan_and_hides_secrets() -> None:
    message = {**BALANCE, "39": "00", "125": "0123456789ABCDEF"}
    line = describe(message)
    assert line.startswith("0200 ")
    assert "DE3=310000" in line and "DE11=000002" in line and "DE39=00" in line and "DE41=TERM0001" in line
    assert "PAN=622202******1234" in line
    assert PAN not in line
    assert "0123456789ABCDEF" not in line
    assert PIN_BLOCK.hex() not in line.lower() and "\\x12" not in line and "a1b2" not in line.lower()
    assert "\n" not in line
    assert "fields=2,3,4,7,11,14,39,41,49,52,64,125" in line


def test_describe_survives_odd_input() -> None:
    line = describe({"t": "0800", "41": "T\n\x00", "11": b"\x01", "2": b"bytes-pan"})
    assert "\n" not in line and "\x00" not in line and "bytes-pan" not in line


def test_module_exports() -> None:
    assert set(codec.__all__) >= {"Iso8583Error", "Message", "encode", "decode", "describe"}
