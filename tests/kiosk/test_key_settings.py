"""PIN keys are never in the terminal's settings (they live in the PIN pad and the host's HSM): an old
settings file naming one stops the start with one line, never quoting the key. The host checks its own
keys at start: a key that would fail every PIN check (and retain every card) is refused, naming the
setting."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bank.settings import HostSettingsError, load_host_settings
from hostlink import tdes
from hostlink.keycheck import TEST_AES_PIN_KEY, TEST_TDES_PIN_KEY
from kiosk.settings import SettingsError, load_settings

THIRTY_TWO_BYTES = "0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210"
BANK_TDES = tdes.random_tdes_key(16).hex().upper()


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SMART_TELLER_"):
            monkeypatch.delenv(key)


def _kiosk_file(tmp_path: Path, security: dict[str, str]) -> Path:
    lines = [f'data_dir = "{tmp_path / "data"}"', "[security]"]
    lines += [f'{key} = "{value}"' for key, value in security.items()]
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("setting", ["pin_key_hex", "pin_key_aes_hex", "pin_key_kcv", "pin_key_aes_kcv"])
def test_a_pin_key_in_the_terminals_settings_file_stops_the_start_without_quoting_it(
    tmp_path: Path, setting: str
) -> None:
    key = TEST_TDES_PIN_KEY if "kcv" not in setting else "08D7B4"
    with pytest.raises(SettingsError) as refused:
        load_settings(_kiosk_file(tmp_path, {setting: key}))
    message = str(refused.value)
    assert f"{setting} is not a terminal setting" in message and "\n" not in message
    assert key not in message


def test_the_terminals_settings_hold_no_key_material(tmp_path: Path) -> None:
    shown = json.dumps(load_settings(_kiosk_file(tmp_path, {})).redacted())
    for key in (TEST_TDES_PIN_KEY, TEST_AES_PIN_KEY):
        assert key not in shown.upper()
    assert "pin_key" not in shown


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
