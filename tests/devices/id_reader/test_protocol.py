"""ID reader codec and GB 11643 check digit, pinned to vectors derived by hand from the spec."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.id_reader.gb11643 import check_digit, is_valid, mask_id_number, sex_from_number
from devices.id_reader.protocol import (
    CMD_FIND,
    SW_FOUND,
    FrameDecoder,
    Identity,
    ProtocolError,
    decode_frame,
    decode_read_data,
    encode_command,
    encode_read_data,
    encode_reply,
    encode_text_block,
)

IDENTITY = Identity(
    name="张三",
    sex_code="1",
    ethnicity_code="01",
    birth_date=dt.date(1949, 12, 31),
    address="北京市",
    id_number="11010519491231002X",
    authority="北京市公安局",
    valid_from=dt.date(2010, 1, 1),
    valid_until=None,
    photo=b"\xff\xd8\xff\xe0fakejpeg\xff\xd9",
)


def test_find_card_request_golden_vector() -> None:
    # LEN 00 03 (CMD 2 + checksum 1), checksum = 00 ^ 03 ^ 20 ^ 01 = 22
    assert encode_command(CMD_FIND) == bytes.fromhex("AAAAAA9669 0003 2001 22")


def test_card_found_reply_golden_vector() -> None:
    # LEN 00 08 = SW 3 + data 4 + checksum 1; checksum = 08 ^ 9F = 97
    assert encode_reply(SW_FOUND, bytes(4)) == bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")
    assert decode_frame(bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")) == bytes.fromhex(
        "00009F00000000"
    )


def test_decode_frame_rejects_bad_checksum_and_length() -> None:
    with pytest.raises(ProtocolError, match="checksum"):
        decode_frame(bytes.fromhex("AAAAAA9669 0003 2001 23"))
    with pytest.raises(ProtocolError, match="LEN"):
        decode_frame(bytes.fromhex("AAAAAA9669 0004 2001 22"))


def test_stream_decoder_skips_noise_and_splits_frames() -> None:
    decoder = FrameDecoder()
    stream = (
        b"\x00\x13"
        + encode_command(CMD_FIND)
        + bytes.fromhex("AAAAAA9669 0003 2001 23")
        + encode_reply(SW_FOUND)
    )
    out: list[bytes | ProtocolError] = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i : i + 1])
    assert out[0] == bytes.fromhex("2001")
    assert isinstance(out[1], ProtocolError)
    assert out[2] == bytes.fromhex("00009F")


def test_text_block_layout_is_ga467_ucs2le() -> None:
    block = encode_text_block(IDENTITY)
    assert len(block) == 256
    # 张 U+5F20, 三 U+4E09 in little-endian, then 13 spaces to fill 15 characters
    assert block[:30] == bytes.fromhex("205F 094E") + b" \x00" * 13
    assert block[30:32] == b"1\x00"  # sex
    assert block[32:36] == b"0\x001\x00"  # ethnicity 01
    assert block[36:52] == "19491231".encode("utf-16-le")
    assert block[122:158] == "11010519491231002X".encode("utf-16-le")  # after address (35 chars)
    # validity end 长期 (U+957F U+671F) padded to 8 characters
    assert block[204:220] == bytes.fromhex("7F95 1F67") + b" \x00" * 6
    assert block[220:] == b" \x00" * 18


def test_read_data_round_trip_and_decoded_names() -> None:
    data = encode_read_data(IDENTITY)
    assert data[:4] == bytes.fromhex("0100 000E")  # text 256 bytes, photo 14 bytes
    identity = decode_read_data(data)
    assert identity == IDENTITY
    assert (identity.sex, identity.sex_en, identity.ethnicity, identity.ethnicity_en) == (
        "男",
        "male",
        "汉",
        "Han",
    )
    assert identity.check_digit_ok and not identity.expired(dt.date(2099, 1, 1))
    assert "11010519491231002X" not in repr(identity)


def test_read_data_with_wrong_lengths_is_rejected() -> None:
    data = encode_read_data(IDENTITY)
    with pytest.raises(ProtocolError, match="lengths"):
        decode_read_data(data[:-1])


def test_gb11643_check_digit_vectors() -> None:
    assert is_valid("11010519491231002X")
    assert not is_valid("110101199003071234")
    # weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 on 11010519491231002 sum to 167; 167 mod 11 = 2 → X
    assert check_digit("11010519491231002") == "X"
    assert not is_valid("11010519491331002X")  # month 13
    assert sex_from_number("11010519491231002X") == "2"
    assert mask_id_number("11010519491231002X") == "110105********002X"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=6))
def test_frame_decoder_fuzz(chunks: list[bytes]) -> None:
    decoder = FrameDecoder()
    for chunk in chunks:
        for item in decoder.feed(b"\xaa\xaa\xaa\x96\x69" + chunk if chunk[:1] == b"\x00" else chunk):
            assert isinstance(item, bytes | ProtocolError)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_read_data_parser_fuzz(data: bytes) -> None:
    try:
        identity = decode_read_data(data)
    except ProtocolError:
        return  # the only way a parser may refuse bytes
    assert identity.name and identity.id_number
