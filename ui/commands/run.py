"""``smart-teller run``: the kiosk touchscreen (``--simulated`` also starts a bank host and the device
simulators on loopback)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import typer

app = typer.Typer(name="run", help="Run the kiosk touchscreen.")
SINGLE_COMMAND = True

DEVICE_KEYS = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")
SIMULATOR_START_TIMEOUT_S = 20.0
# A tester can try face login (and opening with the zhao_jianguo card) without touching the panel first.
DEFAULT_CAMERA = "face-login"


@app.command("run")
def run(
    simulated: bool = typer.Option(
        False, "--simulated", help="Start the simulators and use their addresses."
    ),
    windowed: bool = typer.Option(False, "--windowed", help="A resizable 1280×800 window, not full screen."),
    lang: str = typer.Option("", "--lang", help="Start language: en or zh_CN (default: from settings)."),
    quit_after: float = typer.Option(
        0.0, "--quit-after", help="Close cleanly this many seconds after the kiosk is ready."
    ),
    no_panel: bool = typer.Option(
        False, "--no-panel", help="With --simulated: no developer control panel window."
    ),
    camera: str = typer.Option(
        DEFAULT_CAMERA,
        "--camera",
        help="With --simulated: what the camera shows first: face-login (the virtual person of the seeded "
        "face-login customer, also on the zhao_jianguo ID card), video, virtual_person:PHOTO, photo:PHOTO.",
    ),
) -> None:
    """Open the kiosk window; the settings come from the file and SMART_TELLER_* variables."""
    from kiosk.i18n import LANGUAGES
    from kiosk.settings import load_settings

    if lang and lang not in LANGUAGES:
        _fail(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if quit_after < 0:
        _fail("--quit-after must not be negative")

    simulators: subprocess.Popen[str] | None = None
    host: Any = None
    try:
        overrides: dict[str, Any] = {}
        if simulated:
            # Simulators first: the host forwards other-bank transfers to the simulated interbank switch.
            simulators, urls = start_simulators(panel=not no_panel, camera=camera)
            switch = urls.pop(SWITCH_KEY, "")
            host = start_host(load_settings(), switch_address=switch)
            overrides["host"] = {"urls": [host.url], "iso8583": [host.iso8583]}
            if urls:
                overrides["devices"] = urls
        settings = load_settings(**overrides)
        # The attract screen first; the bank, the drivers and crash recovery come up behind it.
        from ui.startup import run_kiosk

        code = run_kiosk(
            settings,
            windowed=windowed,
            lang=lang or None,
            quit_after_s=quit_after or None,
        )
    finally:
        if simulators is not None:
            stop_simulators(simulators)
        if host is not None:
            host.stop()
    if code:
        raise typer.Exit(code)


def start_host(settings: Any, *, switch_address: str = "") -> Any:
    """The embedded default: one bank host on loopback with its own data dir, seeded, this terminal
    enrolled with it (``SMART_TELLER_HOST_DATA_DIR`` names the host's data dir); other-bank transfers
    go to the switch at ``switch_address`` (host:port) when one is given."""
    import os

    import platformdirs

    from app.hostproc import HostStartError, start_embedded_host

    host_dir = Path(
        os.environ.get("SMART_TELLER_HOST_DATA_DIR") or platformdirs.user_data_dir("smart-teller-host")
    )
    try:
        return start_embedded_host(
            host_dir, settings.kiosk_id, settings.host_credential_path, switch_address=switch_address
        )
    except HostStartError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"smart-teller: {message}", err=True)
    raise typer.Exit(code)


def start_simulators(
    panel: bool = False, camera: str = DEFAULT_CAMERA
) -> tuple[subprocess.Popen[str] | None, dict[str, str]]:
    """Start ``python -m simulators --json`` and read its one line of addresses.

    On any failure say so on stderr and go on without devices (the journeys that need them are then
    unavailable); the caller still stops the process.
    """
    from app.hostproc import die_with_parent

    # stderr goes to a file, not a pipe: a chatty simulator must never block on a full pipe.
    errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed on every path below)
    try:
        process = subprocess.Popen(
            # --panel: the developer control panel opens beside the kiosk, in the simulators' process.
            [sys.executable, "-m", "simulators", "--json", "--camera", camera]
            + (["--panel"] if panel else []),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            preexec_fn=die_with_parent,
        )
    except OSError as exc:
        errors.close()
        typer.echo(f"smart-teller: could not start the simulators ({exc}); running without devices", err=True)
        return None, {}
    line = _read_line(process, SIMULATOR_START_TIMEOUT_S)
    urls = parse_simulator_addresses(line)
    if urls is None:
        reason = _why_not(process, line, errors)
        errors.close()
        typer.echo(f"smart-teller: simulators did not start ({reason}); running without devices", err=True)
        return process, {}
    errors.close()
    return process, urls


SWITCH_KEY = "switch"


def parse_simulator_addresses(line: str) -> dict[str, str] | None:
    """``{"card_reader": {"url": ..., "control": ...}, ...}`` → ``{"card_reader": url, ...}``."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    urls: dict[str, str] = {}
    for key in DEVICE_KEYS:
        entry = data.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            urls[key] = entry["url"]
    switch = data.get(SWITCH_KEY)
    if urls and isinstance(switch, dict) and isinstance(switch.get("address"), str):
        urls[SWITCH_KEY] = switch["address"]  # host:port of the interbank switch, for the bank host
    return urls or None


def stop_simulators(process: subprocess.Popen[str], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if process.stdout is not None:
        process.stdout.close()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or "" if none comes within ``timeout`` (the reader thread is joined)."""
    result: list[str] = []
    stream = process.stdout

    def read() -> None:
        if stream is not None:
            result.append(stream.readline())

    reader = threading.Thread(target=read, name="simulators-stdout", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        process.terminate()  # unblocks readline with EOF so the thread can be joined
        reader.join(5)
        return ""
    return result[0].strip() if result else ""


def _why_not(process: subprocess.Popen[str], line: str, errors: IO[str]) -> str:
    if process.poll() is not None:
        errors.seek(0)
        lines = [text.strip() for text in errors.read().splitlines() if text.strip()]
        if lines:
            return lines[-1]
        return f"exit code {process.returncode}"
    return "no address line" if not line else "unreadable address line"
