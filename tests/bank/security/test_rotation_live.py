"""A key rotation while two host processes serve one bank: neither misses a call, and the old key is
retired once nothing uses it. (With keys that each process loaded once at start, every signed call failed
after a rotation: the terminal's secret had been re-encrypted under a key the running process lacked.)"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.hostproc import HostProcess, host_environment, run_host_command
from hostlink import api, signing
from kiosk.hostclient import Credential, HostClient
from tests.conftest import BankHost

PAN = "43219876543210987"  # Wang Fang's seed card: two accounts of her own


def transfer(client: HostClient, key: str) -> None:
    """An own-account transfer: its idempotent reply is stored encrypted by the host that served it."""
    card = client.card_lookup(PAN)
    own = [a for a in client.accounts(card.customer_id).accounts if a.account_id != card.account_id]
    order = api.TransferOrder(
        idempotency_key=key,
        kind="own",
        from_account_id=card.account_id,
        to_account_id=own[0].account_id,
        amount_minor=1_00,
    )
    assert client.transfer(order).reference


def key_ids(database: Path, table: str, column: str) -> set[str]:
    db = sqlite3.connect(database)
    try:
        blobs = [
            bytes(row[0]) for row in db.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
        ]
    finally:
        db.close()
    return {blob[4 : 4 + blob[3]].decode() for blob in blobs}


def test_a_rotation_while_two_host_processes_serve(bank_host: BankHost) -> None:
    env = host_environment(bank_host.data_dir)
    second = HostProcess(env, seed=False).start()
    credential = Credential(*signing.decode_credential(bank_host.credential))
    clients = [HostClient([url], credential, attempts=1) for url in (bank_host.url, second.url)]
    try:
        for index, client in enumerate(clients):
            transfer(client, f"S-PRE:000{index}")
        assert key_ids(bank_host.database(), "host_terminals", "secret") == {"k1"}
        assert key_ids(bank_host.database(), "host_idempotent_replies", "reply") == {"k1"}

        out = run_host_command(["keys", "rotate", "--json"], env)  # waits hsm.refresh_s + 1 s itself
        report = json.loads(out.strip().splitlines()[-1])
        assert (report["old_key"], report["new_key"]) == ("k1", "k2")
        assert report["rewritten"]["host_terminals.secret"] == 1
        assert report["rewritten"]["bank_cards.pan_encrypted"] >= 5
        assert key_ids(bank_host.database(), "host_terminals", "secret") == {"k2"}

        # Both running processes verify the terminal's signature with the secret now under k2, and what
        # they write now (each transfer's idempotent reply) is under k2 too.
        for round_ in range(3):
            for index, client in enumerate(clients):
                assert client.card_lookup(PAN).found
                transfer(client, f"S-ROT:00{round_}{index}")
        assert key_ids(bank_host.database(), "host_idempotent_replies", "reply") == {"k2"}

        status = json.loads(run_host_command(["keys", "status", "--json"], env).strip().splitlines()[-1])
        assert status["custody"] == "pkcs11" and status["active"] == "k2" and status["keys"]["k1"] == 0
        run_host_command(["keys", "retire", "k1"], env)
        status = json.loads(run_host_command(["keys", "status", "--json"], env).strip().splitlines()[-1])
        assert list(status["keys"]) == ["k2"]
        for index, client in enumerate(clients):
            assert client.card_lookup(PAN).found
            transfer(client, f"S-RET:000{index}")
        # The active key is not retired.
        try:
            run_host_command(["keys", "retire", "k2"], env)
            raise AssertionError("the active key was retired")
        except Exception as exc:  # HostStartError with the command's one-line reason
            assert "active key" in str(exc)
    finally:
        for client in clients:
            client.close()
        second.stop()
