"""``smart-teller demo JOURNEY --out DIR``: a whole journey offscreen against the simulators.

Starts the simulators it needs (``python -m simulators --json`` in a subprocess: the app never imports
them), a fresh data dir (or ``--data-dir``) with the seed bank, the kiosk window offscreen, then the
journey's script (``ui/demo/<journey>.py``). Writes a PNG per screen, the receipt(s) as text (and the
printer simulator's PNG renders), the journal excerpt, and ``summary.json``. Exit 0 only when the journey
ended the way its script expects; otherwise 1 with a one-line reason on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(name="demo", help="Run a journey offscreen against the simulators; a PNG per screen.")
SINGLE_COMMAND = True

DEMO_SESSION = {"take_card_timeout_s": 15.0, "take_card_warning_s": 5.0}


@app.command("demo")
def demo(
    journey: str = typer.Argument(..., help="enquiry, transfer, wrong-pin (and any ui/demo/ script)"),
    out: Path = typer.Option(..., "--out", help="Folder for the PNGs, receipts, journal excerpt."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data dir (default: a fresh one in OUT)."),
    lang: str = typer.Option("en", "--lang", help="Customer language: en or zh_CN."),
    hosts: list[str] = typer.Option(
        [],
        "--host",
        help="A running bank host's URL instead of an embedded host (repeat for failover); the data dir "
        "must hold this terminal's credential (`smart-teller host enrol-terminal ID --credential-file`).",
    ),
    card: str | None = typer.Option(
        None, "--card", help="Card journeys: PAN,YYMM,NAME of the card to insert (default: the seed card)."
    ),
    pin: str | None = typer.Option(None, "--pin", help="The test PIN of --card (demo cards only)."),
) -> None:
    """Drive JOURNEY like a customer and save what the customer saw."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk.i18n import LANGUAGES
    from ui.demo import DemoFailed, load

    if lang not in LANGUAGES:
        _fail(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}", 2)
    try:
        script = load(journey)
    except DemoFailed as exc:
        _fail(str(exc), 2)
    inserted = _card_option(card, pin)
    out.mkdir(parents=True, exist_ok=True)
    data = data_dir or out / "data"
    host_data = data.with_name(data.name + "-host")
    from app.hostproc import HostStartError, start_embedded_host
    from kiosk.settings import load_settings

    terminal = load_settings(data_dir=str(data))
    cleaned = _clean_leftovers(data, terminal.kiosk_id)
    if data_dir is None and not hosts:
        # A fresh bank every run, so the pictures are the same every run: its data and its HSM token's
        # store (beside the host's data dir).
        for folder in (data, host_data, host_data.with_name(host_data.name + "-hsm")):
            if folder.exists():
                shutil.rmtree(folder)
    host = None
    iso_addresses: list[str] = []  # a host named by --host: card transactions over its JSON API
    if hosts:
        if not terminal.host_credential_path.exists():
            _fail(f"--host needs this terminal's enrolment credential at {terminal.host_credential_path}", 2)
    else:
        try:
            embedded = start_embedded_host(host_data, terminal.kiosk_id, terminal.host_credential_path)
        except HostStartError as exc:
            _fail(str(exc), 2)
        host, hosts = embedded, [embedded.url]
        iso_addresses = [embedded.iso8583]
    printed = out / "printer"
    try:
        process, addresses = _start_simulators(tuple(script.DEVICES), printed)
        try:
            from app.leftovers import write_run_file

            # Removed when this run ends; found by the next run if this one is killed.
            write_run_file(
                data,
                {"simulators": process.pid, **({"host": host.pid} if host is not None else {})},
                {name: a["url"] for name, a in addresses.items() if isinstance(a, dict) and "url" in a},
            )
            summary = _run(
                journey, script, out, data, lang, addresses, hosts, inserted, iso_addresses, cleaned
            )
        except DemoFailed as exc:
            _fail(f"demo {journey} failed: {exc}", 1)
        finally:
            _stop(process)
    finally:
        if host is not None:
            host.stop()
        from app.leftovers import remove_run_file

        remove_run_file(data)
    _collect_receipts(printed, data, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    for line in summary["cleaned"]:
        typer.echo(f"cleaned: {line}")
    typer.echo(json.dumps(summary, ensure_ascii=False))
    if not summary["completed"]:
        _fail(f"demo {journey} ended {summary['outcome']!r}, expected one of {summary['expected']}", 1)


def _card_option(card: str | None, pin: str | None) -> tuple[dict[str, str], str] | None:
    if card is None:
        if pin is not None:
            _fail("--pin goes with --card", 2)
        return None
    parts = [part.strip() for part in card.split(",")]
    if len(parts) != 3 or not parts[0].isdigit() or not (len(parts[1]) == 4 and parts[1].isdigit()):
        _fail("--card is PAN,YYMM,NAME (digits, four digits, the name on the card)", 2)
    if pin is None or not (pin.isdigit() and 4 <= len(pin) <= 12):
        _fail("--card needs --pin, 4 to 12 digits", 2)
    return {"pan": parts[0], "expiry": parts[1], "name": parts[2]}, str(pin)


def _run(
    journey: str,
    script: Any,
    out: Path,
    data: Path,
    lang: str,
    addresses: dict[str, Any],
    host_urls: list[str],
    card: tuple[dict[str, str], str] | None = None,
    iso_addresses: list[str] | None = None,
    cleaned: list[str] | None = None,
) -> dict[str, Any]:
    from app.composition import build_devices
    from app.recovery import recover_at_start
    from app.services import TerminalServices
    from kiosk.settings import load_settings
    from ui.app import KioskWindow, create_application
    from ui.demo import Demo
    from ui.kiosk_app import KioskApp
    from ui.theme import DESIGN_HEIGHT, DESIGN_WIDTH

    urls = {name: address["url"] for name, address in addresses.items() if "url" in address}
    controls = {name: address["control"] for name, address in addresses.items() if "control" in address}
    settings = load_settings(
        data_dir=str(data),
        devices=urls,
        language=lang,
        host={"urls": host_urls, "iso8583": iso_addresses or []},
    )
    from hostlink.logs import setup_logging

    setup_logging(settings.data_dir, settings.log_level)  # the terminal's own log, as the kiosk keeps it
    qt_app = create_application(lang)
    services = TerminalServices.start(settings)
    devices = build_devices(settings)
    window = KioskWindow(settings, lang=lang)
    kiosk = None
    try:
        devices.start()
        recovery = recover_at_start(services, devices)  # a demo killed mid-run left a session half-done
        cleaned = [*(cleaned or []), *_recovery_lines(recovery)]  # each also journaled by recovery
        kiosk = KioskApp(window, devices, services, journey_context={"session_config": DEMO_SESSION})
        window.resize(DESIGN_WIDTH, DESIGN_HEIGHT)
        from PySide6.QtCore import Qt

        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.show()
        qt_app.processEvents()
        demo = Demo(kiosk, out, controls, lang=lang, card=card)
        demo.snap()
        script.run(demo)
        outcome = demo.outcome()
        demo.pump(0.3)
        demo.snap("end")
        journal = [json.loads(line) for line in services.journal.export()]
        session = kiosk.session_id
        excerpt = [r for r in journal if r.get("session_id") == session or r.get("event") == "session_ended"]
        (out / "journal.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in excerpt), encoding="utf-8"
        )
        return {
            "journey": journey,
            "outcome": outcome.status,
            "expected": sorted(script.EXPECTED),
            "completed": outcome.status in script.EXPECTED,
            "screens": demo.screens,
            "pngs": [p.name for p in demo.shots],
            "journal_records": len(excerpt),
            "cleaned": cleaned,
        }
    finally:
        if kiosk is not None:
            kiosk.shutdown()
        window.shutdown()
        window.close()
        devices.close()
        services.close()


def _clean_leftovers(data: Path, kiosk_id: str) -> list[str]:
    """What a killed earlier run on ``data`` left (its processes, cards in its devices, its run file)."""
    from app.leftovers import LeftoverError, clean_leftovers
    from kiosk.journal import Journal

    if not (data / "run.json").exists() and not (data / "run.tmp").exists():
        return []
    journal = Journal(data / "journal", kiosk_id)
    try:
        return clean_leftovers(data, journal)
    except LeftoverError as exc:
        _fail(str(exc), 2)
        raise  # not reached: _fail exits
    finally:
        journal.close()


def _recovery_lines(recovery: Any) -> list[str]:
    """Start-up recovery's work, one line each: open intents resolved, cards captured, sessions closed."""
    lines = [f"resolved an open {s.event} intent: {r.result}" for s, r in recovery.report.resolved]
    lines += [f"{s.event} intent left open: {why}" for s, why in recovery.report.failed]
    lines += [f"card found in the {device} at start: {result}" for device, result in recovery.swept.items()]
    lines += [f"closed session {sid}, interrupted by the earlier run's end" for sid in recovery.interrupted]
    lines += [f"voided an unfinished account opening (card {c}): {e}" for c, e in recovery.openings.items()]
    return lines


def _start_simulators(
    devices: tuple[str, ...], printed: Path
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    from ui.commands.run import _read_line

    errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed below)
    command = [sys.executable, "-m", "simulators", "--json", "--out", str(printed)]
    for device in devices:
        command += ["--only", device]
    from app.hostproc import die_with_parent

    # A demo killed hard (the rerun test does it) takes its simulators along instead of leaving them.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, preexec_fn=die_with_parent
    )
    line = _read_line(process, 30.0)
    try:
        addresses = json.loads(line)
        if not isinstance(addresses, dict):
            raise ValueError("not an object")
    except ValueError:
        errors.seek(0)
        tail = [text for text in errors.read().splitlines() if text.strip()][-1:] or [f"line {line!r}"]
        errors.close()
        _stop(process)
        _fail(f"the simulators did not start: {tail[0]}", 1)
    errors.close()
    return process, addresses


def _stop(process: subprocess.Popen[str]) -> None:
    from ui.commands.run import stop_simulators

    stop_simulators(process)


def _collect_receipts(printed: Path, data: Path, out: Path) -> None:
    target = out / "receipts"
    target.mkdir(exist_ok=True)
    for source in sorted((data / "receipts").glob("*.txt")) + sorted(printed.glob("**/*.png")):
        shutil.copy2(source, target / source.name)


def _fail(message: str, code: int) -> None:
    typer.echo(f"smart-teller: {message}", err=True)
    raise typer.Exit(code)
