"""Fuzzing the settings loader: whatever the TOML file or the ``SMART_TELLER_*`` environment holds,
``load_settings`` returns ``Settings`` or raises ``SettingsError`` with a one-line message — never another
exception, never a hang (pytest-timeout stops a hung example; the limit is far above a normal run).

Inputs come in three shapes: arbitrary text (mostly not TOML at all), TOML documents built from the real
setting names with values of every TOML type (so validation, not parsing, is what gets exercised), and
arbitrary bytes (a settings file that is not UTF-8). The environment gets the real variable names, including
the nested ``__`` ones and the section-as-JSON form (``SMART_TELLER_DEVICES='{...}'``), with arbitrary values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.settings import (
    BiometricsSettings,
    DeviceSettings,
    JourneySettings,
    SecuritySettings,
    Settings,
    SettingsError,
    load_settings,
)

SECTIONS = {
    section: [name for name in model.model_fields]
    for section, model in (
        ("devices", DeviceSettings),
        ("biometrics", BiometricsSettings),
        ("security", SecuritySettings),
        ("journeys", JourneySettings),
    )
}
SECTION_KEYS = sorted({key for keys in SECTIONS.values() for key in keys})
TOP_LEVEL = [
    "data_dir",
    "kiosk_id",
    "bank_name",
    "branch",
    "language",
    "currency",
    "log_level",
]
KNOWN_KEYS = TOP_LEVEL + [f"{section}.{key}" for section, keys in SECTIONS.items() for key in keys]

# Text the environment can hold: no NUL (os.environ refuses it) and no lone surrogates (not encodable).
env_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
toml_scalars = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from(["en", "zh_CN", "CNY", "INFO", "0123456789ABCDEFFEDCBA9876543210", "sqlite:///x.db", ""]),
)
# Unknown key names: any text, line breaks included (they once broke the one-line rule).
key_text = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=10)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key_text, inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for key in list(os.environ):
        if key.startswith("SMART_TELLER_"):
            monkeypatch.delenv(key)
    # No real per-user settings file may leak into the fuzz.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def assert_loads_or_refuses_in_one_line(config_file: Path | None) -> None:
    try:
        loaded = load_settings(config_file)
    except SettingsError as exc:
        message = str(exc)
        assert message, "an empty error message"
        assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    else:
        assert isinstance(loaded, Settings)


def toml_key(key: str) -> str:
    return json.dumps(key)  # a TOML basic string is JSON-compatible for the characters json.dumps emits


def toml_value(value: Any) -> str:
    """A minimal TOML writer for the generated values (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    """Assignments to real (and some unknown) setting names, top-level and in [section] tables."""
    lines: list[str] = []
    for key in draw(st.lists(st.sampled_from(TOP_LEVEL) | key_text, max_size=4)):
        lines.append(f"{toml_key(key)} = {toml_value(draw(toml_values))}")
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=3, unique=True)):
        lines.append(f"[{section}]")
        names = st.sampled_from(SECTIONS[section]) | key_text
        for key in draw(st.lists(names, max_size=4, unique=True)):
            lines.append(f"{toml_key(key)} = {toml_value(draw(toml_values))}")
    return "\n".join(lines) + "\n"


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``SMART_TELLER_*`` variables for one example, then remove them (hypothesis runs many examples
    per test, so pytest's function-scoped monkeypatch cannot do this)."""
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            os.environ.pop(key, None)


SCALAR_ENV_NAMES = [f"SMART_TELLER_{key.upper()}" for key in TOP_LEVEL] + [
    f"SMART_TELLER_{section.upper()}__{key.upper()}" for section, keys in SECTIONS.items() for key in keys
]
SECTION_ENV_NAMES = [f"SMART_TELLER_{section.upper()}" for section in SECTIONS]
unknown_env_names = env_text.filter(lambda s: bool(s) and "=" not in s).map(lambda s: "SMART_TELLER_" + s)
# A whole section as a JSON object (pydantic-settings' form for nested models).
json_sections = st.dictionaries(st.sampled_from(SECTION_KEYS) | key_text, toml_scalars, max_size=3).map(
    lambda d: json.dumps(d, default=str)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
@pytest.mark.timeout(120)
def test_any_text_as_the_settings_file(folder: Path, text: str) -> None:
    path = folder / "any.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert_loads_or_refuses_in_one_line(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=toml_documents())
@pytest.mark.timeout(120)
def test_toml_documents_with_real_keys_and_any_values(folder: Path, document: str) -> None:
    path = folder / "doc.toml"
    path.write_text(document, encoding="utf-8", errors="surrogatepass")
    assert_loads_or_refuses_in_one_line(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.dictionaries(st.sampled_from(SCALAR_ENV_NAMES) | unknown_env_names, env_text, max_size=4),
    sections=st.dictionaries(st.sampled_from(SECTION_ENV_NAMES), json_sections, max_size=2),
)
@pytest.mark.timeout(120)
def test_any_environment_values(values: dict[str, str], sections: dict[str, str]) -> None:
    with environment(values | sections):
        assert_loads_or_refuses_in_one_line(None)


# -- inputs that once escaped as other exceptions or broke the one-line rule ---------------------------
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200))
@pytest.mark.timeout(120)
def test_any_bytes_as_the_settings_file(folder: Path, data: bytes) -> None:
    path = folder / "bytes.toml"
    path.write_bytes(data)
    assert_loads_or_refuses_in_one_line(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(SECTION_ENV_NAMES), value=env_text)
@pytest.mark.timeout(120)
def test_a_section_variable_that_is_not_json(name: str, value: str) -> None:
    with environment({name: value}):
        assert_loads_or_refuses_in_one_line(None)


def test_an_unknown_key_with_a_line_break(folder: Path) -> None:
    path = folder / "newline-key.toml"
    path.write_text('"a\\nb" = 1\n', encoding="utf-8")
    assert_loads_or_refuses_in_one_line(path)


def test_the_fuzz_reaches_both_answers(folder: Path) -> None:
    """The shapes above do produce valid settings as well as refusals (a fuzz that only ever saw one of
    them would prove little)."""
    good = folder / "good.toml"
    good.write_text('kiosk_id = "K-9"\n[biometrics]\nthreshold = 0.6\n', encoding="utf-8")
    assert load_settings(good).biometrics.threshold == 0.6
    bad = folder / "bad.toml"
    bad.write_text("[biometrics]\nthreshold = 7\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^bad setting biometrics\.threshold"):
        load_settings(bad)
