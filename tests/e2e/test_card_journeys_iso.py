"""Card journeys at the kiosk go over ISO 8583 to the host process, through a proxy that can lose answers.

What the host recorded (``host_iso_transactions``) shows which messages the journeys sent; the ledger and
the terminal's journal show that a lost 0210 ends in a reversal, a balanced ledger and a journal that
says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bank.terminals.models import IsoTransaction
from simulators.iso_proxy import IsoProxy


@pytest.fixture
def iso_proxy(bank_host: Any) -> Iterator[IsoProxy]:
    proxy = IsoProxy(bank_host.iso8583)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def iso8583_link(iso_proxy: IsoProxy) -> dict[str, Any]:
    """The terminal's ISO 8583 link goes through the proxy, with a short timeout (a lost answer is quick)."""
    return {"iso8583": [iso_proxy.address], "iso8583_timeout_s": 3.0}


def iso_requests(kiosk: Any) -> list[tuple[str, str, str]]:
    """(MTI, processing code, DE39) of every ISO request the host answered for this terminal."""
    with kiosk.host.runtime.sessions() as db:
        rows = db.scalars(select(IsoTransaction).order_by(IsoTransaction.id)).all()
        return [(r.mti, r.processing_code, r.response_code) for r in rows]


def own_transfer(kiosk: Any, amount: str) -> Any:
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "own"})
    own = kiosk.wait_screen("transfer_own_account")
    (account_id,) = own.account_buttons
    kiosk.act("account", {"value": account_id})
    kiosk.wait_screen("transfer_amount")
    kiosk.act("amount", {"value": amount})
    kiosk.wait_screen("transfer_confirm")
    kiosk.act("confirm")
    return account_id


def test_login_enquiry_and_transfer_are_iso8583_messages(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("balance")
    kiosk.wait_screen("balance")
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("yes")
    kiosk.wait_screen("services_menu")
    own_transfer(kiosk, "10.00")
    kiosk.wait_screen("transfer_result")
    sent = iso_requests(kiosk)
    assert ("0100", "960000", "00") in sent  # the PIN check
    assert ("0200", "310000", "00") in sent  # the balance enquiry
    assert ("0200", "400000", "00") in sent  # the transfer
    # The transfer was posted under the key the terminal journaled for it (recovery asks by that key).
    intents = [
        r for r in kiosk.app.services.journal.records() if r.kind == "intent" and r.event == "transfer"
    ]
    key = intents[-1].fields["idempotency_key"]
    assert kiosk.host.ledger.replay(key) is not None


def test_a_lost_transfer_answer_is_reversed_and_the_ledger_balances(kiosk: Any, iso_proxy: IsoProxy) -> None:
    kiosk.login()
    card = kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"])
    before = kiosk.bank.balance(card.account_id).ledger.minor
    iso_proxy.lose_answers("0210")
    own_transfer(kiosk, "25.00")
    kiosk.wait_for(lambda: kiosk.screen not in ("card_wait", "transfer_confirm"), timeout=30_000)
    assert len(iso_proxy.lost) == 1  # the host approved it; the answer never reached the terminal
    # The card link reverses at once (0420): the money is back, exactly once.
    kiosk.wait_for(lambda: kiosk.app.services.cardlink.pending_reversals() == [], timeout=30_000)
    assert kiosk.bank.balance(card.account_id).ledger.minor == before
    assert ("0420", "400000", "00") in iso_requests(kiosk)
    records = kiosk.app.services.journal.records()
    outcomes = [r for r in records if r.kind == "outcome"]
    assert any(r.fields.get("result") == "reversed" for r in outcomes)


def leave_and_log_in_with_the_new_pin(kiosk: Any) -> None:
    kiosk.act("ok")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    kiosk.login(pin="7391")  # the new PIN opens the next session
    kiosk.act("finish")
    kiosk.finish_and_take_card()


def test_a_lost_pin_change_answer_is_asked_again_and_the_host_changes_the_pin_once(
    kiosk: Any, iso_proxy: IsoProxy
) -> None:
    """A PIN change is not reversed: the very same message goes again, and the host answers that duplicate
    from its record (one row, acted on once): the customer is told the truth."""
    kiosk.login()
    iso_proxy.lose_answers("0210")
    kiosk.change_pin(kiosk.WANG_FANG_PIN, "7391")
    notice = kiosk.wait_screen("notice", timeout=30_000)
    assert notice.panel.title() == "Your PIN has been changed"
    assert len(iso_proxy.lost) == 1
    assert [r for r in iso_requests(kiosk) if r[1] == "920000"] == [("0200", "920000", "00")]
    leave_and_log_in_with_the_new_pin(kiosk)


def test_a_pin_change_no_copy_of_which_is_answered_is_reported_unconfirmed(
    kiosk: Any, iso_proxy: IsoProxy
) -> None:
    kiosk.login()
    iso_proxy.lose_answers("0210", then_everything=True)
    kiosk.change_pin(kiosk.WANG_FANG_PIN, "7391")
    notice = kiosk.wait_screen("notice", timeout=60_000)
    assert notice.panel.title() == "We could not confirm your PIN change"
    unconfirmed = [r for r in kiosk.app.services.journal.records() if r.event == "pin_change_unconfirmed"]
    assert len(unconfirmed) == 1 and unconfirmed[0].fields["pan_masked"] == "432198*******0987"
    # The host did act on the first copy; its answers were lost: the new PIN is the one that works.
    assert [r for r in iso_requests(kiosk) if r[1] == "920000"] == [("0200", "920000", "00")]
    iso_proxy.restore()
    leave_and_log_in_with_the_new_pin(kiosk)


def test_a_retained_card_advice_the_host_cannot_take_now_is_queued_without_the_pan_and_delivered_later(
    kiosk: Any, iso_proxy: IsoProxy
) -> None:
    kiosk.login()
    pan = kiosk.WANG_FANG["pan"]
    link = kiosk.app.services.cardlink
    iso_proxy.lose_requests("0120", then_everything=True)  # the host hears nothing from here on
    kiosk.act("finish")
    kiosk.wait_screen("card_take")
    kiosk.wait_screen("message", timeout=60_000)
    assert kiosk.outcome().status == "card_not_taken"
    assert kiosk.ctl("card_reader", "state")["retained"] == 1
    kiosk.wait_for(lambda: len(link.pending_advices()) == 1, timeout=30_000)
    queued = (link.state_dir / "advices.json").read_text()
    assert pan not in queued and pan[-4:] not in queued  # the card is named by its PIN check, not its PAN
    assert kiosk.bank.card_by_pan(pan).status == "active"
    iso_proxy.restore()
    kiosk.wait_for(lambda: link.pending_advices() == [], timeout=30_000)
    assert kiosk.bank.card_by_pan(pan).status == "retained"
    assert ("0121", "000000", "00") in iso_requests(kiosk)
