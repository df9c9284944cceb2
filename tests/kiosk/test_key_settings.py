"""PIN key settings are checked at start: a key that would fail every PIN check (and retain every card)
is refused with one line naming the setting, never quoting the key; the documented test keys are refused
when a device is real hardware."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bank.settings import HostSettingsError, load_host_settings
from hostlink import tdes
from hostlink.keycheck import TEST_AES_PIN_KEY, TEST_TDES_PIN_KEY, aes_kcv
from kiosk.settings import SettingsError, load_settings

THIRTY_TWO_BYTES = "0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210"
BANK_TDES = tdes.random_tdes_key(16).hex().upper()
BANK_AES = "8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SMART_TELLER_"):
            monkeypatch.delenv(key)


def _kiosk_file(tmp_path: Path, security: dict[str, str], devices: dict[str, str] | None = None) -> Path:
    lines = [f'data_dir = "{tmp_path / "data"}"', "[security]"]
    lines += [f'{key} = "{value}"' for key, value in security.items()]
    if devices:
        lines.append("[devices]")
        lines += [f'{key} = "{value}"' for key, value in devices.items()]
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("security", "setting", "reason"),
    [
        ({"pin_key_hex": THIRTY_TWO_BYTES}, "security.pin_key_hex", "16 or 24 bytes"),
        ({"pin_key_hex": TEST_TDES_PIN_KEY[:-1] + "1"}, "security.pin_key_hex", "odd parity"),
        ({"pin_key_aes_hex": "00" * 20}, "security.pin_key_aes_hex", "16, 24 or 32 bytes"),
        ({"pin_key_kcv": "ABCDEF"}, "security.pin_key_hex", "key check value"),
        ({"pin_key_aes_kcv": "08D7B4"}, "security.pin_key_aes_hex", "key check value"),
    ],
)
def test_a_bad_pin_key_in_the_settings_file_stops_the_start(
    tmp_path: Path, security: dict[str, str], setting: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_kiosk_file(tmp_path, security))
    message = str(refused.value)
    assert setting in message and reason in message and "\n" not in message
    for value in security.values():
        if len(value) > 6:
            assert value not in message and value.lower() not in message.lower()


def test_the_host_refuses_a_32_byte_tdes_pin_key_and_a_wrong_kcv(tmp_path: Path) -> None:
    with pytest.raises(HostSettingsError, match=r"security\.pin_key_hex.*16 or 24 bytes") as refused:
        load_host_settings(data_dir=tmp_path, security={"pin_key_hex": THIRTY_TWO_BYTES})
    assert THIRTY_TWO_BYTES not in str(refused.value)
    with pytest.raises(HostSettingsError, match=r"security\.pin_key_hex does not match its key check value"):
        load_host_settings(data_dir=tmp_path, security={"pin_key_kcv": "000000"})
    good = load_host_settings(
        data_dir=tmp_path,
        security={"pin_key_hex": BANK_TDES, "pin_key_kcv": tdes.kcv(bytes.fromhex(BANK_TDES)).lower()},
    )
    assert good.security.pin_key_hex == BANK_TDES


@pytest.mark.parametrize("device", ["card_reader", "pin_pad", "printer"])
def test_test_keys_are_refused_when_a_device_is_real_hardware(tmp_path: Path, device: str) -> None:
    path = _kiosk_file(tmp_path, {}, {device: "/dev/ttyUSB0"})
    with pytest.raises(SettingsError, match=rf"documented test key but devices\.{device} is real hardware"):
        load_settings(path)
    # Only the TDES key replaced: the AES test key is still refused.
    path = _kiosk_file(tmp_path, {"pin_key_hex": BANK_TDES}, {device: "COM3"})
    with pytest.raises(SettingsError, match=r"security\.pin_key_aes_hex is the documented test key"):
        load_settings(path)


def test_bank_keys_with_matching_kcvs_run_real_hardware_and_test_keys_run_simulators(tmp_path: Path) -> None:
    security = {
        "pin_key_hex": BANK_TDES,
        "pin_key_aes_hex": BANK_AES,
        "pin_key_kcv": tdes.kcv(bytes.fromhex(BANK_TDES)),
        "pin_key_aes_kcv": aes_kcv(bytes.fromhex(BANK_AES)),
    }
    real = load_settings(_kiosk_file(tmp_path, security, {"pin_pad": "/dev/ttyS1"}))
    assert real.security.pin_key_aes_hex == BANK_AES
    simulated = load_settings(_kiosk_file(tmp_path, {}, {"pin_pad": "socket://127.0.0.1:7001"}))
    assert simulated.security.pin_key_hex == TEST_TDES_PIN_KEY
    assert simulated.security.pin_key_aes_hex == TEST_AES_PIN_KEY
