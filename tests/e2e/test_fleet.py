"""A fleet: two terminals (each its own data dir and credential), two bank host processes, one PostgreSQL.

The hosts are the real program (``python -m bank serve``), sharing the database and the bank's key files;
each terminal talks to both (its own order), through its real host client. A customer opened at terminal
A uses card + PIN and face login at terminal B; transfers race from both terminals on one account and
never overdraw; a host killed with SIGKILL while transfers are in flight loses and doubles nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from app.services import TerminalServices
from bank.check import check_ledger
from bank.db.engine import make_engine
from bank.models import Transfer
from hostlink import api
from hostlink.pinblock import encrypt_pin_block
from kiosk.hostclient import HostUnavailable
from kiosk.settings import load_settings

pytestmark = pytest.mark.postgres

TEST_TDES_PIN_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # the PIN pad simulator's test key
LIU_YANG_PAN = "6212340000004045"  # seed: ¥88.00 on a current account without overdraft
NEW_CUSTOMER_ID = "110105198001010016"
NEW_PIN = "2580"


@dataclass
class Fleet:
    hosts: Any  # conftest.FleetHosts
    terminals: dict[str, TerminalServices]

    @property
    def database_url(self) -> str:
        return self.hosts.database_url

    def inspect_engine(self) -> Any:
        return make_engine(self.database_url)


@pytest.fixture
def fleet(start_fleet_hosts: Any) -> Iterator[Fleet]:
    """The hosts, and each terminal's services in this process (its own data dir and credential)."""
    terminals: dict[str, TerminalServices] = {}
    with start_fleet_hosts(("KIOSK-A", "KIOSK-B")) as hosts:
        try:
            for terminal_id in ("KIOSK-A", "KIOSK-B"):
                settings = load_settings(
                    data_dir=str(hosts.data_dir(terminal_id)),
                    kiosk_id=terminal_id,
                    host={"urls": hosts.urls_for(terminal_id), "timeout_s": 5.0},
                )
                terminals[terminal_id] = TerminalServices.start(settings, probe=False)
            yield Fleet(hosts, terminals)
        finally:
            for services in terminals.values():
                services.close()


def _ledger_ok(fleet: Fleet) -> None:
    engine = fleet.inspect_engine()
    try:
        with engine.connect() as conn:
            report = check_ledger(conn)
    finally:
        engine.dispose()
    assert report.ok, [f"{v.rule}: {v.detail}" for v in report.violations]


def test_a_customer_opened_at_one_terminal_is_served_at_the_other(fleet: Fleet) -> None:
    a, b = fleet.terminals["KIOSK-A"], fleet.terminals["KIOSK-B"]
    enrolled = np.linspace(-0.2, 0.2, 128)
    opened = a.host.open_account(
        api.OpeningOrder(
            idempotency_key=api.new_idempotency_key("SA"),
            name="李明华",
            id_number=NEW_CUSTOMER_ID,
            phone="13700001111",
            address="北京市东城区长安街1号",
            face_template=[float(x) for x in enrolled],
            account_kind="current",
        )
    )
    assert not opened.refused and opened.pan
    block = encrypt_pin_block(NEW_PIN, opened.pan, TEST_TDES_PIN_KEY)
    assert a.host.set_pin(opened.pan, block, block, "SA", api.new_idempotency_key("SA")).outcome == "ok"
    assert a.host.set_card_status(opened.card_id, "active", "issued", api.new_idempotency_key("SA")).ok

    # Terminal B, another data dir and credential, through the other host first.
    card = b.host.card_lookup(opened.pan)
    assert card.found and card.status == "active" and card.customer_id == opened.customer_id
    verified = b.host.verify_pin(
        opened.pan,
        encrypt_pin_block(NEW_PIN, opened.pan, TEST_TDES_PIN_KEY),
        "SB",
        api.new_idempotency_key("SB"),
    )
    assert verified.outcome == "ok"
    found = b.host.find_customer("phone", "13700001111")
    assert found.found and found.has_template and found.customer_id == opened.customer_id
    assert b.host.match_face(opened.customer_id, list(enrolled + 0.01)).outcome == "match"
    assert b.host.match_face(opened.customer_id, list(enrolled + 0.08)).outcome == "no_match"
    # Neither terminal's data dir holds the customer: no name, no ID number, no PAN.
    for services in (a, b):
        text = "".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in services.settings.data_dir.rglob("*")
            if p.is_file()
        )
        assert NEW_CUSTOMER_ID not in text and opened.pan not in text and "李明华" not in text
    _ledger_ok(fleet)


def test_transfers_racing_from_two_terminals_never_overdraw(fleet: Fleet) -> None:
    a = fleet.terminals["KIOSK-A"]
    payer = a.host.card_lookup(LIU_YANG_PAN)
    payee = a.host.card_lookup("43219876543210987")  # Wang Fang
    payee_account = a.host.accounts(payee.customer_id).accounts[0]
    answers: dict[str, list[api.TransferAnswer]] = {"KIOSK-A": [], "KIOSK-B": []}

    def race(terminal_id: str) -> None:
        services = fleet.terminals[terminal_id]
        for _ in range(12):
            order = api.TransferOrder(
                idempotency_key=api.new_idempotency_key(f"S{terminal_id[-1]}"),
                kind="customer",
                from_account_id=payer.account_id,
                payee_account=_number_of(fleet, payee_account.account_id),
                payee_name="王芳",
                amount_minor=10_00,
            )
            answers[terminal_id].append(services.host.transfer(order))

    threads = [threading.Thread(target=race, args=(t,)) for t in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    posted = [x for xs in answers.values() for x in xs if x.reference]
    refused = [x for xs in answers.values() for x in xs if x.refused]
    assert len(posted) == 8, ("¥88.00 pays eight ¥10.00 transfers, from whichever terminal", refused[:2])
    assert {x.refused for x in refused} == {"insufficient_funds"}, refused[:2]
    assert a.host.balance(payer.account_id).available_minor == 8_00
    _ledger_ok(fleet)


def test_a_host_killed_mid_transfer_loses_and_doubles_nothing(fleet: Fleet) -> None:
    a = fleet.terminals["KIOSK-A"]
    payer = a.host.card_lookup("43219876543210987")
    accounts = a.host.accounts(payer.customer_id).accounts
    other = next(x for x in accounts if x.account_id != payer.account_id)
    keys: list[str] = []
    answers: dict[str, api.TransferAnswer] = {}
    failures: list[str] = []
    started = threading.Event()

    def pay() -> None:
        for index in range(16):  # under the account's 20 kiosk transfers a day
            key = api.new_idempotency_key("SK")
            keys.append(key)
            order = api.TransferOrder(
                idempotency_key=key, kind="own", from_account_id=payer.account_id,
                to_account_id=other.account_id, amount_minor=1_00,
            )  # fmt: skip
            try:
                answers[key] = a.host.transfer(order)
            except HostUnavailable as exc:
                failures.append(f"{key}: {exc}")
            if index == 5:
                started.set()

    worker = threading.Thread(target=pay)
    worker.start()
    assert started.wait(60)
    fleet.hosts.processes[0].kill()  # SIGKILL: no clean shutdown, requests in flight on its connections
    worker.join(timeout=180)
    assert not worker.is_alive()
    assert failures == [], "the client fails over to the second host"
    # Each key posted exactly once, and its answer names that transfer.
    engine = fleet.inspect_engine()
    try:
        with engine.connect() as conn:
            rows = dict(
                conn.execute(
                    select(Transfer.idempotency_key, func.count())
                    .where(Transfer.idempotency_key.in_(keys))
                    .group_by(Transfer.idempotency_key)
                ).all()
            )
    finally:
        engine.dispose()
    assert [answers[k].refused for k in keys if answers[k].refused] == []
    assert set(rows) == set(keys) and set(rows.values()) == {1}
    assert all(answers[k].reference for k in keys)
    assert {a.host.transfer_state(k).status for k in keys} == {"posted"}
    _ledger_ok(fleet)


def _number_of(fleet: Fleet, account_id: int) -> str:
    from bank.models import Account

    engine = fleet.inspect_engine()
    try:
        with engine.connect() as conn:
            return str(conn.execute(select(Account.number).where(Account.id == account_id)).scalar_one())
    finally:
        engine.dispose()
