"""Receipt content as plain data: title, labelled lines, amounts as formatted strings, reference, QR.

Journeys build a :class:`Receipt` in the customer's language (labels through the catalogue, money through
:meth:`hostlink.money.Money.format`); the printer effect maps it onto the device layer's receipt document.
A receipt only ever carries a masked PAN (first 6 / last 4) and masked account numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hostlink.money import Money
from hostlink.redaction import mask_name
from kiosk.banktime import format_stamp
from kiosk.i18n import tr
from kiosk.journeys.statement_text import describe_line


@dataclass(frozen=True)
class Receipt:
    kind: str  # balance, statement, history, transfer, retain
    language: str
    title: str
    reference: str
    date: str
    masked_pan: str = ""
    lines: tuple[tuple[str, str], ...] = ()
    amounts: tuple[tuple[str, str], ...] = ()
    footer: tuple[str, ...] = ()
    qr_payload: str | None = None

    def as_text(self) -> str:
        """A plain-text rendering (journal excerpts, the demo's receipt files, tests)."""
        rows = [self.title, f"{tr('receipt.date', self.language)}: {self.date}"]
        if self.masked_pan:
            rows.append(f"{tr('receipt.card', self.language)}: {self.masked_pan}")
        rows += [f"{label}: {value}" for label, value in self.lines + self.amounts]
        rows.append(f"{tr('receipt.reference', self.language)}: {self.reference}")
        rows += list(self.footer)
        return "\n".join(rows)


def _money(minor: int, currency: str, lang: str) -> str:
    return Money(minor, currency).format("zh_CN" if lang == "zh_CN" else "en")


def _stamp(now: datetime) -> str:
    # ``now`` is bank time (TerminalServices.now_local); the zone is printed so paper and journal agree.
    return format_stamp(now)


def _footer(lang: str) -> tuple[str, ...]:
    return (tr("receipt.footer.thanks", lang), tr("receipt.footer.keep", lang))


def balance_receipt(
    lang: str, now: datetime, reference: str, pan_masked: str, data: dict[str, Any], currency: str
) -> Receipt:
    return Receipt(
        "balance",
        lang,
        tr("receipt.title.balance", lang),
        reference,
        _stamp(now),
        pan_masked,
        lines=((tr("receipt.account", lang), str(data["account"])),),
        amounts=(
            (tr("balance.ledger", lang), _money(int(data["ledger_minor"]), currency, lang)),
            (tr("balance.available", lang), _money(int(data["available_minor"]), currency, lang)),
        ),
        footer=_footer(lang),
    )


def statement_receipt(
    lang: str,
    now: datetime,
    reference: str,
    pan_masked: str,
    account: str,
    lines: Sequence[dict[str, Any]],
    currency: str,
    title_key: str = "receipt.title.statement",
) -> Receipt:
    rows = tuple(
        (
            f"{line['date']} {describe_line(str(line['description']), lang)[:18]}",
            _money(int(line["amount_minor"]), currency, lang),
        )
        for line in lines
    )
    return Receipt(
        "statement",
        lang,
        tr(title_key, lang),
        reference,
        _stamp(now),
        pan_masked,
        lines=((tr("receipt.account", lang), account), *rows),
        footer=_footer(lang),
    )


def transfer_receipt(
    lang: str, now: datetime, reference: str, pan_masked: str, details: dict[str, Any], currency: str
) -> Receipt:
    lines: list[tuple[str, str]] = [
        (tr("transfer.detail.kind", lang), tr(f"transfer.kind.{details['kind']}", lang)),
        (tr("transfer.detail.from", lang), str(details["from_account"])),
        (tr("transfer.detail.to", lang), str(details["to_account_masked"])),
    ]
    if details.get("payee_name"):
        # Masked: a slip left at the kiosk must not name the payee (the screen showed it in full).
        lines.append((tr("transfer.detail.payee", lang), mask_name(str(details["payee_name"]))))
    if details.get("bank_code"):
        lines.append((tr("transfer.detail.bank", lang), str(details["bank_code"])))
    lines.append((tr("transfer.detail.status", lang), tr(f"transfer.status.{details['status']}", lang)))
    amounts = [(tr("transfer.detail.amount", lang), _money(int(details["amount_minor"]), currency, lang))]
    if int(details.get("fee_minor", 0)):
        amounts.append((tr("transfer.detail.fee", lang), _money(int(details["fee_minor"]), currency, lang)))
    return Receipt(
        "transfer",
        lang,
        tr("receipt.title.transfer", lang),
        reference,
        _stamp(now),
        pan_masked,
        lines=tuple(lines),
        amounts=tuple(amounts),
        footer=_footer(lang),
    )


def retain_receipt(lang: str, now: datetime, reference: str, pan_masked: str, reason_key: str) -> Receipt:
    return Receipt(
        "retain",
        lang,
        tr("receipt.title.retain", lang),
        reference,
        _stamp(now),
        pan_masked,
        lines=((tr("receipt.retain.reason", lang), tr(reason_key, lang)),),
        footer=(tr("receipt.retain.collect", lang), tr("receipt.footer.keep", lang)),
    )


def build_receipt(
    kind: str, lang: str, now: datetime, reference: str, pan_masked: str, data: dict[str, Any], currency: str
) -> Receipt:
    """The receipt a journey asked for by kind (the printer effect calls this with the kiosk's clock)."""
    if kind == "balance":
        return balance_receipt(lang, now, reference, pan_masked, data, currency)
    if kind in ("statement", "history"):
        title = "receipt.title.statement" if kind == "statement" else "receipt.title.history"
        return statement_receipt(
            lang, now, reference, pan_masked, str(data["account"]), data["lines"], currency, title
        )
    if kind == "transfer":
        return transfer_receipt(lang, now, reference, pan_masked, data, currency)
    if kind == "retain":
        return retain_receipt(lang, now, reference, pan_masked, str(data.get("reason_key", "retain.pin")))
    raise ValueError(f"unknown receipt kind {kind!r}")
