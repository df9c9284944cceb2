"""One device's live picture for the dashboard and ``smart-teller device status``: state, detail,
last error, identity (model, firmware, URL), capabilities and counters.

Drivers are read structurally (this layer may not import them): ``status()`` always, ``info()`` and
``counters()`` where the driver has them. Counters that live on the device (cards in the retain bin, stock
level) come from the status detail; totals that only maintenance knows (cards loaded, paper rolls) come
from the :class:`~kiosk.maintenance.store.MaintenanceStore`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

# Which status-detail keys are counters, per device class.
DETAIL_COUNTERS: dict[str, tuple[str, ...]] = {
    "card_reader": ("retained", "bin_capacity"),
    "card_dispenser": ("stock",),
    "printer": ("paper",),
}
# Which maintenance totals belong to which device.
STORE_TOTALS: dict[str, tuple[str, ...]] = {
    "card_reader": ("cards_removed_from_bin",),
    "card_dispenser": ("cards_loaded",),
    "printer": ("paper_rolls_loaded",),
}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def describe_device(name: str, driver: Any, totals: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A JSON-able snapshot of ``driver``; never raises (a broken driver shows as an error)."""
    try:
        status = driver.status()
        state = str(_plain(status.state))
        detail = _plain(dict(status.detail))
        last_error = status.last_error
    except Exception as exc:
        return {
            "device": name,
            "state": "hardware_error",
            "detail": {},
            "last_error": f"status failed: {exc}",
        }
    info: dict[str, Any] = {
        "model": type(driver).__name__,
        "url": str(getattr(driver, "url", "")),
        "firmware": "",
    }
    capabilities: dict[str, Any] = {}
    info_fn = getattr(driver, "info", None)
    if callable(info_fn):
        try:
            found = info_fn()
            info = {"model": found.model, "url": found.url, "firmware": found.firmware}
            capabilities = _plain(dict(found.capabilities))
        except Exception as exc:  # info is decoration: the status above still counts
            info["error"] = str(exc)
    counters: dict[str, Any] = {}
    counters_fn = getattr(driver, "counters", None)
    if callable(counters_fn):
        counters.update(_plain(counters_fn()))
    for key in DETAIL_COUNTERS.get(name, ()):
        if key in detail:
            counters[key] = detail[key]
    for key in STORE_TOTALS.get(name, ()):
        counters[key] = int((totals or {}).get(key, 0))
    return {
        "device": name,
        "state": state,
        "detail": detail,
        "last_error": last_error,
        "info": info,
        "capabilities": capabilities,
        "counters": counters,
    }
