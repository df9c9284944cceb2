"""The ISO 8583 profile: SPEC against default_ascii, MTIs, codes and the field helpers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from iso8583.specs import default_ascii

from hostlink.iso8583 import profile
from hostlink.iso8583.profile import (
    RESPONSE_CODES,
    SPEC,
    OriginalData,
    StanCounter,
    additional_data,
    amount_field,
    original_data,
    parse_additional_data,
    parse_amount,
    parse_original_data,
    response_mti,
    terminal_id_field,
    transmission_time,
)


def test_spec_differs_from_default_ascii_only_where_documented() -> None:
    changed = {key for key in default_ascii if key in SPEC and dict(SPEC[key]) != default_ascii[key]}
    assert changed == {"52", "64", "128"}
    assert set(default_ascii) - set(SPEC) == {"65"}
    assert set(SPEC) - set(default_ascii) == set()
    for key in ("52", "64", "128"):
        assert SPEC[key]["data_enc"] == "b" and SPEC[key]["max_len"] == 8 and SPEC[key]["len_type"] == 0
    assert SPEC["p"]["data_enc"] == "ascii" and SPEC["1"]["data_enc"] == "ascii"


def test_spec_is_read_only() -> None:
    with pytest.raises(TypeError):
        SPEC["52"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        SPEC["2"]["max_len"] = 99  # type: ignore[index]


def test_every_field_role_is_defined_by_spec_and_has_a_content_class() -> None:
    roles = [
        profile.PAN, profile.PROCESSING_CODE, profile.AMOUNT, profile.TRANSMISSION_DATETIME, profile.STAN,
        profile.LOCAL_TIME, profile.LOCAL_DATE, profile.EXPIRY, profile.ACQUIRER_ID, profile.RRN,
        profile.AUTH_ID, profile.RESPONSE_CODE, profile.TERMINAL_ID, profile.CARD_ACCEPTOR_ID,
        profile.ADDITIONAL_DATA, profile.CURRENCY, profile.PIN_BLOCK, profile.BALANCES, profile.MAC_PRIMARY,
        profile.NETWORK_CODE, profile.ORIGINAL_DATA, profile.RECEIVING_INSTITUTION_ID, profile.ACCOUNT_FROM,
        profile.ACCOUNT_TO, profile.TPK_KEY_BLOCK, profile.TAK_KEY_BLOCK, profile.KEY_CHECK_VALUES,
        profile.NEW_PIN_BLOCK, profile.MAC_SECONDARY,
    ]  # fmt: skip
    assert len(set(roles)) == len(roles)
    assert set(roles) == set(profile.FIELD_CONTENT)
    for field in roles:
        assert field in SPEC
        assert (profile.FIELD_CONTENT[field] == "b") == (SPEC[field]["data_enc"] == "b")
    assert profile.ORIGINAL_DATA == "90" and SPEC["90"]["max_len"] == 42 and SPEC["90"]["len_type"] == 0


def test_mti_and_code_constants() -> None:
    assert (profile.AUTH_REQUEST, profile.AUTH_RESPONSE) == ("0100", "0110")
    assert (profile.AUTH_ADVICE, profile.AUTH_ADVICE_RESPONSE) == ("0120", "0130")
    assert (profile.FINANCIAL_REQUEST, profile.FINANCIAL_RESPONSE) == ("0200", "0210")
    assert (profile.FINANCIAL_ADVICE, profile.FINANCIAL_ADVICE_RESPONSE) == ("0220", "0230")
    assert (profile.REVERSAL, profile.REVERSAL_REPEAT, profile.REVERSAL_RESPONSE) == ("0420", "0421", "0430")
    assert (profile.NETWORK_REQUEST, profile.NETWORK_RESPONSE) == ("0800", "0810")
    assert (profile.BALANCE, profile.MINI_STATEMENT, profile.TRANSFER) == ("310000", "380000", "400000")
    assert (profile.BILL_PAYMENT, profile.PIN_CHANGE, profile.PIN_VERIFY) == ("500000", "920000", "960000")
    assert profile.CARD_RETAINED == "000000"
    assert (profile.SIGN_ON, profile.SIGN_OFF, profile.KEY_CHANGE, profile.ECHO) == (
        "001",
        "002",
        "101",
        "301",
    )
    assert profile.CURRENCY_CNY == "156"


@pytest.mark.parametrize(
    ("request_mti", "expected"),
    [
        ("0100", "0110"),
        ("0120", "0130"),
        ("0200", "0210"),
        ("0201", "0210"),
        ("0220", "0230"),
        ("0420", "0430"),
        ("0421", "0430"),
        ("0800", "0810"),
    ],
)
def test_response_mti(request_mti: str, expected: str) -> None:
    assert response_mti(request_mti) == expected


@pytest.mark.parametrize("mti", ["0110", "0210", "0230", "0430", "0810", "200", "02000", "1200", "02A0", ""])
def test_response_mti_refuses_responses_and_junk(mti: str) -> None:
    with pytest.raises(ValueError):
        response_mti(mti)


def test_response_codes() -> None:
    required = {
        "00", "05", "12", "13", "14", "30", "51", "54", "55", "57", "61", "75", "91", "94", "96", "A0",
    }  # fmt: skip
    assert required <= set(RESPONSE_CODES)
    assert profile.APPROVED == "00" and RESPONSE_CODES["00"] == "approved"
    assert RESPONSE_CODES["55"] == "incorrect PIN" and RESPONSE_CODES["A0"] == "MAC failure"
    for code, meaning in RESPONSE_CODES.items():
        assert len(code) == 2 and code.isalnum() and code.isascii() and meaning


def test_transmission_time_is_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    assert transmission_time(datetime(2025, 3, 16, 7, 30, 0, tzinfo=beijing)) == "0315233000"
    assert transmission_time(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)) == "1231235959"
    with pytest.raises(ValueError, match="aware"):
        transmission_time(datetime(2025, 3, 15, 23, 30))


def test_original_data_golden_and_round_trip() -> None:
    value = original_data("0200", "000002", "0315143000", "12345678")
    assert value == "0200" + "000002" + "0315143000" + "00012345678" + "00000000000"
    assert len(value) == 42
    assert parse_original_data(value) == OriginalData("0200", "000002", "0315143000", "12345678")
    assert parse_original_data(original_data("0200", "000002", "0315143000", "0")).acquirer_id == "0"


@pytest.mark.parametrize(
    "args",
    [
        ("200", "000002", "0315143000", "1"),
        ("0200", "2", "0315143000", "1"),
        ("0200", "000002", "031514300", "1"),
        ("0200", "000002", "0315143000", "123456789012"),
        ("0200", "00000A", "0315143000", "1"),
        ("0200", "000002", "0315143000", "１"),  # full-width digit
    ],
)
def test_original_data_refuses_bad_parts(args: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        original_data(*args)


@pytest.mark.parametrize(
    "value", ["0" * 41, "0" * 43, "0200000002031514300000012345678" + "00000000001", "A" * 42]
)
def test_parse_original_data_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_original_data(value)


def test_terminal_id_field() -> None:
    assert terminal_id_field("TERM01") == "TERM01  "
    assert terminal_id_field("TERM0001") == "TERM0001"
    for bad in ("KIOSK-0001", "", "T\n", "终端"):
        with pytest.raises(ValueError):
            terminal_id_field(bad)


def test_amount_field_and_parse_amount() -> None:
    assert amount_field(0) == "000000000000"
    assert amount_field(12345) == "000000012345"
    assert amount_field(999_999_999_999) == "999999999999"
    assert parse_amount("000000012345") == 12345
    for bad in (-1, 10**12):
        with pytest.raises(ValueError):
            amount_field(bad)
    with pytest.raises(TypeError):
        amount_field(True)
    for text in ("12345", "0000000123.5", "00000001234A", "-00000001234", "１２３４５６７８９０１２"):
        with pytest.raises(ValueError):
            parse_amount(text)


def test_stan_counter_wraps_and_resumes() -> None:
    counter = StanCounter(999_998)
    assert [counter.next() for _ in range(3)] == ["999998", "999999", "000001"]
    assert counter.next_value == 2
    resumed = StanCounter(counter.next_value)
    assert resumed.next() == "000002"
    assert StanCounter().next() == "000001"
    for bad in (0, 1_000_000, -5):
        with pytest.raises(ValueError):
            StanCounter(bad)


def test_stan_counter_is_thread_safe() -> None:
    counter = StanCounter()
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [counter.next() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 16000
    assert counter.next_value == 16001


def test_additional_data_round_trip() -> None:
    text = additional_data({"lang": "zh", "channel": "kiosk", "empty": ""})
    assert text == "lang=zh;channel=kiosk;empty=;"
    assert parse_additional_data(text) == {"lang": "zh", "channel": "kiosk", "empty": ""}
    assert parse_additional_data("") == {}
    assert additional_data({}) == ""


@pytest.mark.parametrize("pairs", [{"Lang": "zh"}, {"a": "x;y"}, {"a": "x=y"}, {"a": "é"}, {"": "x"}])
def test_additional_data_refuses(pairs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        additional_data(pairs)


@pytest.mark.parametrize("text", ["a=1", "a=1;a=2;", "a;", "=1;", "a=1=2;", "A=1;", "a=\n;"])
def test_parse_additional_data_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_additional_data(text)
