"""The bank host's settings: defaults, then a TOML file, then ``SMART_TELLER_HOST_*`` environment variables.

The host is its own program with its own data dir (database, key files, logs): a terminal's settings
never name the bank's database or keys. ``SMART_TELLER_DATABASE_URL`` (the operator-facing name of the
design brief) is honoured too, since the database is the host's. A fresh machine needs none of them: the
embedded default is SQLite in the host's per-user data dir.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hostlink import keycheck

HOST_ENV_PREFIX = "SMART_TELLER_HOST_"
HOST_CONFIG_FILE_ENV = "SMART_TELLER_HOST_CONFIG"


class HostSettingsError(Exception):
    """A bad host setting; the message is one line that names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecuritySettings(_Section):
    # The PIN pads' PIN keys as the host's HSM knows them. The defaults are the documented test keys the
    # PIN pad simulator holds; a bank loads its terminals' keys into its HSM instead.
    pin_key_hex: str = "0123456789ABCDEFFEDCBA9876543210"
    pin_key_aes_hex: str = "000102030405060708090A0B0C0D0E0F"
    # The terminal master key ``enrol-terminal --test-tmk`` records: the documented test TMK the PIN pad
    # simulator is built with (simulators.pin_pad.TEST_TMK). A bank enrols each terminal with the TMK its
    # key ceremony loaded into that terminal's PIN pad (``--tmk``) instead.
    test_tmk_hex: str = "AD3B97BA38012AE654D9612ACBEC9143"
    pin_tries: int = Field(default=3, ge=1, le=10)
    tech_lockout_failures: int = Field(default=5, ge=1)
    tech_lockout_minutes: int = Field(default=30, ge=1)
    tech_idle_minutes: int = Field(default=15, ge=1)

    # Key check values (6 hex digits) of the PIN keys, from the key ceremony's key sheet. Empty: not
    # checked. A mismatch stops the start with a message naming the setting (never a key byte).
    pin_key_kcv: str = Field(default="", pattern=r"^$|^[0-9A-Fa-f]{6}$")
    pin_key_aes_kcv: str = Field(default="", pattern=r"^$|^[0-9A-Fa-f]{6}$")

    @field_validator("pin_key_hex", "test_tmk_hex")
    @classmethod
    def _tdes_key(cls, value: str) -> str:
        keycheck.tdes_key(value)  # 16 or 24 bytes, odd parity: a 32-byte "TDES key" fails every PIN check
        return value

    @field_validator("pin_key_aes_hex")
    @classmethod
    def _aes_key(cls, value: str) -> str:
        keycheck.aes_key(value)
        return value

    @model_validator(mode="after")
    def _key_check_values(self) -> Self:
        keycheck.check_kcv(
            "security.pin_key_hex", bytes.fromhex(self.pin_key_hex), self.pin_key_kcv, aes=False
        )
        keycheck.check_kcv(
            "security.pin_key_aes_hex", bytes.fromhex(self.pin_key_aes_hex), self.pin_key_aes_kcv, aes=True
        )
        return self


class ApiSettings(_Section):
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8700, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # an ID photo is tens of kB
    # A signed request older or newer than this is refused; nonces are remembered twice as long.
    clock_skew_s: int = Field(default=300, ge=5, le=3600)


class Iso8583Settings(_Section):
    """The card-transaction front door (docs/iso8583.md): TCP, 2-byte length header."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8583, ge=0, le=65535)
    max_connections: int = Field(default=256, ge=1)
    # A connection that sends nothing for this long is closed (a terminal echoes every minute or so).
    idle_timeout_s: float = Field(default=300.0, gt=0)


class SwitchSettings(_Section):
    """The interbank switch other-bank transfers are forwarded to over ISO 8583 (docs/iso8583.md, "Host ↔
    interbank switch"). An empty address: no switch, and ``bank clear`` settles them as before."""

    address: str = Field(default="", pattern=r"^$|^[^\s:]+:[0-9]{1,5}$")  # "host:port"
    timeout_s: float = Field(default=5.0, gt=0, le=120)  # an 0210 later than this: reverse (0420)
    reversal_retry_s: float = Field(default=2.0, gt=0, le=600)  # 0421 repeats until an 0430 comes
    acquirer_id: str = Field(default="99900000001", pattern=r"^[0-9]{1,11}$")  # DE32
    # The zone MAC key (ZAK) host and switch MAC every message with. The default is the documented test
    # ZAK the switch simulator holds (simulators.switch.TEST_ZAK, KCV B28018); a bank loads the ZAK
    # agreed with its switch instead. A secret: shown as ******** in redacted settings.
    zak_hex: SecretStr = SecretStr("1C4F7A0D2A6E9834C7A1E5F1D3B6298F")

    @field_validator("zak_hex")
    @classmethod
    def _double_length_key(cls, value: SecretStr) -> SecretStr:
        try:
            raw = bytes.fromhex(value.get_secret_value())
        except ValueError as exc:
            raise ValueError("must be hexadecimal") from exc
        if len(raw) != 16:
            raise ValueError("must be 16 bytes (a double-length TDES key)")
        return value


class HsmSettings(_Section):
    """The host's HSM (docs/security.md, "Keys in the HSM (PKCS#11)"). ``module`` empty: the embedded
    SoftHSM2 token in ``softhsm_dir`` (default ``<data dir>-hsm``, beside the data dir, never in it). The
    user PIN comes from the ``SMART_TELLER_HSM_PIN`` environment variable or ``pin_file`` (default, for
    the embedded token only: ``<softhsm dir>/user.pin``); a PIN file inside the data dir is refused."""

    # "file": the development key files of old (keys/vault.json, keys/hsm.json), refused in production.
    backend: Literal["pkcs11", "file"] = "pkcs11"
    module: str = ""  # path of the bank's PKCS#11 library; empty: the embedded SoftHSM2
    token_label: str = Field(default="smart-teller", min_length=1, max_length=32)
    pin_file: str = ""
    softhsm_dir: str = ""
    # How often a host process looks on the token for a newer data key (made by a rotation elsewhere).
    refresh_s: float = Field(default=2.0, gt=0, le=300)


class HostSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=HOST_ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("smart-teller-host")))
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices(
            "database_url", "SMART_TELLER_HOST_DATABASE_URL", "SMART_TELLER_DATABASE_URL"
        ),
    )
    # Where host processes of one bank share their keys: the embedded SoftHSM2 token's store (when
    # hsm.softhsm_dir is empty), or the development key files (hsm.backend = "file"). Empty: the
    # embedded token in <data dir>-hsm, the file keys in <data dir>/keys.
    keys_dir: str = ""
    # "production" refuses development shortcuts (hsm.backend = "file"); "development" and "test" allow.
    deployment: Literal["production", "development", "test"] = "production"
    host_id: str = Field(default="HOST-1", min_length=1, max_length=32)
    bank_name: str = "Smart Teller Bank"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    # The bank day (daily limits, statements, receipts) follows this zone.
    timezone: str = "Asia/Shanghai"
    minimum_age_years: int = Field(default=16, ge=0)
    face_threshold: float = Field(default=0.5, gt=0, lt=1.5)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    security: SecuritySettings = SecuritySettings()
    api: ApiSettings = ApiSettings()
    iso8583: Iso8583Settings = Iso8583Settings()
    switch: SwitchSettings = SwitchSettings()
    hsm: HsmSettings = HsmSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    @field_validator("data_dir")
    @classmethod
    def _data_dir_named(cls, value: Path) -> Path:
        if str(value) in ("", "."):
            raise ValueError("must name a folder (it is empty)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _keys_outside_data_dir(self) -> HostSettings:
        if self.hsm.backend == "file" and self.deployment == "production":
            raise ValueError(
                "hsm.backend: the file keys are a development fallback; set deployment to development or test"
            )
        if self.hsm.backend == "pkcs11":
            data = self.data_dir.expanduser().resolve()
            if not self.hsm.module and _inside(self.hsm_dir, data):
                raise ValueError(
                    "hsm: the embedded token's store (and its PIN file) must be outside the data dir"
                )
            pin_file = self.hsm_pin_file
            if pin_file is not None and _inside(pin_file, data):
                raise ValueError("hsm.pin_file: the token PIN must not be kept inside the data dir")
        return self

    @property
    def bank_timezone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def bank_date(self, when: datetime) -> date:
        """The bank's calendar date of a moment: a statement line's date as the customer lived it (a
        transfer at 01:30 in Shanghai is 17:30 UTC the day before)."""
        return when.astimezone(self.bank_timezone).date()

    @property
    def key_dir(self) -> Path:
        return Path(self.keys_dir) if self.keys_dir else self.data_dir / "keys"

    @property
    def hsm_dir(self) -> Path:
        """The embedded SoftHSM2's store: ``hsm.softhsm_dir``, else ``keys_dir``, else beside the data dir."""
        if self.hsm.softhsm_dir:
            return Path(self.hsm.softhsm_dir)
        if self.keys_dir:
            return Path(self.keys_dir)
        return self.data_dir.with_name(self.data_dir.name + "-hsm")

    @property
    def hsm_pin_file(self) -> Path | None:
        """The PIN file, if any (None: a bank's HSM whose PIN comes from ``SMART_TELLER_HSM_PIN``)."""
        if self.hsm.pin_file:
            return Path(self.hsm.pin_file)
        return None if self.hsm.module else self.hsm_dir / "user.pin"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bank.db'}"

    def redacted(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["security"]["pin_key_hex"] = "********"
        data["security"]["pin_key_aes_hex"] = "********"
        url = data.get("database_url") or ""
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            data["database_url"] = f"{scheme}://{creds.split(':', 1)[0]}:********@{host}"
        return data


def _inside(path: Path, folder: Path) -> bool:
    resolved = path.expanduser().resolve()
    return resolved == folder or folder in resolved.parents


def load_host_settings(config_file: Path | None = None, **overrides: Any) -> HostSettings:
    """Defaults < TOML file < environment < explicit overrides. Raises :class:`HostSettingsError`."""
    path = config_file
    if path is None and os.environ.get(HOST_CONFIG_FILE_ENV):
        path = Path(os.environ[HOST_CONFIG_FILE_ENV])
    file_values: dict[str, Any] = {}
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise HostSettingsError(f"host settings file {path} does not exist") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            reason = str(exc).replace("\n", " ")
            raise HostSettingsError(f"host settings file {path} is not valid TOML: {reason}") from None
    try:
        from_env = HostSettings().model_dump(exclude_unset=True)
        values = {**file_values, **from_env, **overrides}
        return HostSettings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "settings"
        message = "unknown setting" if first["type"] == "extra_forbidden" else first["msg"]
        raise HostSettingsError(f"bad host setting {key}: {message}".replace("\n", " ")) from None
