"""A ledger writer that dies inside its transaction (``python -m bank.doomed_writer URL KEY KIND DEBIT
CREDIT AMOUNT``), for the bank simulation's "process killed" operation.

It writes a whole transfer, prints ``in-transaction`` and waits inside the open transaction to be killed
(SIGKILL: no rollback, no goodbye), so the database must notice the connection vanish and discard the work.
"""

from __future__ import annotations

import sys
import time

from bank.db.engine import make_engine
from bank.ledger import Ledger, TransferRequest
from bank.ledger.transaction import _Tx
from bank.models import TransferKind


class DoomedLedger(Ledger):
    def _commit(self, tx: _Tx) -> None:  # the transfer is written and its rows locked; COMMIT never comes
        tx.cursor.execute("SELECT 1")  # make sure everything queued has reached the database
        tx.cursor.fetchall()
        print("in-transaction", flush=True)
        time.sleep(120)


def main(argv: list[str]) -> None:
    url, key, kind, debit, credit, amount = argv[:6]
    request = TransferRequest(key, TransferKind(kind), int(debit), int(credit), int(amount), "CNY")
    DoomedLedger(make_engine(url)).transfer(request)


if __name__ == "__main__":
    main(sys.argv[1:])
