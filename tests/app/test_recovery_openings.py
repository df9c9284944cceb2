"""An account opening the process died in (no card issued, nothing voided) is undone at the next start by
the host; a finished opening is never touched."""

from pathlib import Path
from typing import Any

from app.recovery import void_unfinished_openings
from app.services import TerminalServices
from bank.models import Card, Customer
from hostlink import api
from kiosk.settings import load_settings


def _order(services: TerminalServices, id_number: str, phone: str) -> api.OpeningOrder:
    return api.OpeningOrder(
        idempotency_key=api.new_idempotency_key("TEST"),
        name="王小明",
        id_number=id_number,
        id_expiry=None,
        phone=phone,
        address="北京市东城区长安街1号",
        occupation="engineer",
        account_kind="current",
    )


def _services(tmp_path: Path, bank_host: Any) -> TerminalServices:
    bank_host.install_credential(tmp_path / "data")
    settings = load_settings(data_dir=tmp_path / "data", host={"urls": [bank_host.url]})
    return TerminalServices.start(settings, probe=False)


def test_unfinished_opening_is_voided_and_a_finished_one_kept(tmp_path: Path, bank_host: Any) -> None:
    services = _services(tmp_path, bank_host)
    try:
        crashed = services.host.open_account(_order(services, "110105198001010016", "13800000001"))
        finished = services.host.open_account(_order(services, "11010519850505002X", "13800000002"))
        assert not crashed.refused and not finished.refused
        for opened in (crashed, finished):
            services.journal.record(
                "account_opened",
                customer_id=opened.customer_id,
                account_id=opened.account_id,
                card_id=opened.card_id,
            )
        services.journal.record("card_issued", card_id=finished.card_id)

        assert void_unfinished_openings(services) == {crashed.card_id: "account_opening_voided"}
        with bank_host.inspect().runtime.sessions() as session:
            assert session.get(Card, crashed.card_id) is None
            assert session.get(Customer, crashed.customer_id) is None
            assert session.get(Card, finished.card_id) is not None
        # The next start finds nothing more to do: the voiding closed the opening in the journal.
        assert void_unfinished_openings(services) == {}
        assert services.journal.verify().ok
    finally:
        services.close()


def test_an_opening_whose_card_was_already_used_is_refused_not_deleted(
    tmp_path: Path, bank_host: Any
) -> None:
    services = _services(tmp_path, bank_host)
    try:
        opened = services.host.open_account(_order(services, "110105199009090035", "13800000003"))
        assert not opened.refused
        # Journaled without the account id, as terminals before the host split did: the host finds it.
        services.journal.record("account_opened", customer_id=opened.customer_id, card_id=opened.card_id)
        with bank_host.inspect().runtime.sessions() as session, session.begin():
            card = session.get(Card, opened.card_id)
            assert card is not None
            card.status = "active"  # activated before the crash: the customer holds a working card
        assert void_unfinished_openings(services) == {opened.card_id: "account_opening_void_refused"}
        with bank_host.inspect().runtime.sessions() as session:
            assert session.get(Card, opened.card_id) is not None
    finally:
        services.close()
