"""The terminal's typed settings: defaults, then a TOML file, then ``SMART_TELLER_*`` environment variables.

A fresh machine needs none of them: the embedded defaults are the simulators and one bank host on loopback.
Nested keys use ``__`` in the environment (``SMART_TELLER_DEVICES__PRINTER=tcp://...``); the terminal's data
dir is ``SMART_TELLER_DATA_DIR``. The terminal names no database: the bank host has its own settings
(``bank/settings.py``).
"""

from __future__ import annotations

import os
import tomllib
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

ENV_PREFIX = "SMART_TELLER_"
CONFIG_FILE_ENV = "SMART_TELLER_CONFIG"


class SettingsError(Exception):
    """A bad setting; the message is one line that names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSettings(_Section):
    """Where each device is. Empty means "not configured": journeys that need it are out of service."""

    card_reader: str = ""
    pin_pad: str = ""
    card_dispenser: str = ""
    id_reader: str = ""
    printer: str = ""
    camera: str = ""
    baud_rate: int = Field(default=115200, gt=0)
    command_timeout_s: float = Field(default=5.0, gt=0)


class BiometricsSettings(_Section):
    # Calibrated on ../shared/faces: see docs/biometrics.md for the distance distributions.
    threshold: float = Field(default=0.5, gt=0, lt=1.5)
    detection_scale: float = Field(default=0.5, gt=0, le=1)
    liveness_challenges: int = Field(default=2, ge=1, le=5)
    max_attempts: int = Field(default=3, ge=1, le=10)
    step_timeout_s: float = Field(default=2.5, gt=0, le=60)  # time for one liveness challenge step
    camera_mirrored: bool = False  # True when the camera delivers a mirror image (turns are then swapped)


# Settings the terminal once held and no longer may: PIN keys live in the PIN pad (loaded under its master
# key by the host's key exchange) and in the host's HSM, never on the terminal's disk.
RETIRED_KEY_SETTINGS = ("pin_key_hex", "pin_key_aes_hex", "pin_key_kcv", "pin_key_aes_kcv")


class SecuritySettings(_Section):
    pin_tries: int = Field(default=3, ge=1, le=10)
    tech_lockout_failures: int = Field(default=5, ge=1)
    tech_lockout_minutes: int = Field(default=30, ge=1)
    tech_idle_minutes: int = Field(default=15, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_pin_keys(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for name in RETIRED_KEY_SETTINGS:
                if name in values:
                    raise ValueError(
                        f"{name} is not a terminal setting: PIN keys live in the PIN pad and the bank "
                        "host, never in the terminal's settings; remove it"
                    )
        return values


class HostLinkSettings(_Section):
    """Where the bank host is. Several URLs: a call whose host does not answer goes to the next one."""

    urls: tuple[str, ...] = ("http://127.0.0.1:8700",)
    # Its ISO 8583 listeners (host:port) for card transactions (docs/iso8583.md). Empty: the card
    # transactions go over the JSON API (a bank without an ISO 8583 front door).
    iso8583: tuple[str, ...] = ()
    iso8583_timeout_s: float = Field(default=10.0, gt=0, le=120)
    credential_file: str = ""  # empty: <data dir>/host-credential, written at enrolment
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    probe_interval_s: float = Field(default=1.0, gt=0, le=30)

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one host URL")
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value


class JourneySettings(_Section):
    idle_timeout_s: int = Field(default=60, ge=5)
    idle_warning_s: int = Field(default=15, ge=1)
    take_card_timeout_s: int = Field(default=30, ge=5)
    take_card_warning_s: int = Field(default=10, ge=1)
    pin_reentry_threshold_minor: int = Field(default=500_000, ge=0)  # ¥5,000.00
    transfer_max_minor: int = Field(default=5_000_000, gt=0)  # ¥50,000.00 per transfer at the kiosk
    minimum_age_years: int = Field(default=16, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("smart-teller")))
    kiosk_id: str = Field(default="KIOSK-0001", min_length=1, max_length=32)
    bank_name: str = "Smart Teller Bank"
    branch: str = "Main Branch"
    language: Literal["en", "zh_CN"] = "en"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    devices: DeviceSettings = DeviceSettings()
    biometrics: BiometricsSettings = BiometricsSettings()
    security: SecuritySettings = SecuritySettings()
    journeys: JourneySettings = JourneySettings()
    host: HostLinkSettings = HostLinkSettings()
    # The bank's time zone: receipts, screens and journal views show bank time.
    timezone: str = "Asia/Shanghai"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the TOML file's values, passed in by load_settings) < environment.
        return (env_settings, init_settings)

    @field_validator("data_dir")
    @classmethod
    def _data_dir_named(cls, value: Path) -> Path:
        # An empty SMART_TELLER_DATA_DIR would otherwise mean "the current folder", and the kiosk would
        # write its database, keys and journal wherever it was started.
        if str(value) in ("", "."):
            raise ValueError("must name a folder (it is empty)")
        return value

    @property
    def host_credential_path(self) -> Path:
        return (
            Path(self.host.credential_file)
            if self.host.credential_file
            else self.data_dir / "host-credential"
        )

    @property
    def bank_timezone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def redacted(self) -> dict[str, Any]:
        """Settings for display. The terminal's settings hold no key material (its host credential is a
        file they only name), so this is all of them; kept as the one door displays go through."""
        return self.model_dump(mode="json")


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir("smart-teller")) / "settings.toml"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Defaults < TOML file < environment < explicit overrides. Raises :class:`SettingsError`."""
    path = config_file
    if path is None and os.environ.get(CONFIG_FILE_ENV):
        path = Path(os.environ[CONFIG_FILE_ENV])
    file_values: dict[str, Any] = {}
    if path is None:
        candidate = default_config_file()
        path = candidate if candidate.exists() else None
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SettingsError(f"settings file {path} does not exist") from exc
        except UnicodeDecodeError:
            raise SettingsError(f"settings file {path} is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(_flat(f"settings file {path} is not valid TOML: {exc}")) from None
    try:
        settings = Settings(**file_values)
        if overrides:
            settings = Settings(**_merge(file_values, overrides))
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, path)) from None
    except PydanticSettingsError as exc:
        # A nested section given in the environment must be JSON (SMART_TELLER_DEVICES='{"printer": ...}').
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else "settings"
        raise SettingsError(
            _flat(f"bad setting {field} (environment {ENV_PREFIX}{field.upper()}): not valid JSON")
        ) from None
    return settings


def _flat(text: str) -> str:
    """One line, whatever the input held (a key or value may contain line breaks)."""
    return " ".join(text.replace("\r", " ").split("\n")).strip()


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one_line(exc: ValidationError, path: Path | None) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "settings"
    key = key.encode("unicode_escape").decode("ascii")  # a key with a line break stays on one line
    where = f" (in {path})" if path else ""
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return _flat(f"bad setting {key}{where}: {message}{more}")
