"""The host ↔ interbank switch messages (docs/iso8583.md, "Host ↔ interbank switch"): what goes into an
0200 transfer, an 0420/0421 reversal and an 0800, and what an answer's DE39 means for the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from hostlink.iso8583 import profile as p
from hostlink.iso8583.codec import Message

# ISO 4217 numeric codes of the currencies the bank books in (DE49).
CURRENCY_NUMBERS = {"CNY": "156", "USD": "840", "EUR": "978", "HKD": "344"}

REVERSAL_REASON = "no answer from the switch in time: reversed"
FORMAT_ERROR = "30"


@dataclass(frozen=True)
class OutgoingTransfer:
    """A pending other-bank transfer as the switch needs it. Never logged: it holds account numbers."""

    transfer_id: int
    amount_minor: int
    currency: str
    bank_code: str
    from_account: str
    payee_account: str
    payee_name: str


def stan_for(transfer_id: int) -> str:
    """DE11 of a transfer's 0200 and its reversals: its id folded into 000001..999999. Every host process
    derives the same number, so none needs a shared counter; two transfers share a STAN only if their ids
    are 999,999 apart, and then DE7 (to the second) tells their messages apart."""
    return f"{(transfer_id - 1) % 999_999 + 1:06d}"


def payee_name_field(name: str) -> str:
    """The payee's name as a DE48 value: percent-encoded UTF-8 (a Chinese name is not ASCII, and ``;``
    and ``=`` are DE48's own), as the terminal link carries it."""
    return quote(name, safe=" ")


def financial_request(
    transfer: OutgoingTransfer, *, stan: str, transmission_time: str, acquirer_id: str
) -> Message:
    """The 0200 (without its MAC). ValueError when the transfer does not fit the profile (e.g. a payee
    account longer than DE103's 28 characters)."""
    if len(transfer.payee_account) > 28:
        raise ValueError("the payee account is longer than DE103 holds (28)")
    message: Message = {
        "t": p.FINANCIAL_REQUEST,
        p.PROCESSING_CODE: p.TRANSFER,
        p.AMOUNT: p.amount_field(transfer.amount_minor),
        p.TRANSMISSION_DATETIME: transmission_time,
        p.STAN: stan,
        p.ACQUIRER_ID: acquirer_id,
        p.ADDITIONAL_DATA: p.additional_data({"payee_name": payee_name_field(transfer.payee_name)}),
        p.RECEIVING_INSTITUTION_ID: transfer.bank_code,
        p.ACCOUNT_FROM: transfer.from_account,
        p.ACCOUNT_TO: transfer.payee_account,
    }
    currency = CURRENCY_NUMBERS.get(transfer.currency)
    if currency is not None:
        message[p.CURRENCY] = currency
    return message


def reversal_request(
    *,
    mti: str,
    amount_minor: int,
    currency: str,
    bank_code: str,
    stan: str,
    original_time: str,
    transmission_time: str,
    acquirer_id: str,
) -> Message:
    """An 0420 (first) or 0421 (repeat) of the 0200 sent with ``stan`` at ``original_time``: DE11 is the
    original's, DE7 this send's, DE90 names the original (MTI, STAN, DE7, acquirer)."""
    message: Message = {
        "t": mti,
        p.PROCESSING_CODE: p.TRANSFER,
        p.AMOUNT: p.amount_field(amount_minor),
        p.TRANSMISSION_DATETIME: transmission_time,
        p.STAN: stan,
        p.ACQUIRER_ID: acquirer_id,
        p.ORIGINAL_DATA: p.original_data(p.FINANCIAL_REQUEST, stan, original_time, acquirer_id),
        p.RECEIVING_INSTITUTION_ID: bank_code,
    }
    number = CURRENCY_NUMBERS.get(currency)
    if number is not None:
        message[p.CURRENCY] = number
    return message


def network_request(code: str, *, stan: str, transmission_time: str, acquirer_id: str) -> Message:
    """An 0800: ``code`` is DE70 (``001`` sign-on, ``301`` echo)."""
    return {
        "t": p.NETWORK_REQUEST,
        p.TRANSMISSION_DATETIME: transmission_time,
        p.STAN: stan,
        p.ACQUIRER_ID: acquirer_id,
        p.NETWORK_CODE: code,
    }


def decline_reason(code: str) -> str:
    """The void reason of a transfer the switch declined: the code's meaning (docs/iso8583.md)."""
    return p.RESPONSE_CODES.get(code, f"declined by the switch ({code})")


def answer_key(message: Message) -> tuple[str, str, str] | None:
    """(MTI, DE11, DE7) of an answer, what it is matched to its request by (with DE32)."""
    stan, sent = message.get(p.STAN), message.get(p.TRANSMISSION_DATETIME)
    if not isinstance(stan, str) or not isinstance(sent, str):
        return None
    return str(message["t"]), stan, sent
