"""End-to-end fixtures: the kiosk window with real drivers against simulators started in-process.

Each test gets fresh simulators (card reader, PIN pad, printer) on ephemeral loopback ports, a bank host
process of its own (a copy of a seeded SQLite bank, this terminal enrolled), a fresh terminal data dir,
and a :class:`KioskHarness` that touches the screens like a customer and
drives the simulators through their control API (``devices.simcontrol``) like the demo does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app.hostproc import HostProcess, enrol, host_environment, run_host_command
from bank.db.engine import make_engine
from devices.simcontrol import ControlClient
from kiosk.settings import Settings, load_settings

# Seed data (bank/seed.py): Wang Fang's card uses the design's PIN-block test vector PAN.
WANG_FANG = {"pan": "43219876543210987", "name": "WANG/FANG", "expiry": "3012"}
WANG_FANG_PIN = "1234"
LIU_YANG = {"pan": "6212340000004045", "name": "LIU/YANG", "expiry": "3101"}  # ¥88.00
LIU_YANG_PIN = "9753"
ZHANG_MIN = {"pan": "6212340000002023", "name": "ZHANG/MIN", "expiry": "2301"}  # expired card
LI_NA_ACCOUNT = "0001100000010030"

FAST_SESSION = {
    "take_card_timeout_s": 2.0,
    "take_card_warning_s": 1.0,
    "pin_timeout_s": 8.0,
    "card_insert_timeout_s": 8.0,
}
WAIT_MS = 15000  # generous: the machine is shared; a passing test never waits this long


@dataclass
class FleetHosts:
    """Two bank host processes (``python -m bank serve``) on one fresh PostgreSQL database, sharing the
    bank's key files, seeded, with each named terminal enrolled: its credential in its own data dir."""

    root: Path
    database_url: str
    keys_dir: Path
    processes: list[HostProcess]
    terminal_ids: tuple[str, ...]

    @property
    def urls(self) -> list[str]:
        return [host.url for host in self.processes]

    def urls_for(self, terminal_id: str) -> list[str]:
        """Each terminal its own order, so the two hosts both serve: the first terminal the first host."""
        index = self.terminal_ids.index(terminal_id)
        return self.urls[index:] + self.urls[:index]

    def data_dir(self, terminal_id: str) -> Path:
        return self.root / terminal_id

    @classmethod
    @contextmanager
    def start(cls, root: Path, postgres_url: str, terminal_ids: Sequence[str]) -> Iterator[FleetHosts]:
        name = f"fleet_{uuid.uuid4().hex[:10]}"
        admin = make_engine(postgres_url)
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE DATABASE {name}")
        url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
        keys = root / "bank-keys"
        hosts: list[HostProcess] = []
        base_env = host_environment(root / "host-0", url, {"SMART_TELLER_HOST_KEYS_DIR": str(keys)})
        try:
            for terminal_id in terminal_ids:
                enrol(terminal_id, root / terminal_id / "host-credential", base_env)
            run_host_command(["bank", "seed"], base_env)
            for index in (1, 2):
                env = host_environment(
                    root / f"host-{index}",
                    url,
                    {"SMART_TELLER_HOST_KEYS_DIR": str(keys), "SMART_TELLER_HOST_HOST_ID": f"HOST-{index}"},
                )
                hosts.append(HostProcess(env, seed=False).start())
            yield cls(root, url, keys, hosts, tuple(terminal_ids))
        finally:
            for host in hosts:
                host.stop()
            with admin.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )
            admin.dispose()


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, dict[str, Any]]]:
    from simulators.card_reader import make_server as card_reader_server
    from simulators.pin_pad import make_server as pin_pad_server
    from simulators.printer import make_server as printer_server

    servers = {
        "card_reader": card_reader_server(seed=0, cards=[WANG_FANG, LIU_YANG, ZHANG_MIN]),
        "pin_pad": pin_pad_server(seed=0),
        "printer": printer_server(seed=0, out_dir=tmp_path / "printed", render_png=False),
    }
    started = []
    try:
        for server in servers.values():
            server.start()
            started.append(server)
        yield {name: server.describe() for name, server in servers.items()}
    finally:
        for server in started:
            server.close()


@pytest.fixture
def iso8583_link(bank_host: Any) -> dict[str, Any]:
    """The terminal's ISO 8583 settings: the host's listener (a module may put a proxy in between)."""
    return {"iso8583": [bank_host.process.iso8583]}


@pytest.fixture
def e2e_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    simulators: dict[str, dict[str, Any]],
    bank_host: Any,
    iso8583_link: dict[str, Any],
) -> Settings:
    monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    bank_host.install_credential(tmp_path / "data")
    urls = {name: address["url"] for name, address in simulators.items()}
    return load_settings(
        data_dir=str(tmp_path / "data"),
        devices={**urls, "command_timeout_s": 1.0},
        journeys={"idle_timeout_s": 60, "idle_warning_s": 10},
        host={"urls": [bank_host.url], **iso8583_link},
    )


class KioskHarness:
    """A customer at the kiosk: touches screen actions and uses the (simulated) devices."""

    # Test modules cannot import conftest (importlib mode): the seed cards travel on the harness.
    WANG_FANG = WANG_FANG
    WANG_FANG_PIN = WANG_FANG_PIN
    LIU_YANG = LIU_YANG
    LIU_YANG_PIN = LIU_YANG_PIN
    ZHANG_MIN = ZHANG_MIN
    LI_NA_ACCOUNT = LI_NA_ACCOUNT

    def __init__(
        self, qtbot: Any, app: Any, simulators: dict[str, dict[str, Any]], bank_host: Any = None
    ) -> None:
        self.bank_host = bank_host
        self.qtbot = qtbot
        self.app = app
        self.window = app.window
        self.simulators = simulators
        self.seen: list[str] = []
        self.window.stack.screenChanged.connect(self.seen.append)

    # -- the bank, as the host keeps it (read in this process, to check what the host did) ------
    @property
    def bank(self) -> Any:
        return self.bank_host.bank()

    @property
    def host(self) -> Any:
        return self.bank_host.inspect()

    # -- devices ------------------------------------------------------------------------------
    def ctl(self, device: str, cmd: str, **args: Any) -> Any:
        return ControlClient(self.simulators[device]["control"]).call(cmd, **args)

    def insert_card(self, card: dict[str, str]) -> None:
        self.ctl("card_reader", "insert_card", **card)

    def press(self, keys: str, mode: str = "pin") -> None:
        """Keys on the pad once it is in ``mode`` entry (keys pressed on an idle pad are not entered)."""
        self.wait_for(lambda: self.ctl("pin_pad", "state")["mode"] == mode)
        self.ctl("pin_pad", "press_keys", keys=keys)

    def take_card(self) -> None:
        """Take the card once the reader has pushed it to the gate."""
        self.wait_for(lambda: self.ctl("card_reader", "state")["media"] == "at_gate")
        self.ctl("card_reader", "take_card")

    # -- screen -------------------------------------------------------------------------------
    @property
    def screen(self) -> str:
        return self.window.current_state()

    def current(self) -> Any:
        return self.window.stack.screen(self.screen)

    def wait_screen(self, name: str, timeout: int = WAIT_MS) -> Any:
        self.qtbot.waitUntil(lambda: self.screen == name, timeout=timeout)
        return self.current()

    def wait_for(self, predicate: Callable[[], bool], timeout: int = WAIT_MS) -> None:
        self.qtbot.waitUntil(predicate, timeout=timeout)

    def act(self, action: str, payload: object = None) -> None:
        """What a touch on the current screen's button does."""
        self.current().emit_action(action, payload)

    def start_card(self, lang: str = "en") -> None:
        self.window.navigation.reset("attract")
        self.window.attract.emit_action("start")
        self.window.language_screen.emit_action("language", lang)
        self.window.menu.emit_action("insert_card")
        self.wait_screen("card_insert")

    def login(self, card: dict[str, str] = WANG_FANG, pin: str = WANG_FANG_PIN, lang: str = "en") -> None:
        self.start_card(lang)
        self.insert_card(card)
        self.wait_screen("pin_entry")
        self.press(pin + "E")
        self.wait_screen("services_menu")

    def pin_change_step(self, stage: str, keys: str, lang: str = "en") -> Any:
        """On the PIN entry screen showing the PIN change's ``stage`` title, type ``keys`` on the pad."""
        from kiosk.i18n import tr

        screen = self.wait_screen("pin_entry")
        title = tr(f"pin_change.{stage}.title", lang)
        self.wait_for(lambda: screen.title_text() == title)
        self.press(keys)
        return screen

    def change_pin(self, current: str, new: str, lang: str = "en") -> None:
        """From the services menu: Change PIN, the current PIN, the new one twice."""
        self.act("change_pin")
        self.pin_change_step("current", current + "E", lang)
        self.pin_change_step("new", new + "E", lang)
        self.pin_change_step("confirm", new + "E", lang)

    def transfer_to_li_na(self, amount_digits: str) -> Any:
        """From the services menu: a transfer to Li Na (account and name typed) of ``amount_digits`` yuan
        on the keypad, up to its confirmation screen, which it returns."""
        self.act("transfer")
        self.wait_screen("transfer_kind")
        self.act("kind", {"value": "customer"})
        self.wait_screen("transfer_payee")
        self.act("payee", {"account": self.LI_NA_ACCOUNT, "name": "李娜"})
        amount = self.wait_screen("transfer_amount")
        for key in amount_digits:
            amount.keypad.press(key)
        amount.keypad._submit()
        return self.wait_screen("transfer_confirm")

    def finish_and_take_card(self) -> None:
        self.wait_screen("card_take")
        self.take_card()
        self.wait_for(lambda: self.screen in ("message", "attract"))

    def outcome(self) -> Any:
        self.wait_for(lambda: bool(self.app.outcomes))
        return self.app.outcomes[-1]

    def message_title(self) -> str:
        return str(self.window.message.panel().title())


@pytest.fixture
def idle_timeout_s() -> float:
    """Override with ``@pytest.mark.parametrize("idle_timeout_s", [3.0])`` to test the idle timeout."""
    return 60.0


@pytest.fixture
def kiosk(
    idle_timeout_s: float,
    qtbot: Any,
    qapp: QApplication,
    e2e_settings: Settings,
    simulators: dict[str, dict[str, Any]],
    bank_host: Any,
) -> Iterator[KioskHarness]:
    from app.composition import build_devices
    from app.services import TerminalServices
    from ui.app import KioskWindow
    from ui.kiosk_app import KioskApp
    from ui.theme import apply_theme

    apply_theme(qapp, "en")
    services = TerminalServices.start(e2e_settings)
    devices = build_devices(e2e_settings)
    devices.start()
    window = KioskWindow(
        e2e_settings, idle_timeout_s=idle_timeout_s, idle_warning_s=min(10.0, idle_timeout_s / 2)
    )
    app = KioskApp(window, devices, services, journey_context={"session_config": FAST_SESSION})
    harness = KioskHarness(qtbot, app, simulators, bank_host)
    try:
        yield harness
    finally:
        app.shutdown()
        window.shutdown()
        window.deleteLater()
        devices.close()
        services.close()


@pytest.fixture
def start_fleet_hosts(tmp_path: Path, postgres_url: str) -> Callable[[Sequence[str]], Any]:
    """``with start_fleet_hosts(("KIOSK-A", "KIOSK-B")) as hosts:`` → :class:`FleetHosts` in tmp_path."""
    return lambda terminal_ids: FleetHosts.start(tmp_path, postgres_url, terminal_ids)
