"""The host's front door: signed requests, replay and revocation, typed refusals for bad input, idempotency.

The API runs in this process (Starlette's test client speaks to the ASGI app) on a seeded SQLite bank;
requests are built by hand, as an attacker or a sloppy client would, not only through our client.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bank.api.app import BodyLimit, create_app
from bank.host import Host
from bank.models import Transfer
from bank.settings import load_host_settings
from hostlink import api, signing
from kiosk.hostclient import Credential, HostClient, HostRefused

WANG_FANG_PAN = "43219876543210987"


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    bank_host = Host.start(load_host_settings(data_dir=tmp_path / "host"))
    bank_host.seed_if_empty()
    yield bank_host
    bank_host.close()


@pytest.fixture
def client(host: Host) -> Iterator[TestClient]:
    with TestClient(BodyLimit(create_app(host), host.settings.api.max_body_bytes)) as test_client:
        yield test_client


@pytest.fixture
def credential(host: Host) -> Credential:
    return Credential(*signing.decode_credential(host.registry.enrol("KIOSK-0001")))


def signed(
    credential: Credential,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    nonce: str | None = None,
    ts: int | None = None,
) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    nonce = nonce or signing.new_nonce()
    return {
        "content-type": "application/json",
        signing.TERMINAL_HEADER: credential.terminal_id,
        signing.TIMESTAMP_HEADER: timestamp,
        signing.NONCE_HEADER: nonce,
        signing.SIGNATURE_HEADER: signing.sign(
            credential.secret, method, path, credential.terminal_id, timestamp, nonce, body
        ),
    }


def refusal_of(response: httpx.Response) -> str:
    return str(response.json()["refusal"]["code"])


def host_client(client: TestClient, credential: Credential) -> HostClient:
    """Our own client, over the test client's transport (the same ASGI app, no socket)."""
    return HostClient(["http://testserver"], credential, transport=client._transport, attempts=1)


def test_a_signed_request_is_served_and_the_journal_head_is_kept(
    client: TestClient, credential: Credential, host: Host
) -> None:
    body = json.dumps({"pan": WANG_FANG_PAN}).encode()
    headers = signed(credential, "POST", "/v1/cards/lookup", body)
    headers[signing.JOURNAL_HEAD_HEADER] = "7:" + "ab" * 32
    response = client.post("/v1/cards/lookup", content=body, headers=headers)
    assert response.status_code == 200
    card = api.CardInfo.model_validate(response.json())
    assert card.found and card.has_pin and card.account_masked.startswith("****")
    assert host.registry.checkpoints("KIOSK-0001") == [(7, "ab" * 32)]


@pytest.mark.parametrize(
    ("tamper", "code", "status"),
    [
        ("unsigned", "unauthenticated", 401),
        ("unknown_terminal", "unknown_terminal", 401),
        ("bad_signature", "bad_signature", 401),
        ("body_changed", "bad_signature", 401),
        ("stale", "stale_request", 401),
    ],
)
def test_unauthenticated_requests_are_refused_and_recorded(
    client: TestClient, credential: Credential, host: Host, tamper: str, code: str, status: int
) -> None:
    body = json.dumps({"pan": WANG_FANG_PAN}).encode()
    headers = signed(
        credential,
        "POST",
        "/v1/cards/lookup",
        body,
        ts=int(time.time()) - 3600 if tamper == "stale" else None,
    )
    if tamper == "unsigned":
        headers = {"content-type": "application/json"}
    elif tamper == "unknown_terminal":
        other = Credential("KIOSK-9999", signing.new_secret())
        headers = signed(other, "POST", "/v1/cards/lookup", body)
    elif tamper == "bad_signature":
        headers[signing.SIGNATURE_HEADER] = "A" * 43
    elif tamper == "body_changed":
        body = json.dumps({"pan": "6212340000004045"}).encode()
    response = client.post("/v1/cards/lookup", content=body, headers=headers)
    assert (response.status_code, refusal_of(response)) == (status, code)
    assert [e["code"] for e in host.audit.events("api_refused")] == [code]


def test_a_replayed_request_and_a_revoked_terminal_are_refused(
    client: TestClient, credential: Credential, host: Host
) -> None:
    body = json.dumps({"pan": WANG_FANG_PAN}).encode()
    headers = signed(credential, "POST", "/v1/cards/lookup", body)
    assert client.post("/v1/cards/lookup", content=body, headers=headers).status_code == 200
    again = client.post("/v1/cards/lookup", content=body, headers=headers)
    assert (again.status_code, refusal_of(again)) == (409, "replayed_request")
    host.registry.revoke("KIOSK-0001")
    fresh = client.post(
        "/v1/cards/lookup", content=body, headers=signed(credential, "POST", "/v1/cards/lookup", body)
    )
    assert (fresh.status_code, refusal_of(fresh)) == (403, "terminal_revoked")


def test_terminal_ids_are_unique(host: Host) -> None:
    from bank.terminals.service import EnrolmentError

    host.registry.enrol("KIOSK-0002")
    with pytest.raises(EnrolmentError, match="already enrolled"):
        host.registry.enrol("KIOSK-0002")
    with pytest.raises(EnrolmentError, match="must be 1-32"):
        host.registry.enrol("bad id with spaces")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"pan": ', "JSON decode error"),
        (b'{"pan": 4321}', "pan"),
        (b'{"pan": "43219876543210987", "extra": 1}', "extra"),
        (b"[]", "valid dictionary"),
        (b'{"pan": "12AB"}', "pan"),
    ],
)
def test_malformed_bodies_get_a_typed_refusal(
    client: TestClient, credential: Credential, body: bytes, message: str
) -> None:
    response = client.post(
        "/v1/cards/lookup", content=body, headers=signed(credential, "POST", "/v1/cards/lookup", body)
    )
    assert response.status_code == 400
    assert refusal_of(response) == "bad_request"
    assert message.lower() in response.json()["refusal"]["message"].lower()


def test_an_oversized_body_is_refused_before_it_is_read(
    client: TestClient, credential: Credential, host: Host
) -> None:
    body = b'{"pan": "' + b"1" * (host.settings.api.max_body_bytes + 10) + b'"}'
    response = client.post(
        "/v1/cards/lookup", content=body, headers=signed(credential, "POST", "/v1/cards/lookup", body)
    )
    assert (response.status_code, refusal_of(response)) == (413, "body_too_large")


def _transfer_count(host: Host, key: str) -> int:
    with host.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Transfer).where(Transfer.idempotency_key == key)
            ).scalar_one()
        )


def test_a_repeated_transfer_posts_once_and_a_reused_key_is_refused(
    client: TestClient, credential: Credential, host: Host
) -> None:
    hc = host_client(client, credential)
    card = hc.card_lookup(WANG_FANG_PAN)
    accounts = hc.accounts(card.customer_id).accounts
    own = [a for a in accounts if a.account_id != card.account_id]
    assert own, "the seed gives Wang Fang two accounts"
    order = api.TransferOrder(
        idempotency_key="S-TEST:0001",
        kind="own",
        from_account_id=card.account_id,
        to_account_id=own[0].account_id,
        amount_minor=1_00,
    )
    first = hc.transfer(order)
    second = hc.transfer(order)  # a retry after a lost answer
    assert first.reference and first == second
    assert _transfer_count(host, order.idempotency_key) == 1
    assert hc.transfer_state(order.idempotency_key).status == "posted"
    with pytest.raises(HostRefused) as refused:
        hc.transfer(order.model_copy(update={"amount_minor": 2_00}))
    assert refused.value.code == "idempotency_key_reused"
    assert _transfer_count(host, order.idempotency_key) == 1
    assert hc.transfer_state("S-TEST:never").status == "not_posted"


def test_a_business_refusal_is_an_answer_not_an_error(client: TestClient, credential: Credential) -> None:
    hc = host_client(client, credential)
    card = hc.card_lookup(WANG_FANG_PAN)
    answer = hc.transfer(
        api.TransferOrder(
            idempotency_key="S-TEST:0002",
            kind="customer",
            from_account_id=card.account_id,
            payee_account="0001100000099999",
            payee_name="Nobody",
            amount_minor=1_00,
        )
    )
    assert answer.refused and not answer.reference


def test_the_openapi_document_names_every_route_and_model() -> None:
    from bank.api.app import openapi_document

    document: dict[str, Any] = openapi_document()
    paths = set(document["paths"])
    assert {"/v1/health", "/v1/cards/lookup", "/v1/pins/verify", "/v1/transfers", "/v1/openings"} <= paths
    assert "TransferOrder" in document["components"]["schemas"]
    published = Path(__file__).resolve().parents[2] / "docs" / "host-api.json"
    assert json.loads(published.read_text(encoding="utf-8")) == json.loads(json.dumps(document)), (
        "docs/host-api.json is stale: run smart-teller host openapi"
    )
