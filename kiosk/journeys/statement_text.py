"""Statement and history lines in the customer's language.

The bank host writes each line's description in English from a small set of templates (bank/service.py,
bank/ledger/core.py, bank/reversals.py, bank/billing/service.py, bank/seed.py). The terminal recognises
those templates and says them through the catalogue, so a Chinese mini-statement reads 期初余额, not
"Opening balance"; a description no template matches (a bank's own text) is shown as the host sent it.
"""

from __future__ import annotations

import re

from kiosk.i18n import tr
from kiosk.i18n_catalog import CATALOG

_MASKED = r"(\*{4}\d{4})"
TEMPLATES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{pattern}$"), key)
    for pattern, key in (
        (r"Opening balance", "statement.desc.opening_balance"),
        (r"Seed funding", "statement.desc.seed_funding"),
        (rf"To own account {_MASKED}", "statement.desc.to_own"),
        (rf"From own account {_MASKED}", "statement.desc.from_own"),
        (rf"Transfer to {_MASKED}", "statement.desc.transfer_to"),
        (rf"Transfer from {_MASKED}", "statement.desc.transfer_from"),
        (r"Incoming transfer", "statement.desc.incoming"),
        (rf"To bank (\S+) {_MASKED}", "statement.desc.to_bank"),
        (r"Outgoing to bank (\S+)", "statement.desc.outgoing_bank"),
        (r"Bill payment (\S{1,4})", "statement.desc.bill_payment"),  # before "Bill CODE n", which it fits
        (r"Bill (\S+) (\S{1,4})", "statement.desc.bill"),
        (r"Reversal of (\S+)", "statement.desc.reversal"),
        (r"Fee refund, (\S+)", "statement.desc.fee_refund"),
        (r"Fee, transfer (\d+)", "statement.desc.fee"),
        (r"Transfer fee", "statement.desc.transfer_fee"),
    )
)


def _biller(code: str, lang: str) -> str:
    key = f"billing.biller.{code}"
    return tr(key, lang) if key in CATALOG["en"] else code


def describe_line(description: str, lang: str) -> str:
    """The host's description of a statement line, said in ``lang`` when it is one of the host's own."""
    for pattern, key in TEMPLATES:
        match = pattern.match(description.strip())
        if match is None:
            continue
        values = list(match.groups())
        if key == "statement.desc.bill":
            values[0] = _biller(values[0], lang)
        return tr(key, lang, **{f"v{index}": value for index, value in enumerate(values)})
    return description
