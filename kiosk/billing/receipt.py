"""The bill-payment receipt, as the card journeys' plain :class:`~kiosk.journeys.receipts.Receipt`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from hostlink.money import Money
from kiosk.banktime import format_stamp
from kiosk.i18n import tr
from kiosk.journeys.receipts import Receipt


def bill_receipt(lang: str, now: datetime, reference: str, pan_masked: str, data: dict[str, Any]) -> Receipt:
    money_locale: Literal["en", "zh_CN"] = "zh_CN" if lang == "zh_CN" else "en"
    currency = str(data.get("currency", "CNY"))
    lines = [
        (tr("billing.detail.biller", lang), tr(f"billing.biller.{data['biller']}", lang)),
        (tr("billing.detail.number", lang), str(data["account_masked"])),
        (tr("billing.detail.from", lang), str(data["from_account"])),
    ]
    if data.get("period"):
        lines.append((tr("billing.detail.period", lang), str(data["period"])))
    return Receipt(
        "bill_payment",
        lang,
        tr("billing.receipt.title", lang),
        reference,
        format_stamp(now),
        pan_masked,
        lines=tuple(lines),
        amounts=(
            (
                tr("billing.detail.amount", lang),
                Money(int(data["amount_minor"]), currency).format(money_locale),
            ),
        ),
        footer=(tr("receipt.footer.thanks", lang), tr("receipt.footer.keep", lang)),
    )
