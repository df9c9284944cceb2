"""An account opening the process died in (no card issued, nothing voided) is undone at the next start;
a finished opening is never touched."""

from pathlib import Path

from app.recovery import void_unfinished_openings
from app.services import Services
from bank.models import Card, Customer
from bank.opening import AccountOpened, OpeningRequest
from bank.runtime import start_runtime
from kiosk.settings import load_settings


def _request(id_number: str, phone: str) -> OpeningRequest:
    return OpeningRequest(
        name="王小明",
        id_number=id_number,
        id_expiry=None,
        phone=phone,
        address="北京市东城区长安街1号",
        occupation="engineer",
    )


def test_unfinished_opening_is_voided_and_a_finished_one_kept(tmp_path: Path) -> None:
    runtime = start_runtime(load_settings(data_dir=tmp_path / "data"))
    services = Services.from_runtime(runtime)
    try:
        crashed = services.open_account(_request("11010519491231002X", "13800000001"))
        finished = services.open_account(_request("110101199003070011", "13800000002"))
        assert isinstance(crashed, AccountOpened) and isinstance(finished, AccountOpened)
        for opened in (crashed, finished):
            services.journal.record("account_opened", customer_id=opened.customer_id, card_id=opened.card_id)
        services.journal.record("card_issued", card_id=finished.card_id)

        assert void_unfinished_openings(services) == {crashed.card_id: "account_opening_voided"}
        with runtime.sessions() as session:
            assert session.get(Card, crashed.card_id) is None
            assert session.get(Customer, crashed.customer_id) is None
            assert session.get(Card, finished.card_id) is not None
        # The next start finds nothing more to do: the voiding closed the opening in the journal.
        assert void_unfinished_openings(services) == {}
        assert services.journal.verify().ok
    finally:
        services.close()
        runtime.close()


def test_an_opening_whose_card_was_already_used_is_refused_not_deleted(tmp_path: Path) -> None:
    runtime = start_runtime(load_settings(data_dir=tmp_path / "data"))
    services = Services.from_runtime(runtime)
    try:
        opened = services.open_account(_request("11010519491231002X", "13800000003"))
        assert isinstance(opened, AccountOpened)
        services.journal.record("account_opened", customer_id=opened.customer_id, card_id=opened.card_id)
        with runtime.sessions() as session, session.begin():
            card = session.get(Card, opened.card_id)
            assert card is not None
            card.status = "active"  # activated before the crash: the customer holds a working card
        assert void_unfinished_openings(services) == {opened.card_id: "account_opening_void_refused"}
        with runtime.sessions() as session:
            assert session.get(Card, opened.card_id) is not None
    finally:
        services.close()
        runtime.close()
