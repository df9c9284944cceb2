"""After every journey has run on one data dir, nothing at rest holds a PIN, a PIN block, a full PAN or
track data: not the database file, not the logs, not the journal, not the receipts (issue: security).

Each journey runs as an operator would run it, through `smart-teller demo JOURNEY --data-dir D`, all on
the same data dir, so the scan sees what a day of real use leaves behind.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bank.security.loot import loot_data_dir
from bank.seed import SEED_CARDS, SEED_CUSTOMERS
from kiosk.security.scan import scan_for_secrets
from simulators.id_reader.cards import FIXTURE_CARDS

ROOT = Path(__file__).resolve().parents[2]
# wrong-pin last: it retains its card for good, as a kiosk must, and later journeys could not use it;
# change-pin just before it: the seed card's PIN is 7391 afterwards.
JOURNEYS = (
    "enquiry",
    "transfer",
    "open-account",
    "face-login",
    "bill-payment",
    "loan",
    "wealth-advice",
    "help",
    "change-pin",
    "wrong-pin",
)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # ten demos in a row, each up to 240 s: 300 s was too little on a busy machine
def test_no_secret_at_rest_after_every_journey(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    for journey in JOURNEYS:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ui.cli",
                "demo",
                journey,
                "--out",
                str(tmp_path / journey),
                "--data-dir",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, f"{journey}: {result.stderr[-1500:]}"
    # The seed PINs, the wrong PINs the wrong-pin demo types, the PIN the opening sets and the ones the
    # change-pin demo types (wrong, weak, mismatched, new).
    pins = {card.pin for card in SEED_CARDS} | {"1111", "2222", "3333", "258036", "2580", "7392", "7391"}
    pans = {card.pan for card in SEED_CARDS}
    # The data dir (database, WAL, journal, logs) and everything the demos wrote (receipts, excerpts).
    findings = scan_for_secrets(tmp_path, pins=pins, pans=pans)
    assert findings == [], "\n".join(str(f) for f in findings[:20])
    # The scan is not blind: a PAN planted in a log line is found.
    planted = data / "logs" / "planted.log"
    planted.write_text(f"oops {sorted(pans)[0]}\n")
    assert scan_for_secrets(data, pins=pins, pans=pans)

    # A thief with the terminal's data dir alone, attacking it with every key it holds (its own host
    # credential included) on every ciphertext and PIN check value, finds nothing to use.
    opened = FIXTURE_CARDS["zhao_jianguo"].identity  # the customer the open-account demo opens
    known = [opened.name, opened.id_number, opened.address, "13912345678"]
    for customer in SEED_CUSTOMERS:
        known += [customer.name, customer.id_number, customer.phone, customer.address]
    planted.unlink()
    terminal = loot_data_dir(data, known)
    assert terminal.loot == [], terminal.as_json()
    assert terminal.candidate_keys >= 1  # not blind: the host credential was found and tried
    # The same attack on the host's data dir: its keys are on the PKCS#11 token (its store beside the
    # data dir, behind the token PIN), so the database and everything else there open nothing either.
    host = loot_data_dir(data.with_name(data.name + "-host"), known)
    assert host.loot == [], host.as_json()
    assert host.vault_ciphertexts >= 1 and host.check_values >= 1  # not blind: it saw what to attack
