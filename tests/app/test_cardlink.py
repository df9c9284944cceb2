"""The terminal's ISO 8583 card link against a real host process and the simulated PIN pad.

The PIN pad (simulator, through the real driver) unwraps the host's TR-31 key blocks and computes every
MAC; the test never holds a session key. A proxy between terminal and host (simulators/iso_proxy.py) loses
answers, which is how a lost 0210 is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.cardlink import PinPadSecurity
from devices.base import DeviceState
from devices.pin_pad.driver import PinPadDriver
from devices.simcontrol import ControlClient
from hostlink.iso8583 import profile as p
from hostlink.tdes import kcv
from kiosk.cardlink import CardLink, CardLinkUnavailable, KeyExchangeError
from simulators.iso_proxy import IsoProxy
from simulators.pin_pad import make_server

WANG_FANG_PAN, WANG_FANG_EXPIRY, WANG_FANG_PIN = "43219876543210987", "3012", "1234"
TERMINAL_ID = "KIOSK-0001"


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@dataclass
class Rig:
    host: Any
    pad: PinPadDriver
    ctl: ControlClient
    link: CardLink
    proxy: IsoProxy
    state_dir: Path

    def pin_block(self, pin: str, pan: str = WANG_FANG_PAN) -> bytes:
        operation = self.pad.get_pin(4, 6, 20, pan)
        assert wait_until(lambda: self.ctl.call("state")["mode"] == "pin")
        self.ctl.call("press_keys", keys=pin + "E")
        result = operation.result(20)
        assert result.ok, result.detail
        assert result.value is not None
        return result.value

    def account_id(self) -> int:
        card = self.host.bank().card_by_pan(WANG_FANG_PAN)
        return int(card.account_id)

    def balance_minor(self, account_id: int) -> int:
        return int(self.host.bank().balance(account_id).ledger.minor)


@pytest.fixture
def rig(bank_host: Any, tmp_path: Path) -> Iterator[Rig]:
    server = make_server(seed=0).start()
    pad = PinPadDriver(server.url, reply_timeout=2.0)
    pad.start()
    proxy = IsoProxy(bank_host.iso8583)
    link = CardLink([proxy.address], TERMINAL_ID, PinPadSecurity(pad), tmp_path / "cardlink", timeout_s=3)
    try:
        assert wait_until(lambda: pad.status().state is DeviceState.ONLINE)
        yield Rig(bank_host, pad, ControlClient(server.describe()["control"]), link, proxy, tmp_path)
    finally:
        link.close()
        proxy.close()
        pad.close()
        server.close()


def test_sign_on_puts_the_hosts_session_keys_into_the_pin_pad_only(rig: Rig) -> None:
    rig.link.sign_on()
    status = rig.pad.key_status().result(5)
    assert status.ok and status.value is not None
    keys = rig.host.inspect().terminal_keys.session(TERMINAL_ID)
    assert (status.value.tpk, status.value.tak) == (kcv(keys.tpk), kcv(keys.tak))
    assert status.value.tmk == "0385D4"  # the simulator's documented test TMK


def test_a_real_pin_pad_refuses_keys_wrapped_under_the_documented_test_master_key(
    rig: Rig, tmp_path: Path
) -> None:
    """The host enrolled this terminal with --test-tmk; a terminal whose PIN pad is real hardware must not
    sign on with it (anyone can unwrap its PIN key from a recorded 0810), and loads no key."""
    before = rig.pad.key_status().result(5)
    hardware = CardLink(
        [rig.proxy.address], TERMINAL_ID, PinPadSecurity(rig.pad), tmp_path / "hardware", timeout_s=3,
        refuse_test_master_key=True,
    )  # fmt: skip
    try:
        with pytest.raises(KeyExchangeError, match="documented test master key, but the PIN pad is real"):
            hardware.sign_on()
    finally:
        hardware.close()
    after = rig.pad.key_status().result(5)
    assert after.ok and before.ok and after.value == before.value  # no working key was loaded


def test_pin_check_over_iso8583_right_then_wrong(rig: Rig) -> None:
    rig.link.sign_on()  # the terminal signs on at start: PIN blocks are under the session TPK
    right = rig.link.verify_pin(WANG_FANG_PAN, WANG_FANG_EXPIRY, rig.pin_block(WANG_FANG_PIN))
    assert right.code == "00", right.extra
    wrong = rig.link.verify_pin(WANG_FANG_PAN, WANG_FANG_EXPIRY, rig.pin_block("9999"))
    assert wrong.code == "55"
    assert wrong.extra["tries_left"] == "2"


def test_balance_enquiry_carries_the_accounts_amounts(rig: Rig) -> None:
    account = rig.account_id()
    answer = rig.link.balance(WANG_FANG_PAN, WANG_FANG_EXPIRY, account)
    assert answer.approved
    balances = str(answer.fields[p.BALANCES])
    assert len(balances) == 40
    assert int(balances[8:20]) == rig.balance_minor(account)
    assert balances[:4] == "0001" and balances[20:24] == "0002"


def own_accounts(rig: Rig) -> tuple[int, int]:
    card = rig.host.bank().card_by_pan(WANG_FANG_PAN)
    accounts = [a.account_id for a in rig.host.bank().accounts_of_customer(card.customer_id)]
    assert len(accounts) >= 2, "Wang Fang has a current and a savings account in the seed bank"
    first = int(card.account_id)
    return first, next(a for a in accounts if a != first)


def test_a_lost_answer_is_reversed_and_the_ledger_balances(rig: Rig) -> None:
    source, target = own_accounts(rig)
    before = (rig.balance_minor(source), rig.balance_minor(target))
    rig.proxy.lose_answers("0210")
    with pytest.raises(CardLinkUnavailable):
        rig.link.transfer(
            WANG_FANG_PAN, WANG_FANG_EXPIRY, kind="own", from_account_id=source, to_account_id=target,
            amount_minor=1_000,
        )  # fmt: skip
    assert len(rig.proxy.lost) == 1  # the host did answer: approved, and the answer was lost
    # The link reconnects and reverses at once (or its background retry does).
    assert wait_until(lambda: rig.link.send_pending_reversals() == 0)
    assert (rig.balance_minor(source), rig.balance_minor(target)) == before


def test_the_terminal_reverses_what_it_could_not_finish_exactly_once(rig: Rig) -> None:
    source, target = own_accounts(rig)
    before = (rig.balance_minor(source), rig.balance_minor(target))
    answer = rig.link.transfer(
        WANG_FANG_PAN, WANG_FANG_EXPIRY, kind="own", from_account_id=source, to_account_id=target,
        amount_minor=2_500,
    )  # fmt: skip
    assert answer.approved, answer.extra
    assert rig.balance_minor(source) == before[0] - 2_500
    assert rig.link.reverse(answer, "receipt_failed")
    assert rig.link.reverse(answer, "receipt_failed")  # said twice: undone once
    assert (rig.balance_minor(source), rig.balance_minor(target)) == before


def test_a_reversal_queued_before_a_kill_is_sent_by_the_next_start(rig: Rig, tmp_path: Path) -> None:
    source, target = own_accounts(rig)
    before = rig.balance_minor(source)
    # The host posts and its answer is lost; so is every answer after it, so the link's own reversal
    # attempt fails too: the reversal waits in the state dir, as after a kill mid-exchange.
    rig.proxy.lose_answers("0210", then_everything=True)
    with pytest.raises(CardLinkUnavailable):
        rig.link.transfer(
            WANG_FANG_PAN, WANG_FANG_EXPIRY, kind="own", from_account_id=source, to_account_id=target,
            amount_minor=700, idempotency_key="S42:0123abcd",
        )  # fmt: skip
    # The host posted it, and took the link's 0420 too (only its 0430 was lost): the terminal cannot
    # know that, so the reversal stays queued.
    queued = rig.link.pending_reversals()
    assert len(queued) == 1 and queued[0].attempts == 1
    # With the original's key, which a host that died before recording its answer can still undo by.
    assert queued[0].key == "S42:0123abcd"
    rig.link.close()
    rig.proxy.restore()
    # "Restart": a new link on the same state dir delivers it as a 0421; the host undoes once only.
    restarted = CardLink(
        [rig.proxy.address], TERMINAL_ID, PinPadSecurity(rig.pad), tmp_path / "cardlink", timeout_s=3
    )
    try:
        assert restarted.send_pending_reversals() == 0
    finally:
        restarted.close()
    assert rig.balance_minor(source) == before


def test_the_local_time_fields_are_bank_time_not_machine_time(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from typing import cast
    from zoneinfo import ZoneInfo

    instant = datetime(2026, 7, 5, 23, 16, 36, tzinfo=UTC)  # already the 6th in Shanghai
    link = CardLink(
        ["127.0.0.1:9"],
        TERMINAL_ID,
        PinPadSecurity(cast(Any, None)),  # never asked: no message leaves
        tmp_path / "cardlink",
        clock=lambda: instant,
        local_zone=ZoneInfo("Asia/Shanghai"),
    )
    fields = link._base("0200")
    assert (fields[p.LOCAL_DATE], fields[p.LOCAL_TIME]) == ("0706", "071636")
    assert p.transmission_time(instant) == fields[p.TRANSMISSION_DATETIME]  # DE7 stays UTC
