"""The host's switch link against a real switch simulator on loopback: other-bank transfers held as
pending are forwarded as 0200s and posted or voided by the answer; a missing answer is reversed (0420,
0421 …) and the reversal wins over a late answer; two links on one database never forward twice; a
switch that is down leaves transfers pending until it is back.

Timeouts are short (the link's), waits are long (the test's): every check polls up to WAIT_S."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from bank.check import check_ledger
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.ledger import Ledger, TransferOutcome
from bank.ledger.sql import TRANSFERS
from bank.models import TransferStatus, utcnow
from bank.security.vault import Vault
from bank.seed import seed_bank
from bank.service import BankService
from bank.settings import HostSettings, SwitchSettings
from bank.switch import ForwardingState, SwitchForwarding, SwitchLink, start_switch_link
from bank.switch.messages import REVERSAL_REASON, payee_name_field, stan_for
from bank.switch.reversal import SwitchReversal, reverse_forwarded
from devices.simcontrol import ControlClient
from hostlink.iso8583 import profile as p
from hostlink.money import Money
from simulators.switch import TEST_ZAK, SwitchServer, make_server

WAIT_S = 30.0
WANG_PAN = "43219876543210987"
FORWARDING = cast(Table, SwitchForwarding.__table__)


# -- fixtures and helpers --------------------------------------------------------------------------------


@pytest.fixture
def switch() -> Iterator[SwitchServer]:
    server = make_server().start()
    yield server
    server.close()


@pytest.fixture
def ctl(switch: SwitchServer) -> ControlClient:
    return ControlClient(switch.control.address)


@pytest.fixture
def links() -> Iterator[Callable[..., SwitchLink]]:
    """Makes started links; every one is closed (its thread joined) at the end."""
    made: list[SwitchLink] = []

    def make(engine: Engine, address: str, **settings: Any) -> SwitchLink:
        # Answers are expected well within 5 s, however busy the machine; tests of lost answers shorten it.
        values: dict[str, Any] = {"address": address, "timeout_s": 5.0, "reversal_retry_s": 0.25}
        values.update(settings)
        link = SwitchLink(engine, Ledger(engine), SwitchSettings(**values), poll_s=0.05)
        made.append(link)
        return link.start()

    yield make
    for link in made:
        link.close()
        assert not link._thread.is_alive()


def wait_for(what: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = what()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def hold(
    engine: Engine,
    vault: Vault,
    *,
    bank_code: str = "105",
    payee: str = "6227001234567890",
    name: str = "赵磊",
    minor: int = 10_000,
) -> int:
    """An other-bank transfer from Wang Fang, held as pending; its id."""
    bank = BankService(engine, vault, kiosk_id="KIOSK-T1")
    card = bank.card_by_pan(WANG_PAN)
    assert card is not None
    result = bank.transfer_other_bank(uuid.uuid4().hex, card.account_id, bank_code, payee, name, Money(minor))
    assert isinstance(result, TransferOutcome) and result.status is TransferStatus.PENDING
    bank.ledger.close()
    return result.transfer_id


def ledger_state(engine: Engine, transfer_id: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(TRANSFERS.c.status, TRANSFERS.c.void_reason).where(TRANSFERS.c.id == transfer_id)
        ).one()
    return str(row.status), row.void_reason


def forwarding(engine: Engine, transfer_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(FORWARDING).where(FORWARDING.c.transfer_id == transfer_id)).first()


def settled(engine: Engine, transfer_id: int, status: str) -> Callable[[], bool]:
    return lambda: ledger_state(engine, transfer_id)[0] == status


def wire_log(ctl: ControlClient) -> list[tuple[str, str]]:
    return [
        (m["direction"], m["mti"]) for m in ctl.call("state")["messages"] if m["mti"] not in ("0800", "0810")
    ]


def assert_books_balance(engine: Engine) -> None:
    with engine.connect() as conn:
        assert check_ledger(conn).ok


# -- approve, decline ------------------------------------------------------------------------------------


def test_approved_transfer_is_posted(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    transfer_id = hold(seeded, vault)
    link = links(seeded, switch.address)
    assert wait_for(settled(seeded, transfer_id, "posted"))
    row = forwarding(seeded, transfer_id)
    assert (row.state, row.response_code, row.attempts, row.stan) == (
        "approved",
        "00",
        1,
        stan_for(transfer_id),
    )
    state = ctl.call("state")
    assert state["transfers"] == {"approved": 1, "declined": 0, "reversed": 0}
    assert state["received"]["0800"] == 1 and state["received"]["0200"] == 1  # sign-on, then the transfer
    assert link.stats()["approved"] == 1 and link.connected
    assert_books_balance(seeded)


def test_declines_void_with_the_code_meaning(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    closed = hold(seeded, vault, bank_code="102", payee="6222020000000000")
    unknown_bank = hold(seeded, vault, bank_code="999", payee="6222020000001234")
    links(seeded, switch.address)
    assert wait_for(lambda: all(ledger_state(seeded, t)[0] == "voided" for t in (closed, unknown_bank)))
    assert ledger_state(seeded, closed) == ("voided", p.RESPONSE_CODES["14"])
    assert ledger_state(seeded, unknown_bank) == ("voided", p.RESPONSE_CODES["91"])
    ctl.call("decline", code="51")
    declined = hold(seeded, vault)
    assert wait_for(settled(seeded, declined, "voided"))
    assert ledger_state(seeded, declined) == ("voided", "insufficient funds")
    assert (
        forwarding(seeded, declined).state == "declined"
        and forwarding(seeded, declined).response_code == "51"
    )
    assert_books_balance(seeded)


# -- no answer: the reversal -----------------------------------------------------------------------------


def test_timeout_leaves_it_pending_then_the_reversal_voids_it(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    ctl.call("timeout")  # the switch answers nothing: not the 0200, not the reversals
    transfer_id = hold(seeded, vault)
    links(seeded, switch.address, timeout_s=0.3)
    assert wait_for(lambda: ctl.call("state")["received"].get("0421", 0) >= 2)
    assert ledger_state(seeded, transfer_id) == ("pending", None)  # held until the switch confirms
    assert forwarding(seeded, transfer_id).state == "reversing"
    ctl.call("clear_faults")  # back: the next 0421 is answered
    assert wait_for(settled(seeded, transfer_id, "voided"))
    assert ledger_state(seeded, transfer_id) == ("voided", REVERSAL_REASON)
    row = forwarding(seeded, transfer_id)
    assert row.state == "reversed" and row.attempts >= 4  # 0200, 0420, 0421, 0421 …
    state = ctl.call("state")
    assert state["received"]["0200"] == 1 and state["received"]["0420"] == 1
    assert state["received"]["0421"] >= 3 and state["sent"]["0430"] >= 1
    wire = wire_log(ctl)
    assert wire[:3] == [("in", "0200"), ("in", "0420"), ("in", "0421")]
    first_answer = wire.index(("out", "0430"))
    assert wire[first_answer - 1] == ("in", "0421") and ("out", "0210") not in wire
    assert_books_balance(seeded)


def test_late_answer_after_the_reversal_started_changes_nothing(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    """The switch approves but answers after the host's timeout: the host has sent its 0420 by then, the
    approval that arrives finds the row "reversing" and is ignored; the 0430 voids the hold."""
    ctl.call("script", modes=[{"mode": "late", "seconds": 3.0}])  # 10 x the host's timeout
    transfer_id = hold(seeded, vault)
    link = links(seeded, switch.address, timeout_s=0.3)
    assert wait_for(lambda: link.stats().get("late_answers", 0) == 1)
    assert wait_for(settled(seeded, transfer_id, "voided"))
    assert ledger_state(seeded, transfer_id) == ("voided", REVERSAL_REASON)  # never posted
    assert forwarding(seeded, transfer_id).state == "reversed"
    stats = link.stats()
    assert stats.get("approved", 0) == 0 and stats["reversed"] == 1 and stats["timeouts"] == 1
    wire = wire_log(ctl)
    assert wire.index(("in", "0420")) < wire.index(("out", "0210")) < wire.index(("out", "0430"))
    assert ctl.call("state")["transfers"] == {"approved": 0, "declined": 0, "reversed": 1}
    time.sleep(0.3)  # a few more rounds: nothing moves any more
    assert (
        ledger_state(seeded, transfer_id)[0] == "voided"
        and forwarding(seeded, transfer_id).state == "reversed"
    )
    assert_books_balance(seeded)


# -- the terminal reverses (its 0420 to the host): the switch is told too ---------------------------------


def wang_balance(engine: Engine, vault: Vault) -> int:
    bank = BankService(engine, vault, kiosk_id="KIOSK-T1")
    card = bank.card_by_pan(WANG_PAN)
    assert card is not None
    balance = bank.balance(card.account_id)
    bank.ledger.close()
    return int(balance.ledger.minor)  # type: ignore[union-attr]


def test_a_terminal_reversal_of_an_approved_transfer_reverses_it_at_the_switch_and_compensates(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    before = wang_balance(seeded, vault)
    transfer_id = hold(seeded, vault)
    link = links(seeded, switch.address)
    assert wait_for(settled(seeded, transfer_id, "posted"))
    assert wang_balance(seeded, vault) == before - 10_000 - 200  # the amount and the other-bank fee
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.AT_SWITCH
    assert wait_for(lambda: forwarding(seeded, transfer_id).state == "reversed")
    assert wait_for(lambda: wang_balance(seeded, vault) == before)  # the mirror and the fee refund
    assert ctl.call("state")["transfers"] == {"approved": 0, "declined": 0, "reversed": 1}
    assert ("in", "0420") in wire_log(ctl)
    assert ledger_state(seeded, transfer_id)[0] == "posted"  # kept, with its mirror beside it
    assert link.stats().get("ledger_refusals", 0) == 0
    # A second reversal of the same transfer (an 0421 from the terminal) does nothing more.
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.NOTHING
    assert wang_balance(seeded, vault) == before
    assert_books_balance(seeded)


def test_a_terminal_reversal_while_the_switch_has_not_answered_wins_over_its_late_approval(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    """Before: the host voided the hold, the late 0210 00 then found nothing to post, and the other bank
    kept the money the customer had been given back."""
    before = wang_balance(seeded, vault)
    ctl.call("script", modes=[{"mode": "late", "seconds": 2.0}])
    transfer_id = hold(seeded, vault)
    link = links(seeded, switch.address, timeout_s=10.0)
    assert wait_for(lambda: getattr(forwarding(seeded, transfer_id), "state", None) == "sent")
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.AT_SWITCH
    assert wait_for(settled(seeded, transfer_id, "voided"))
    assert wait_for(lambda: link.stats().get("late_answers", 0) == 1)
    assert forwarding(seeded, transfer_id).state == "reversed"
    assert ctl.call("state")["transfers"] == {"approved": 0, "declined": 0, "reversed": 1}
    assert wang_balance(seeded, vault) == before and link.stats().get("ledger_refusals", 0) == 0
    assert_books_balance(seeded)


def test_a_terminal_reversal_before_the_transfer_was_sent_voids_it_here_and_nothing_goes_out(
    seeded: Engine, vault: Vault
) -> None:
    transfer_id = hold(seeded, vault)
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.NOT_FORWARDED  # no row yet
    with seeded.begin() as conn:
        conn.execute(
            FORWARDING.insert().values(transfer_id=transfer_id, state="new", attempts=0, updated_at=utcnow())
        )
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.VOID_HERE
    assert forwarding(seeded, transfer_id).state == "reversed"
    assert reverse_forwarded(seeded, transfer_id, utcnow) is SwitchReversal.NOTHING


def test_a_sent_transfer_whose_host_is_gone_is_reversed_by_another(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    """A row left "sent" (its host died after the 0200) is reversed once it is older than the timeout and
    a margin; the reversal of something the switch never saw is answered 00 and voids the hold."""
    transfer_id = hold(seeded, vault)
    from datetime import UTC, datetime, timedelta

    with seeded.begin() as conn:
        conn.execute(
            FORWARDING.insert().values(
                transfer_id=transfer_id,
                stan=stan_for(transfer_id),
                transmission_time="1203085210",
                state="sent",
                attempts=1,
                updated_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
    link = links(seeded, switch.address)
    assert wait_for(settled(seeded, transfer_id, "voided"))
    assert link.stats()["taken_over"] == 1 and forwarding(seeded, transfer_id).state == "reversed"
    state = ctl.call("state")
    assert state["received"].get("0200", 0) == 0 and state["counts"]["reversals_of_unknown"] >= 1


# -- two links, one database -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, vault: Vault, pvv_for: Any) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        engine = make_engine(url)
        upgrade(engine)
    else:
        url = request.getfixturevalue("pg_database")
        engine = make_engine(url)
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=pvv_for)
    engine.dispose()
    yield url


def test_two_links_on_one_database_never_forward_twice(
    database_url: str, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    one, two = make_engine(database_url), make_engine(database_url)  # two host processes' engines
    try:
        count = 12
        ids = [hold(one, vault, minor=1_000 + n) for n in range(count)]
        first, second = links(one, switch.address), links(two, switch.address)
        assert wait_for(lambda: all(ledger_state(one, t)[0] == "posted" for t in ids))
        state = ctl.call("state")
        assert state["received"]["0200"] == count and state["counts"].get("duplicates", 0) == 0
        assert state["transfers"] == {"approved": count, "declined": 0, "reversed": 0}
        assert first.stats().get("forwarded", 0) + second.stats().get("forwarded", 0) == count
        assert {forwarding(one, t).state for t in ids} == {"approved"}
        assert {forwarding(one, t).attempts for t in ids} == {1}
        assert_books_balance(one)
    finally:
        for link in (first, second):
            link.close()
        one.dispose()
        two.dispose()


def test_a_race_with_timeouts_posts_or_voids_each_transfer_once(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    """Every other answer lost, two links: each transfer ends posted or voided, its forwarding row agrees,
    and the switch saw its 0200 once."""
    count = 8
    ctl.call("script", modes=["approve", "timeout"] * count)
    ids = [hold(seeded, vault, minor=500 + n) for n in range(count)]
    other = make_engine(str(seeded.url))
    try:
        links(seeded, switch.address, timeout_s=0.3)
        links(other, switch.address, timeout_s=0.3)
        assert wait_for(lambda: all(ledger_state(seeded, t)[0] != "pending" for t in ids))
        for transfer_id in ids:
            status, _ = ledger_state(seeded, transfer_id)
            expected = {"posted": "approved", "voided": "reversed"}[status]
            assert forwarding(seeded, transfer_id).state == expected
        assert ctl.call("state")["received"]["0200"] == count
        assert_books_balance(seeded)
    finally:
        other.dispose()


# -- the switch down, the wrong key ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_switch_down_leaves_transfers_pending_and_retries(seeded: Engine, vault: Vault, links: Any) -> None:
    port = free_port()
    transfer_id = hold(seeded, vault)
    link = links(seeded, f"127.0.0.1:{port}")
    assert wait_for(lambda: link.stats().get("connect_failures", 0) >= 3)  # refused, retried, refused …
    assert ledger_state(seeded, transfer_id) == ("pending", None)
    assert forwarding(seeded, transfer_id).state == "new" and not link.connected
    server = make_server(port=port).start()
    try:
        assert wait_for(settled(seeded, transfer_id, "posted"))
        assert forwarding(seeded, transfer_id).state == "approved"
    finally:
        link.close()
        server.close()


def test_the_wrong_zak_never_forwards(
    seeded: Engine, vault: Vault, switch: SwitchServer, ctl: ControlClient, links: Any
) -> None:
    transfer_id = hold(seeded, vault)
    link = links(seeded, switch.address, timeout_s=0.3, zak_hex=bytes(reversed(TEST_ZAK)).hex())
    assert wait_for(lambda: ctl.call("state")["counts"].get("mac_failures", 0) >= 2)  # each sign-on: A0
    assert not link.connected and link.stats().get("bad_mac", 0) >= 1
    assert ledger_state(seeded, transfer_id) == ("pending", None)
    assert ctl.call("state")["received"].get("0200", 0) == 0


# -- the wiring, settings, the wire ----------------------------------------------------------------------


def test_start_switch_link_is_none_without_an_address() -> None:
    host = SimpleNamespace(settings=HostSettings(data_dir=Path("/tmp/unused")))
    assert start_switch_link(host) is None  # type: ignore[arg-type]


def test_start_switch_link_starts_and_closes(seeded: Engine, switch: SwitchServer) -> None:
    settings = HostSettings(data_dir=Path("/tmp/unused"), switch=SwitchSettings(address=switch.address))
    host = SimpleNamespace(settings=settings, engine=seeded, ledger=Ledger(seeded), clock=utcnow)
    link = start_switch_link(host)  # type: ignore[arg-type]
    assert link is not None
    try:
        assert wait_for(lambda: link.connected)
    finally:
        link.close()
    assert not link._thread.is_alive()


def test_settings_hide_the_zak_and_check_it() -> None:
    settings = HostSettings(data_dir=Path("/tmp/unused"))
    assert (
        settings.switch.address == ""
        and settings.switch.timeout_s == 5
        and settings.switch.reversal_retry_s == 2
    )
    assert settings.switch.acquirer_id == "99900000001"
    assert bytes.fromhex(settings.switch.zak_hex.get_secret_value()) == TEST_ZAK  # the documented test key
    assert TEST_ZAK.hex().upper() not in repr(settings.redacted()).upper()
    bad: list[dict[str, Any]] = [
        {"zak_hex": "00"},
        {"zak_hex": "zz" * 16},
        {"address": "x"},
        {"acquirer_id": "1a"},
    ]
    for values in bad:
        with pytest.raises(ValueError):
            SwitchSettings(**values)


def test_payee_name_travels_percent_encoded(
    seeded: Engine, vault: Vault, switch: SwitchServer, links: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert payee_name_field("赵磊") == "%E8%B5%B5%E7%A3%8A"
    assert payee_name_field("Zhao; Lei=") == "Zhao%3B Lei%3D"
    caplog.set_level(logging.DEBUG)
    transfer_id = hold(seeded, vault)
    links(seeded, switch.address)
    assert wait_for(settled(seeded, transfer_id, "posted"))
    text = caplog.text
    assert "0001100000010014" not in text and "6227001234567890" not in text  # no account in any line
    assert "0200" in text


def test_forwarding_states_are_the_documented_ones() -> None:
    assert [s.value for s in ForwardingState] == [
        "new",
        "sent",
        "approved",
        "declined",
        "reversing",
        "reversed",
    ]
