"""Technician name enumeration through the host's API: an attacker with a terminal credential tries a
name that has an account and one that has not, and compares the answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from bank.api.app import BodyLimit, create_app
from bank.host import Host
from bank.settings import load_host_settings
from hostlink import signing
from hostlink.technicians import Role

PASSWORD = "correct-horse-7"
KNOWN, UNKNOWN = "tina", "tino"


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    bank_host = Host.start(load_host_settings(data_dir=tmp_path / "host"))
    bank_host.technicians().add(KNOWN, PASSWORD, Role.TECHNICIAN)
    yield bank_host
    bank_host.close()


@pytest.fixture
def client(host: Host) -> Iterator[TestClient]:
    with TestClient(BodyLimit(create_app(host), host.settings.api.max_body_bytes)) as test_client:
        yield test_client


def _login(client: TestClient, credential: tuple[str, bytes], username: str, password: str) -> dict[str, Any]:
    """One login request built by hand and signed with the terminal's credential, as a script would."""
    terminal_id, secret = credential
    body = json.dumps({"username": username, "password": password}).encode()
    path = "/v1/technicians/login"
    timestamp, nonce = str(int(time.time())), signing.new_nonce()
    headers = {
        "content-type": "application/json",
        signing.TERMINAL_HEADER: terminal_id,
        signing.TIMESTAMP_HEADER: timestamp,
        signing.NONCE_HEADER: nonce,
        signing.SIGNATURE_HEADER: signing.sign(secret, "POST", path, terminal_id, timestamp, nonce, body),
    }
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _comparable(answer: dict[str, Any]) -> tuple[Any, ...]:
    # The lock's end is a time stamp a few milliseconds apart between two attempts; whether there is one
    # is what an attacker could compare.
    return (
        answer["outcome"],
        answer["username"],
        answer["role"],
        answer["tries_left"],
        bool(answer["locked_until"]),
    )


def test_a_known_and_an_unknown_name_get_the_same_answers_and_the_same_argon2_work(
    host: Host, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = signing.decode_credential(host.registry.enrol("KIOSK-0001"))
    verifications: list[tuple[str, int, int]] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        verifications.append((attacker_name, self.time_cost, self.memory_cost))
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    tries = host.settings.security.tech_lockout_failures + 2
    answers: dict[str, list[tuple[Any, ...]]] = {}
    for attacker_name in (KNOWN, UNKNOWN):
        answers[attacker_name] = [
            _comparable(_login(client, credential, attacker_name, f"guess-number-{i}")) for i in range(tries)
        ]
    assert answers[KNOWN] == answers[UNKNOWN]
    # Tries left count down for both and both end locked: before the fix an unknown name was never locked.
    assert [a[3] for a in answers[UNKNOWN][:4]] == [4, 3, 2, 1]
    assert [a[0] for a in answers[UNKNOWN][4:]] == ["locked"] * (tries - 4)
    work = {name: [v[1:] for v in verifications if v[0] == name] for name in (KNOWN, UNKNOWN)}
    assert len(work[KNOWN]) == len(work[UNKNOWN]) == host.settings.security.tech_lockout_failures
    assert work[KNOWN] == work[UNKNOWN]  # same argon2 parameters, so the same time per guess


def test_the_right_password_of_a_locked_known_name_looks_like_any_locked_name(
    host: Host, client: TestClient
) -> None:
    credential = signing.decode_credential(host.registry.enrol("KIOSK-0001"))
    for name in (KNOWN, UNKNOWN):
        for i in range(host.settings.security.tech_lockout_failures):
            _login(client, credential, name, f"guess-number-{i}")
    assert _comparable(_login(client, credential, KNOWN, PASSWORD)) == _comparable(
        _login(client, credential, UNKNOWN, PASSWORD)
    )
    assert _login(client, credential, KNOWN, PASSWORD)["outcome"] == "locked"
