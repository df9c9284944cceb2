"""Qt-free rules behind the keyboard's candidate bar and the numeric keypad."""

from __future__ import annotations

import pytest

from ui.widgets.keypad import accept_key, is_complete, parse_amount_minor
from ui.widgets.pinyin import PHRASES, SYLLABLES, candidates


def type_keys(mode: str, keys: str) -> str:
    text = ""
    for key in keys:
        text = accept_key(mode, text, key) or text  # type: ignore[arg-type]
    return text


def test_a_whole_phrase_comes_first_then_the_leading_syllable() -> None:
    found = candidates("beijing")
    assert found[0].text == "北京" and found[0].consumed == 7
    assert [c.text for c in found[1:3]] == ["北", "贝"]
    assert all(c.consumed == 3 for c in found[1:])


def test_initials_only_offer_every_matching_syllable() -> None:
    texts = [c.text for c in candidates("zh")]
    assert "张" in texts and "赵" in texts and "中" in texts
    assert candidates("") == []
    assert candidates("vvv") == []


def test_the_table_is_well_formed() -> None:
    for syllable, chars in SYLLABLES.items():
        assert syllable.isascii() and syllable.islower() and chars
        assert all("\u4e00" <= ch <= "\u9fff" for ch in chars), syllable
        assert len(set(chars)) == len(chars), f"duplicate character under {syllable}"
    for pinyin, words in PHRASES.items():
        assert pinyin.isascii() and words


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("12.345", "12.34"), ("0012", "12"), (".5", "0.5"), ("1..2", "1.2"), ("9999999999", "999999999")],
)
def test_amount_keys(keys: str, expected: str) -> None:
    assert type_keys("amount", keys) == expected


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("12.34", 1234),
        ("12.5", 1250),
        ("12.", 1200),
        ("0.01", 1),
        ("7", 700),
        ("", None),
        ("1.234", None),
        ("01", None),
        ("-1", None),
        ("1e3", None),
    ],
)
def test_amounts_parse_to_integer_minor_units(text: str, minor: int | None) -> None:
    assert parse_amount_minor(text) == minor


def test_id_numbers_take_x_only_as_the_last_character() -> None:
    assert type_keys("id", "X11X0") == "110"  # an X anywhere but the 18th place is refused
    full = type_keys("id", "11010519491231002X")
    assert full == "11010519491231002X" and is_complete("id", full)
    assert accept_key("id", full, "1") is None  # 18 characters at most


def test_phone_numbers_are_digits_up_to_eleven() -> None:
    assert type_keys("phone", "138-0013-8000-9") == "13800138000"
    assert is_complete("phone", "13800138000")
    assert not is_complete("amount", "0.00")
