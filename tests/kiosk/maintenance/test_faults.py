"""Every fault a driver can report has a plain sentence and fix steps in both languages.

The faults are read from the drivers' source, not from the table under test: the error texts passed to
``_set_state(..., error="...")`` (and the printer's status reasons), the names of their self-test checks,
and every :class:`DeviceState` a device can be in. A new driver string without words fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from devices.base import DeviceState
from kiosk.i18n import LANGUAGES
from kiosk.i18n_catalog import CATALOG
from kiosk.maintenance.faults import (
    ERROR_FAULTS,
    WORKING_STATES,
    check_fault,
    fault_key,
    fault_text,
    status_fault,
)

DEVICES = Path(__file__).resolve().parents[3] / "devices"


def _driver_sources() -> dict[str, ast.Module]:
    """device class -> its driver module, found by the ``device_class = "..."`` assignment."""
    found: dict[str, ast.Module] = {}
    for path in sorted(DEVICES.glob("*/driver.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "device_class" for t in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                found[str(node.value.value)] = tree
    return found


def _literal_errors(tree: ast.Module) -> set[tuple[str, str]]:
    """(state, error) for every ``_set_state(DeviceState.X, error="...")`` with a literal error; the printer's
    ``_status_problem`` returns (completion, state, reason) tuples, read the same way."""
    errors: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_set_state"
        ):
            state = node.args[0] if node.args else None
            for kw in node.keywords:
                if kw.arg != "error":
                    continue
                values = [kw.value.body, kw.value.orelse] if isinstance(kw.value, ast.IfExp) else [kw.value]
                for value in values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        name = state.attr.lower() if isinstance(state, ast.Attribute) else "hardware_error"
                        errors.add((name, value.value))
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 3:
            _, state, reason = node.value.elts
            if isinstance(state, ast.Attribute) and isinstance(reason, ast.Constant):
                errors.add((state.attr.lower(), str(reason.value)))
    return errors


def _check_names(tree: ast.Module) -> set[str]:
    return {
        str(node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "check"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


SOURCES = _driver_sources()


def _has_words(device: str, fault: str) -> list[str]:
    key = fault_key(device, fault)
    if key is None:
        return [f"{device}: fault {fault!r} has no entry"]
    missing = []
    for lang in LANGUAGES:
        if not CATALOG[lang].get(key) or not CATALOG[lang].get(f"{key}.steps"):
            missing.append(f"{device}: {key} has no {lang} sentence or steps")
        else:
            text = fault_text(device, fault, lang)
            if not 1 <= len(text.steps) <= 5:
                missing.append(f"{device}: {key} needs one to five steps in {lang}")
            if "{" in text.sentence + "".join(text.steps):
                missing.append(f"{device}: {key} has an unfilled placeholder in {lang}")
    return missing


def test_the_drivers_were_found() -> None:
    assert set(SOURCES) >= {"card_reader", "card_dispenser", "pin_pad", "id_reader", "printer", "camera"}
    assert ("hardware_error", "card jam") in _literal_errors(SOURCES["card_reader"])
    assert ("user_error", "paper out") in _literal_errors(SOURCES["printer"])
    assert "no card jam" in _check_names(SOURCES["card_reader"])


@pytest.mark.parametrize("device", sorted(SOURCES))
def test_every_state_error_and_failed_check_has_words(device: str) -> None:
    problems: list[str] = []
    for state in DeviceState:
        if state.value not in WORKING_STATES:
            fault = status_fault(device, state.value, None)
            assert fault is not None
            problems += _has_words(device, fault)
    for state, error in _literal_errors(SOURCES[device]):
        fault = status_fault(device, state, error)
        if fault is None:
            continue  # a working state (the camera's "connected, waiting" is offline, so it is walked)
        if not any(error.lower().startswith(known.lower()) for known in ERROR_FAULTS.get(device, {})):
            problems.append(f"{device}: error {error!r} is not in ERROR_FAULTS")
        problems += _has_words(device, fault)
    for check in _check_names(SOURCES[device]):
        fault = check_fault(device, check)
        if fault == "hardware_error":
            problems.append(f"{device}: self-test check {check!r} maps to no fault")
        problems += _has_words(device, fault)
    assert not problems, "\n".join(problems)


def test_the_reader_jam_reads_as_a_fix() -> None:
    text = fault_text("card_reader", status_fault("card_reader", "hardware_error", "card jam") or "", "en")
    assert text.sentence == "A card is stuck inside the card reader."
    assert text.steps[0] == "Open the reader cover" and text.steps[-1] == "Press Self-test"
    assert (
        fault_text("card_reader", "bin_full", "zh_CN").steps[-1] == "输入张数后按“已清空回收箱”"
    )  # the button's label
    zh = fault_text("card_reader", check_fault("card_reader", "no card jam"), "zh_CN")
    assert zh.sentence == "有卡片卡在读卡器内。"


def test_a_shared_fault_names_the_device() -> None:
    assert fault_text("printer", "offline", "en").sentence == "The receipt printer does not answer."
    assert fault_text("pin_pad", "power_off", "en").sentence == "The PIN pad has no power."
    assert fault_text("printer", "offline", "zh_CN").sentence == "凭条打印机无响应。"
