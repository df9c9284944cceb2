from pathlib import Path

import pytest

from kiosk.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SMART_TELLER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_defaults_need_nothing_and_point_at_a_host_on_loopback() -> None:
    settings = load_settings()
    assert settings.language == "en"
    assert settings.host.urls == ("http://127.0.0.1:8700",)
    assert settings.host_credential_path == settings.data_dir / "host-credential"
    assert settings.devices.printer == ""
    # The terminal names no database: the bank's is the host's.
    assert not hasattr(settings, "database_url")


def test_toml_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('kiosk_id = "K-7"\nlanguage = "zh_CN"\n[devices]\nprinter = "tcp://127.0.0.1:9100"\n')
    settings = load_settings(config)
    assert (settings.kiosk_id, settings.language, settings.devices.printer) == (
        "K-7",
        "zh_CN",
        "tcp://127.0.0.1:9100",
    )
    monkeypatch.setenv("SMART_TELLER_LANGUAGE", "en")
    monkeypatch.setenv("SMART_TELLER_DEVICES__PRINTER", "socket://127.0.0.1:7009")
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_HOST__URLS", '["http://10.0.0.5:8700", "http://10.0.0.6:8700"]')
    settings = load_settings(config)
    assert settings.language == "en"
    assert settings.kiosk_id == "K-7"
    assert settings.devices.printer == "socket://127.0.0.1:7009"
    assert settings.data_dir == tmp_path / "data"
    assert settings.host.urls == ("http://10.0.0.5:8700", "http://10.0.0.6:8700")


def test_config_file_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('bank_name = "Branch Bank"\n')
    monkeypatch.setenv("SMART_TELLER_CONFIG", str(config))
    assert load_settings().bank_name == "Branch Bank"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[biometrics]\nthresold = 0.4\n", "bad setting biometrics.thresold"),
        ("[biometrics]\nthreshold = 7\n", "bad setting biometrics.threshold"),
        ('language = "fr"\n', "bad setting language"),
        ("kiosk_id = \n", "is not valid TOML"),
        ("[security]\npin_tries = 0\n", "bad setting security.pin_tries"),
    ],
)
def test_bad_settings_give_one_line_naming_the_key(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_bad_environment_value_names_the_variable_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_TELLER_DEVICES__BAUD_RATE", "fast")
    with pytest.raises(SettingsError, match=r"devices\.baud_rate"):
        load_settings()


def test_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_redacted_settings_name_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = load_settings().redacted()
    assert not [name for name in shown["security"] if "key" in name]


def test_host_settings_redact_the_database_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bank.settings import load_host_settings

    monkeypatch.setenv("SMART_TELLER_DATABASE_URL", "postgresql://bank:s3cret@db:5432/bank")
    settings = load_host_settings(data_dir=tmp_path)
    assert settings.effective_database_url == "postgresql://bank:s3cret@db:5432/bank"
    shown = settings.redacted()
    assert "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql://bank:********@db:5432/bank"


def test_an_empty_data_dir_is_refused_rather_than_meaning_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", "")
    with pytest.raises(SettingsError, match="bad setting data_dir"):
        load_settings()


def test_the_kiosk_transfer_cap_reaches_the_session_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.journeys.session import SessionConfig

    monkeypatch.setenv("SMART_TELLER_JOURNEYS__TRANSFER_MAX_MINOR", "1000000")
    assert SessionConfig.from_settings(load_settings()).transfer_max_minor == 1_000_000
    monkeypatch.setenv("SMART_TELLER_JOURNEYS__TRANSFER_MAX_MINOR", "0")
    with pytest.raises(SettingsError, match=r"journeys\.transfer_max_minor"):
        load_settings()
