"""``smart-teller device status|selftest|print-test``: the devices from the settings, without the touchscreen.

Drivers are built from the configured addresses (hardware or simulators alike), started, given up to
``--wait`` seconds to connect, then asked. ``status`` exits 1 when any configured device is not online;
``selftest`` and ``print-test`` exit 1 when the device fails, and are journaled (technician ``cli``) like
the same actions on the maintenance screen.
"""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(
    name="device",
    help="Device status, self-tests and a test print, using the addresses in the settings.",
    no_args_is_help=True,
)

DEVICE_NAMES = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")


def _die(message: str, code: int) -> SystemExit:
    """One line on stderr; SystemExit, not typer.Exit: with standalone_mode=False click returns Exit codes."""
    typer.echo(f"smart-teller: {message}", err=True)
    return SystemExit(code)


def _started(wait_s: float, only: str | None = None) -> tuple[Any, Any]:
    """(settings, DeviceSet) with the configured drivers started and connected, or ``wait_s`` passed."""
    import time

    from app.composition import build_devices
    from kiosk.settings import load_settings

    settings = load_settings()
    devices = build_devices(settings)
    if only is not None:
        if only not in DEVICE_NAMES:
            raise _die(f"unknown device {only!r}; one of {', '.join(DEVICE_NAMES)}", 2)
        for name in DEVICE_NAMES:
            if name != only:
                setattr(devices, name, None)
        if devices.get(only) is None:
            raise _die(f"{only} is not configured (set devices.{only} in the settings)", 1)
    if not list(devices.items()):
        raise _die("no device is configured (set devices.* in the settings or SMART_TELLER_DEVICES__*)", 1)
    devices.start()
    deadline = time.monotonic() + max(0.0, wait_s)
    while time.monotonic() < deadline:
        if all(str(driver.status().state) == "online" for _, driver in devices.items()):
            break
        time.sleep(0.05)
    return settings, devices


def _journal(settings: Any) -> Any:
    from hostlink.paths import prepare_data_dir
    from kiosk.journal import Journal

    prepare_data_dir(settings.data_dir)
    return Journal(settings.data_dir / "journal", settings.kiosk_id)


def _totals(settings: Any) -> dict[str, int]:
    from kiosk.maintenance.store import STATE_FILE, MaintenanceStore

    folder = settings.data_dir / "maintenance"
    return MaintenanceStore(folder).totals() if (folder / STATE_FILE).exists() else {}


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object keyed by device."),
    wait: float = typer.Option(3.0, "--wait", help="Seconds to wait for the devices to connect."),
) -> None:
    """Each configured device's state, detail, model, firmware, address and counters."""
    import json

    from kiosk.maintenance.overview import describe_device

    settings, devices = _started(wait)
    try:
        totals = _totals(settings)
        report = {name: describe_device(name, driver, totals) for name, driver in devices.items()}
    finally:
        devices.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for name, entry in report.items():
            info = entry.get("info", {})
            detail = ", ".join(f"{k}={v}" for k, v in entry["detail"].items())
            typer.echo(f"{name:<15} {entry['state']:<15} {info.get('url', '')}")
            typer.echo(f"{'':<15} model: {info.get('model', '')}  firmware: {info.get('firmware') or '-'}")
            if detail:
                typer.echo(f"{'':<15} {detail}")
            if entry.get("last_error"):
                typer.echo(f"{'':<15} last error: {entry['last_error']}")
    down = [f"{name} ({entry['state']})" for name, entry in report.items() if entry["state"] != "online"]
    if down:
        raise _die(f"not online: {', '.join(down)}", 1)


@app.command()
def selftest(
    name: str = typer.Argument(None, help="One device (default: every configured device)."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
    wait: float = typer.Option(3.0, "--wait", help="Seconds to wait for the devices to connect."),
) -> None:
    """Run each device's self-test over its wire protocol; exit 1 if any check fails."""
    import json

    settings, devices = _started(wait, name)
    journal = _journal(settings)
    reports: dict[str, Any] = {}
    try:
        for device, driver in devices.items():
            intent = journal.intent("maintenance_self_test", technician="cli", device=device)
            result = driver.self_test().result(settings.devices.command_timeout_s + 5)
            report = result.value.as_dict() if result.value is not None else None
            failed = [c["name"] for c in report["checks"] if not c["passed"]] if report else []
            journal.outcome(
                intent,
                str(result.code),
                technician="cli",
                device=device,
                detail=result.detail,
                failed_checks=failed,
            )
            reports[device] = {"result": str(result.code), "detail": result.detail, "report": report}
    finally:
        journal.close()
        devices.close()
    if as_json:
        typer.echo(json.dumps(reports, indent=2, ensure_ascii=False))
    else:
        for device, entry in reports.items():
            typer.echo(f"{device}: {entry['result']} ({entry['detail']})")
            for check in (entry["report"] or {}).get("checks", []):
                mark = "ok  " if check["passed"] else "FAIL"
                typer.echo(f"  {mark} {check['name']}{': ' + check['detail'] if check['detail'] else ''}")
    failed_devices = [device for device, entry in reports.items() if entry["result"] != "success"]
    if failed_devices:
        raise _die(f"self-test failed: {', '.join(failed_devices)}", 1)


@app.command("print-test")
def print_test(
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    wait: float = typer.Option(3.0, "--wait", help="Seconds to wait for the printer to connect."),
) -> None:
    """Print a test receipt (bank, terminal, time; marked as no transaction); exit 1 if it did not print."""
    import json
    from datetime import UTC, datetime

    from devices.printer.layout import ReceiptDocument, ReceiptLine
    from kiosk.banktime import format_bank_time

    settings, devices = _started(wait, "printer")
    journal = _journal(settings)
    now = datetime.now(UTC)
    receipt = ReceiptDocument(
        bank_name=settings.bank_name,
        kiosk_id=settings.kiosk_id,
        date=format_bank_time(now, settings.bank_timezone),
        reference=f"TEST-{now.strftime('%Y%m%d%H%M%S')}",
        title="Printer test",
        lines=(ReceiptLine("Branch", settings.branch), ReceiptLine("Requested by", "command line")),
        footer=("Printer test - not a transaction",),
    )
    try:
        intent = journal.intent("maintenance_print_test", technician="cli", device="printer")
        result = devices.printer.print_receipt(receipt).result(60)
        report = result.value
        paper = report.paper if report is not None else "unknown"
        journal.outcome(
            intent, str(result.code), technician="cli", device="printer", detail=result.detail, paper=paper
        )
    finally:
        journal.close()
        devices.close()
    outcome = {
        "result": str(result.code),
        "detail": result.detail,
        "paper": paper,
        "reference": receipt.reference,
    }
    typer.echo(
        json.dumps(outcome) if as_json else f"printer: {outcome['result']} ({result.detail}), paper {paper}"
    )
    if not result.ok:
        raise _die(f"test print failed: {result.detail}", 1)
