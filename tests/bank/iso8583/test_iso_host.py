"""The host's ISO 8583 front door end to end: a real socket to a running ``bank serve`` process.

The client here is the terminal's side cut down to what the tests need: it signs on (unwrapping the TPK
and TAK key blocks under the PIN pad's test TMK, as the pad would), builds requests, MACs them with the
TAK and checks the MAC of every answer. What the host did is read from its database in the test process
(``bank_host.bank()`` / ``bank_host.inspect()``), never taken from the answer alone.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bank.iso8583.service import card_acceptor_id, iso_terminal_id, moves_money, text_value
from hostlink import keyblock
from hostlink.iso8583 import codec
from hostlink.iso8583 import profile as p
from hostlink.iso8583.framing import recv_message, send_message
from hostlink.pinblock import encrypt_pin_block
from hostlink.tdes import kcv, retail_mac
from simulators.pin_pad import TEST_TMK

TERMINAL = "KIOSK-0001"
ACQUIRER = "888"

# Seed data (bank/seed.py).
WANG_FANG_PAN, WANG_FANG_PIN = "43219876543210987", "1234"
WANG_FANG_CURRENT, WANG_FANG_SAVINGS = "0001100000010014", "0001200000010020"
LI_NA_PAN, LI_NA_CURRENT = "6212340000001017", "0001100000010030"
LIU_YANG_PAN, LIU_YANG_CURRENT = "6212340000004045", "0001100000010097"  # ¥88.00

# One STAN sequence for the whole test process: two terminals in a test never reuse (STAN, DE7).
_STANS = itertools.count(1)


def next_stan() -> str:
    return f"{next(_STANS) % 999_999 + 1:06d}"


def now_de7() -> str:
    return p.transmission_time(datetime.now(UTC))


@dataclass
class Exchange:
    request: bytes
    answer: bytes
    message: codec.Message

    @property
    def code(self) -> str:
        return str(self.message[p.RESPONSE_CODE])

    @property
    def data(self) -> dict[str, str]:
        return p.parse_additional_data(str(self.message.get(p.ADDITIONAL_DATA, "")))


class IsoTerminal:
    """One terminal's connection to the host: sign-on, MACed requests, answers checked."""

    def __init__(
        self, address: tuple[str, int], terminal_id: str = TERMINAL, *, timeout_s: float = 10.0
    ) -> None:
        self.terminal_id = terminal_id
        self.timeout_s = timeout_s
        self.sock = socket.create_connection(address, timeout=timeout_s)
        self.tpk = b""
        self.tak = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> IsoTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wire --
    def send_raw(self, raw: bytes) -> bytes:
        send_message(self.sock, raw)
        return recv_message(self.sock, self.timeout_s)

    def base(self, mti: str, processing_code: str | None = None, **fields: str | bytes) -> codec.Message:
        when = datetime.now(UTC)
        message: codec.Message = {"t": mti}
        if processing_code is not None:
            message[p.PROCESSING_CODE] = processing_code
        message |= {
            p.TRANSMISSION_DATETIME: p.transmission_time(when),
            p.STAN: next_stan(),
            p.LOCAL_TIME: when.strftime("%H%M%S"),
            p.LOCAL_DATE: when.strftime("%m%d"),
            p.ACQUIRER_ID: ACQUIRER,
            p.TERMINAL_ID: iso_terminal_id(self.terminal_id),
            p.CARD_ACCEPTOR_ID: card_acceptor_id(self.terminal_id),
        }
        for key, value in fields.items():  # "2" or PAN, "102" or ACCOUNT_FROM: profile names work too
            message[key if key.isdigit() else getattr(p, key)] = value
        return message

    def mac(self, data: bytes) -> bytes:
        return retail_mac(self.tak, data)

    def signed(self, message: codec.Message) -> bytes:
        return codec.encode_with_mac(message, self.mac)

    def exchange(self, raw: bytes, *, macd: bool = True) -> Exchange:
        answer = self.send_raw(raw)
        decoded = codec.decode(answer)
        if macd:
            shown = (decoded.get(p.RESPONSE_CODE), decoded.get(p.ADDITIONAL_DATA))
            assert codec.mac_field(decoded) in decoded, f"an answer without a MAC: {shown}"
            assert codec.verify_mac(answer, self.mac), "the answer's MAC does not verify under the TAK"
        else:
            assert p.MAC_PRIMARY not in decoded and p.MAC_SECONDARY not in decoded
        request = codec.decode(raw)
        for field in (p.STAN, p.TRANSMISSION_DATETIME, p.TERMINAL_ID):  # the match key, echoed
            assert decoded[field] == request[field]
        assert decoded["t"] == p.response_mti(str(request["t"]))
        return Exchange(raw, answer, decoded)

    def send(self, message: codec.Message) -> Exchange:
        return self.exchange(self.signed(message))

    # -- network management --
    def sign_on(self, code: str = p.SIGN_ON) -> Exchange:
        result = self.exchange(codec.encode(self.base(p.NETWORK_REQUEST, NETWORK_CODE=code)), macd=False)
        assert result.code == p.APPROVED, result.message
        tpk = keyblock.unwrap(TEST_TMK, str(result.message[p.TPK_KEY_BLOCK]))
        tak = keyblock.unwrap(TEST_TMK, str(result.message[p.TAK_KEY_BLOCK]))
        assert (tpk.usage, tpk.mode, tak.usage, tak.mode) == ("P0", "E", "M3", "C")
        assert result.message[p.KEY_CHECK_VALUES] == kcv(tpk.key) + kcv(tak.key)
        self.tpk, self.tak = tpk.key, tak.key
        return result

    # -- requests --
    def pin_block(self, pin: str, pan: str) -> bytes:
        return encrypt_pin_block(pin, pan, self.tpk, 0)

    def card_request(self, mti: str, processing_code: str, pan: str, **fields: str | bytes) -> codec.Message:
        return self.base(mti, processing_code, **{p.PAN: pan}, **fields)


# -- the host's state, read in the test process --------------------------------------------------------------


class Bank:
    def __init__(self, bank_host: Any) -> None:
        self.host = bank_host.inspect()
        self.service = bank_host.bank()

    def account_id(self, number: str) -> int:
        from bank.models import Account

        with self.host.runtime.sessions() as db:
            found = db.scalar(select(Account.id).where(Account.number == number))
        assert found is not None, number
        return int(found)

    def balance(self, number: str) -> tuple[int, int]:
        """(ledger, available) in minor units."""
        balance = self.service.balance(self.account_id(number))
        return balance.ledger.minor, balance.available.minor

    def balances(self) -> dict[str, tuple[int, int]]:
        numbers = (WANG_FANG_CURRENT, WANG_FANG_SAVINGS, LI_NA_CURRENT, LIU_YANG_CURRENT)
        return {number: self.balance(number) for number in numbers}

    def card_status(self, pan: str) -> str:
        return str(self.service.card_by_pan(pan).status)

    def transfers(self) -> list[Any]:
        from bank.models import Transfer

        with self.host.runtime.sessions() as db:
            return list(db.scalars(select(Transfer).order_by(Transfer.id)))

    def transfer_count(self) -> int:
        from bank.models import Transfer

        with self.host.runtime.sessions() as db:
            return int(db.scalar(select(func.count()).select_from(Transfer)) or 0)

    def audit(self, event: str) -> list[dict[str, Any]]:
        return list(self.host.audit.events(event, limit=100_000))


@pytest.fixture
def bank(bank_host: Any) -> Bank:
    return Bank(bank_host)


@pytest.fixture
def terminal(bank_host: Any) -> Any:
    with IsoTerminal(bank_host.iso8583) as connected:
        connected.sign_on()
        yield connected


def balance_request(terminal: IsoTerminal, bank: Bank, pan: str, number: str) -> codec.Message:
    return terminal.card_request(
        p.FINANCIAL_REQUEST, p.BALANCE, pan, ACCOUNT_FROM=str(bank.account_id(number))
    )


def transfer_request(
    terminal: IsoTerminal,
    bank: Bank,
    kind: str,
    amount: int,
    *,
    pan: str = WANG_FANG_PAN,
    from_number: str = WANG_FANG_CURRENT,
    to: str,
    payee_name: str = "",
    bank_code: str = "",
) -> codec.Message:
    """A 400000 transfer: ``to`` is an account number (own: turned into the host's account id)."""
    data = {"kind": kind} | ({"payee_name": text_value(payee_name)} if payee_name else {})
    fields: dict[str, str | bytes] = {
        p.AMOUNT: p.amount_field(amount),
        p.CURRENCY: p.CURRENCY_CNY,
        p.ACCOUNT_FROM: str(bank.account_id(from_number)),
        p.ACCOUNT_TO: str(bank.account_id(to)) if kind == "own" else to,
        p.ADDITIONAL_DATA: p.additional_data(data),
    }
    if bank_code:
        fields[p.RECEIVING_INSTITUTION_ID] = bank_code
    return terminal.card_request(p.FINANCIAL_REQUEST, p.TRANSFER, pan, **fields)


def reversal_of(terminal: IsoTerminal, original: codec.Message, mti: str = p.REVERSAL) -> codec.Message:
    """A 0420 (or 0421) of its own STAN naming ``original`` in DE90, with the original's amount."""
    return terminal.base(
        mti,
        str(original[p.PROCESSING_CODE]),
        **{
            p.PAN: original[p.PAN],
            p.AMOUNT: original[p.AMOUNT],
            p.CURRENCY: p.CURRENCY_CNY,
            p.ORIGINAL_DATA: p.original_data(
                str(original["t"]),
                str(original[p.STAN]),
                str(original[p.TRANSMISSION_DATETIME]),
                ACQUIRER,
            ),
        },
    )


# -- sign-on -------------------------------------------------------------------------------------------------


def test_sign_on_kcvs_match_and_a_second_sign_on_retires_the_old_tak(bank_host: Any, bank: Bank) -> None:
    with IsoTerminal(bank_host.iso8583) as terminal:
        first = terminal.sign_on()
        assert p.MAC_PRIMARY not in first.message and p.MAC_SECONDARY not in first.message
        old_tpk, old_tak = terminal.tpk, terminal.tak
        assert kcv(old_tpk) + kcv(old_tak) == first.message[p.KEY_CHECK_VALUES]
        assert old_tpk != old_tak
        request = balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT)
        assert terminal.send(request).code == p.APPROVED

        second = terminal.sign_on()
        assert (terminal.tpk, terminal.tak) != (old_tpk, old_tak)
        assert second.message[p.KEY_CHECK_VALUES] != first.message[p.KEY_CHECK_VALUES]

        # The old TAK: refused, answered unMACed (the host cannot know which key the terminal holds).
        stale = codec.encode_with_mac(
            balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT),
            lambda data: retail_mac(old_tak, data),
        )
        refused = terminal.exchange(stale, macd=False)
        assert refused.code == "A0" and refused.data == {"reason": "mac_failure"}
        assert p.BALANCES not in refused.message
        # The new one works.
        assert terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT)).code == "00"

        # A key change (101) is a sign-on's key exchange too; an echo (301) is answered and changes nothing.
        before = terminal.tak
        terminal.sign_on(p.KEY_CHANGE)
        assert terminal.tak != before
        echo = terminal.exchange(
            codec.encode(terminal.base(p.NETWORK_REQUEST, NETWORK_CODE=p.ECHO)), macd=False
        )
        assert echo.code == "00" and p.TAK_KEY_BLOCK not in echo.message
        assert terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT)).code == "00"
    events = [event["event"] for event in bank.audit("iso_sign_on") + bank.audit("iso_key_change")]
    assert sorted(events) == ["iso_key_change", "iso_sign_on", "iso_sign_on"]


def test_a_financial_request_before_sign_on_is_refused(bank_host: Any, bank: Bank) -> None:
    with IsoTerminal(bank_host.iso8583) as terminal:
        terminal.tak = bytes(range(16))  # any key: the host has none for this terminal yet
        answer = terminal.exchange(
            terminal.signed(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT)), macd=False
        )
    assert answer.code == "A0" and answer.data == {"reason": "not_signed_on"}


# -- PIN verify ----------------------------------------------------------------------------------------------


def test_pin_verify_right_wrong_and_the_third_wrong_retains_the_card(
    terminal: IsoTerminal, bank: Bank
) -> None:
    def verify(pin: str) -> Exchange:
        block = terminal.pin_block(pin, WANG_FANG_PAN)
        return terminal.send(
            terminal.card_request(p.AUTH_REQUEST, p.PIN_VERIFY, WANG_FANG_PAN, PIN_BLOCK=block)
        )

    right = verify(WANG_FANG_PIN)
    assert right.message["t"] == p.AUTH_RESPONSE
    assert right.code == "00" and right.data == {"tries_left": "3", "outcome": "ok"}
    assert p.RRN in right.message and p.AUTH_ID not in right.message  # a PIN check authorises nothing
    wrong = verify("9999")
    assert wrong.code == "55" and wrong.data == {"tries_left": "2", "outcome": "wrong"}
    assert bank.card_status(WANG_FANG_PAN) == "active"
    assert verify("9998").data["tries_left"] == "1"
    last = verify("9997")
    assert last.code == "75" and last.data == {"tries_left": "0", "outcome": "retain"}
    assert bank.card_status(WANG_FANG_PAN) == "retained"
    # Retained: even the right PIN no longer opens it, and nothing else is done with the card.
    assert verify(WANG_FANG_PIN).code == "57"
    refused = terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT))
    assert refused.code == "57" and refused.data == {"reason": "card_retained"}


def test_pin_verify_goes_with_0100_only(terminal: IsoTerminal) -> None:
    block = terminal.pin_block(WANG_FANG_PIN, WANG_FANG_PAN)
    answer = terminal.send(
        terminal.card_request(p.FINANCIAL_REQUEST, p.PIN_VERIFY, WANG_FANG_PAN, PIN_BLOCK=block)
    )
    assert answer.code == "12" and answer.data == {"reason": "unsupported_processing_code"}


# -- balance and mini-statement ------------------------------------------------------------------------------


def parse_de54(value: str) -> dict[str, tuple[str, int]]:
    """DE54 → {amount type: (currency, signed minor units)}."""
    assert len(value) % 20 == 0
    out = {}
    for start in range(0, len(value), 20):
        item = value[start : start + 20]
        sign = 1 if item[7] == "C" else -1
        assert item[:2] == "00" and item[7] in "CD"
        out[item[2:4]] = (item[4:7], sign * int(item[8:]))
    return out


def test_balance_matches_the_account_and_another_customers_account_is_57(
    terminal: IsoTerminal, bank: Bank
) -> None:
    for number in (WANG_FANG_CURRENT, WANG_FANG_SAVINGS):
        answer = terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, number))
        assert answer.code == "00" and answer.message["t"] == p.FINANCIAL_RESPONSE
        account = bank.service.balance(bank.account_id(number))
        amounts = parse_de54(str(answer.message[p.BALANCES]))
        assert amounts == {"01": ("156", account.ledger.minor), "02": ("156", account.available.minor)}
        assert (answer.data["pending"], answer.data["overdraft"]) == ("0", "0")
    seeded = terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT))
    assert parse_de54(str(seeded.message[p.BALANCES]))["01"] == ("156", 1_234_567)  # ¥12,345.67
    # Li Na's overdraft shows in DE48 and in the available amount.
    li_na = terminal.send(balance_request(terminal, bank, LI_NA_PAN, LI_NA_CURRENT))
    assert parse_de54(str(li_na.message[p.BALANCES])) == {"01": ("156", 300_000), "02": ("156", 400_000)}
    assert li_na.data["overdraft"] == "100000"

    not_hers = terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, LI_NA_CURRENT))
    assert not_hers.code == "57" and not_hers.data == {"reason": "not_own_account"}
    assert p.BALANCES not in not_hers.message
    unknown = terminal.send(
        terminal.card_request(p.FINANCIAL_REQUEST, p.BALANCE, "6212349999999999", ACCOUNT_FROM="1")
    )
    assert unknown.code == "14" and unknown.data == {"reason": "unknown_card"}
    expired = terminal.send(
        terminal.card_request(p.FINANCIAL_REQUEST, p.BALANCE, "6212340000002023", ACCOUNT_FROM="1")
    )
    assert expired.code == "54"


def parse_statement(data: dict[str, str]) -> list[tuple[str, int, int, str]]:
    count = int(data["lines"])
    assert set(data) == {"lines"} | {f"l{n}" for n in range(1, count + 1)}
    lines = []
    for n in range(1, count + 1):
        when, amount, after, description = data[f"l{n}"].split(",")
        lines.append((when, int(amount), int(after), unquote(description)))
    return lines


def statement_of(bank: Bank, number: str) -> list[tuple[str, int, int, str]]:
    statement = bank.service.mini_statement(bank.account_id(number))
    return [
        (
            line.when.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat(),  # the bank's date
            line.amount.minor,
            line.balance_after.minor,
            line.description,
        )
        for line in statement.lines
    ]


def test_mini_statement_lines_parse_and_match_the_account(terminal: IsoTerminal, bank: Bank) -> None:
    for n in range(3):
        request = transfer_request(terminal, bank, "own", 100 + n, to=WANG_FANG_SAVINGS)
        assert terminal.send(request).code == "00"
    customer = transfer_request(terminal, bank, "customer", 500, to=LI_NA_CURRENT, payee_name="李娜")
    assert terminal.send(customer).code == "00"
    answer = terminal.send(
        terminal.card_request(
            p.FINANCIAL_REQUEST,
            p.MINI_STATEMENT,
            WANG_FANG_PAN,
            ACCOUNT_FROM=str(bank.account_id(WANG_FANG_CURRENT)),
        )
    )
    assert answer.code == "00"
    lines = parse_statement(answer.data)
    assert lines == statement_of(bank, WANG_FANG_CURRENT)
    assert [line[1] for line in lines] == [-500, -102, -101, -100, 1_234_567]  # newest first
    assert lines[0][2] == 1_234_567 - 803


def test_a_mini_statement_too_long_for_de48_gives_the_newest_lines_that_fit(
    terminal: IsoTerminal, bank: Bank
) -> None:
    """Ten lines with long (percent-encoded Chinese) descriptions do not fit DE48's 999 characters."""
    from bank.ledger.types import TransferRequest
    from bank.models import InternalAccount, TransferKind

    ledger = bank.host.ledger
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    account_id = bank.account_id(WANG_FANG_SAVINGS)
    for n in range(10):
        posted = ledger.transfer(
            TransferRequest(
                idempotency_key=f"test-long-{n}",
                kind=TransferKind.FUNDING,
                debit_account_id=funding,
                credit_account_id=account_id,
                amount_minor=1_000 + n,
                currency="CNY",
                description=f"{n} 王芳的储蓄账户利息入账",
                payee_description=f"{n} 王芳的储蓄账户利息入账",
                channel="internal",
            )
        )
        assert not hasattr(posted, "reason"), posted
    answer = terminal.send(
        terminal.card_request(
            p.FINANCIAL_REQUEST, p.MINI_STATEMENT, WANG_FANG_PAN, ACCOUNT_FROM=str(account_id)
        )
    )
    assert answer.code == "00", answer.data
    lines = parse_statement(answer.data)
    assert 1 <= len(lines) < 10
    assert lines == statement_of(bank, WANG_FANG_SAVINGS)[: len(lines)]
    assert len(str(answer.message[p.ADDITIONAL_DATA])) <= 999


# -- transfers -----------------------------------------------------------------------------------------------


def iso_key(message: codec.Message) -> str:
    return f"iso:{TERMINAL}:{message[p.STAN]}:{message[p.TRANSMISSION_DATETIME]}"


def test_own_and_customer_transfers_post_once(terminal: IsoTerminal, bank: Bank) -> None:
    before = bank.balances()
    own = transfer_request(terminal, bank, "own", 12_345, to=WANG_FANG_SAVINGS)
    answer = terminal.send(own)
    assert answer.code == "00" and answer.data["status"] == "posted" and answer.data["fee"] == "0"
    transfer = next(t for t in bank.transfers() if t.idempotency_key == iso_key(own))
    assert answer.data["reference"] == f"TR{transfer.id:010d}"
    assert (transfer.status, transfer.amount_minor, transfer.kind) == ("posted", 12_345, "own")

    customer = transfer_request(terminal, bank, "customer", 20_000, to=LI_NA_CURRENT, payee_name="李娜")
    answer = terminal.send(customer)
    assert answer.code == "00" and answer.data["status"] == "posted"
    after = bank.balances()
    assert after[WANG_FANG_CURRENT][0] == before[WANG_FANG_CURRENT][0] - 32_345
    assert after[WANG_FANG_SAVINGS][0] == before[WANG_FANG_SAVINGS][0] + 12_345
    assert after[LI_NA_CURRENT][0] == before[LI_NA_CURRENT][0] + 20_000
    assert [t.idempotency_key for t in bank.transfers()].count(iso_key(customer)) == 1


def test_own_transfer_to_an_account_not_the_card_holders_is_57(terminal: IsoTerminal, bank: Bank) -> None:
    before, count = bank.balances(), bank.transfer_count()
    request = transfer_request(terminal, bank, "own", 100, to=WANG_FANG_SAVINGS)
    request[p.ACCOUNT_TO] = str(bank.account_id(LI_NA_CURRENT))
    answer = terminal.send(request)
    assert answer.code == "57" and answer.data == {"reason": "not_own_account"}
    assert bank.balances() == before and bank.transfer_count() == count


def test_insufficient_funds_is_51_and_nothing_moves(terminal: IsoTerminal, bank: Bank) -> None:
    before, count = bank.balances(), bank.transfer_count()
    request = transfer_request(
        terminal,
        bank,
        "customer",
        8_801,
        pan=LIU_YANG_PAN,
        from_number=LIU_YANG_CURRENT,
        to=LI_NA_CURRENT,
        payee_name="李娜",
    )
    answer = terminal.send(request)
    assert answer.code == "51" and answer.data == {"reason": "insufficient_funds"}
    assert p.AUTH_ID not in answer.message
    assert bank.balances() == before and bank.transfer_count() == count


def test_payee_name_mismatch_is_05_with_its_reason(terminal: IsoTerminal, bank: Bank) -> None:
    before, count = bank.balances(), bank.transfer_count()
    request = transfer_request(terminal, bank, "customer", 1_000, to=LI_NA_CURRENT, payee_name="李四")
    answer = terminal.send(request)
    assert answer.code == "05" and answer.data == {"reason": "payee_name_mismatch"}
    assert bank.balances() == before and bank.transfer_count() == count
    # An unknown kind is a format error.
    odd = transfer_request(terminal, bank, "sideways", 1_000, to=LI_NA_CURRENT)
    assert terminal.send(odd).code == "30"


def test_other_bank_transfer_is_pending(terminal: IsoTerminal, bank: Bank) -> None:
    before = bank.balance(WANG_FANG_CURRENT)
    request = transfer_request(
        terminal, bank, "other_bank", 50_000, to="6222020012345678", payee_name="Zhao Lei", bank_code="102"
    )
    answer = terminal.send(request)
    assert answer.code == "00" and answer.data["status"] == "pending" and answer.data["fee"] == "200"
    transfer = next(t for t in bank.transfers() if t.idempotency_key == iso_key(request))
    assert transfer.status == "pending" and transfer.payee_bank_code == "102"
    assert transfer.payee_name == "Zhao Lei"
    ledger, available = bank.balance(WANG_FANG_CURRENT)
    assert ledger == before[0] and available == before[1] - 50_200  # held, not posted
    missing = transfer_request(terminal, bank, "other_bank", 50_000, to="6222020012345678", payee_name="Zhao")
    assert terminal.send(missing).data == {"reason": "missing_100"}


# -- duplicates ----------------------------------------------------------------------------------------------


def test_another_request_reusing_a_stan_and_time_is_refused_not_answered_as_the_first(
    terminal: IsoTerminal, bank: Bank
) -> None:
    count = bank.transfer_count()
    request = transfer_request(terminal, bank, "own", 1_000, to=WANG_FANG_SAVINGS)
    assert terminal.exchange(terminal.signed(request)).code == "00"
    bigger = dict(request, **{p.AMOUNT: p.amount_field(2_000)})  # same terminal, STAN and DE7
    answer = terminal.exchange(terminal.signed(bigger))
    assert answer.code == "94"
    assert bank.transfer_count() == count + 1  # the second was not posted, nor answered as the first


def test_the_same_transfer_sent_twice_posts_once_and_gets_the_same_answer(
    terminal: IsoTerminal, bank: Bank
) -> None:
    before, count = bank.balances(), bank.transfer_count()
    raw = terminal.signed(transfer_request(terminal, bank, "own", 7_000, to=WANG_FANG_SAVINGS))
    first = terminal.exchange(raw)
    second = terminal.exchange(raw)
    assert first.code == "00"
    assert second.answer == first.answer  # byte for byte: same TAK, the recorded answer (DE38 too)
    assert bank.transfer_count() == count + 1
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[WANG_FANG_CURRENT][0] - 7_000

    # After a key change the duplicate still gets the recorded answer, MACed under the new TAK.
    terminal.sign_on(p.KEY_CHANGE)
    request = codec.decode(raw)
    third = terminal.send(request)
    assert third.answer[:-8] == first.answer[:-8] and third.answer[-8:] != first.answer[-8:]
    assert bank.transfer_count() == count + 1

    # A refusal is recorded too: sent again, the same refusal, even though the money is there now.
    poor = transfer_request(
        terminal, bank, "own", 9_000, pan=LIU_YANG_PAN, from_number=LIU_YANG_CURRENT, to="0001200000010103"
    )
    raw = terminal.signed(poor)
    assert terminal.exchange(raw).code == "51"
    assert terminal.exchange(raw).answer == terminal.exchange(raw).answer


# -- reversals -----------------------------------------------------------------------------------------------


def test_reversal_of_an_own_transfer_gives_the_money_back_once(terminal: IsoTerminal, bank: Bank) -> None:
    before = bank.balances()
    original = transfer_request(terminal, bank, "own", 30_000, to=WANG_FANG_SAVINGS)
    assert terminal.send(original).code == "00"
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[WANG_FANG_CURRENT][0] - 30_000

    reversal = reversal_of(terminal, original)
    answer = terminal.send(reversal)
    assert answer.message["t"] == p.REVERSAL_RESPONSE and answer.code == "00"
    assert answer.data == {"result": "reversed", "reason": "compensated"}
    assert answer.message[p.ORIGINAL_DATA] == reversal[p.ORIGINAL_DATA]
    assert bank.balances() == before
    count = bank.transfer_count()
    compensation = bank.transfers()[-1]
    assert compensation.idempotency_key == "rev:" + iso_key(original) and compensation.amount_minor == 30_000

    repeat = terminal.send(reversal_of(terminal, original, p.REVERSAL_REPEAT))
    assert repeat.code == "00" and repeat.data == {"result": "already_reversed"}
    again = terminal.send(reversal_of(terminal, original))  # a new 0420 of its own STAN: the same
    assert again.data == {"result": "already_reversed"}
    assert bank.balances() == before and bank.transfer_count() == count
    # The original sent again is a duplicate: its recorded answer, nothing posted again.
    assert terminal.exchange(terminal.signed(original)).code == "00"
    assert bank.balances() == before and bank.transfer_count() == count
    results = [event["result"] for event in bank.audit("iso_reversal")]
    assert results == ["reversed"]


def test_reversal_of_a_pending_other_bank_transfer_voids_it(terminal: IsoTerminal, bank: Bank) -> None:
    before = bank.balance(WANG_FANG_CURRENT)
    original = transfer_request(
        terminal, bank, "other_bank", 10_000, to="6222020012345678", payee_name="Zhao Lei", bank_code="102"
    )
    assert terminal.send(original).data["status"] == "pending"
    count = bank.transfer_count()
    answer = terminal.send(reversal_of(terminal, original))
    assert answer.code == "00" and answer.data == {"result": "reversed", "reason": "voided"}
    transfer = next(t for t in bank.transfers() if t.idempotency_key == iso_key(original))
    assert transfer.status == "voided"
    assert bank.balance(WANG_FANG_CURRENT) == before and bank.transfer_count() == count


def test_reversal_of_a_stan_never_seen_changes_nothing_and_the_late_original_is_declined(
    terminal: IsoTerminal, bank: Bank
) -> None:
    before, count = bank.balances(), bank.transfer_count()
    # The terminal timed out on a transfer the host never received, and reversed it.
    original = transfer_request(terminal, bank, "own", 4_000, to=WANG_FANG_SAVINGS)
    answer = terminal.send(reversal_of(terminal, original))
    assert answer.code == "00" and answer.data == {"result": "nothing_to_reverse"}
    assert bank.balances() == before and bank.transfer_count() == count
    # The original turns up after all: declined, nothing posted.
    late = terminal.send(original)
    assert late.code == "05" and late.data == {"reason": "reversed_before_arrival"}
    assert bank.balances() == before and bank.transfer_count() == count
    # Reversing a declined request changes nothing either.
    declined = transfer_request(terminal, bank, "customer", 1_000, to=LI_NA_CURRENT, payee_name="nobody")
    assert terminal.send(declined).code == "05"
    assert terminal.send(reversal_of(terminal, declined)).data == {"result": "nothing_to_reverse"}
    assert bank.balances() == before and bank.transfer_count() == count


def post_as_a_host_that_died_before_recording(bank: Bank, key: str, amount: int) -> None:
    """What a host process killed between posting an own transfer and recording its ISO answer leaves:
    the ledger has the transfer under its key, the host's record of ISO requests has nothing."""
    from hostlink.money import Money

    posted = bank.service.transfer_own(
        key, bank.account_id(WANG_FANG_CURRENT), bank.account_id(WANG_FANG_SAVINGS), Money(amount, "CNY")
    )
    assert posted.status.value == "posted", posted


def with_key(reversal: codec.Message, key: str) -> codec.Message:
    return reversal | {p.ADDITIONAL_DATA: p.additional_data({"reason": "no_answer", "key": key})}


def test_a_reversal_undoes_an_original_the_host_posted_but_died_before_recording(
    terminal: IsoTerminal, bank: Bank
) -> None:
    before = bank.balances()
    # The terminal's own idempotency key, in DE48 of the original and copied into its reversal.
    original = transfer_request(terminal, bank, "own", 7_000, to=WANG_FANG_SAVINGS)
    post_as_a_host_that_died_before_recording(bank, "S1234:feedface", 7_000)
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[WANG_FANG_CURRENT][0] - 7_000
    answer = terminal.send(with_key(reversal_of(terminal, original), "S1234:feedface"))
    assert answer.code == "00" and answer.data == {"result": "reversed", "reason": "compensated"}
    assert bank.balances() == before
    # Without DE48 key= the host's own key of terminal, STAN and DE7 is the one looked up.
    second = transfer_request(terminal, bank, "own", 8_000, to=WANG_FANG_SAVINGS)
    post_as_a_host_that_died_before_recording(bank, iso_key(second), 8_000)
    answer = terminal.send(reversal_of(terminal, second))
    assert answer.data == {"result": "reversed", "reason": "compensated"}
    assert bank.balances() == before
    # The original turning up afterwards is declined, and nothing posts again.
    count = bank.transfer_count()
    assert terminal.send(second).data == {"reason": "reversed_before_arrival"}
    assert bank.balances() == before and bank.transfer_count() == count


def test_a_reversal_by_key_leaves_alone_what_another_answered_request_posted_under_that_key(
    terminal: IsoTerminal, bank: Bank
) -> None:
    data = p.additional_data({"kind": "own", "key": "S5678:c0ffee"})
    answered = transfer_request(terminal, bank, "own", 5_000, to=WANG_FANG_SAVINGS) | {
        p.ADDITIONAL_DATA: data
    }
    assert terminal.send(answered).code == "00"
    after = bank.balances()
    never_arrived = transfer_request(terminal, bank, "own", 5_000, to=WANG_FANG_SAVINGS)
    answer = terminal.send(with_key(reversal_of(terminal, never_arrived), "S5678:c0ffee"))
    assert answer.data == {"result": "nothing_to_reverse", "reason": "key_answered_for_another_request"}
    assert bank.balances() == after


# -- MAC failures --------------------------------------------------------------------------------------------


def test_one_bit_flipped_anywhere_in_a_financial_request_is_refused_and_nothing_posts(
    bank_host: Any, terminal: IsoTerminal, bank: Bank
) -> None:
    """Each byte of a transfer request, one bit flipped: A0 with an audit record whenever it still
    decodes as the same terminal's request, never 00, and the connection closed when it does not
    decode (the host cannot answer what it cannot read)."""
    before, count = bank.balances(), bank.transfer_count()
    request = transfer_request(terminal, bank, "own", 1_500, to=WANG_FANG_SAVINGS)
    raw = terminal.signed(request)
    mac_failures = 0
    connection = terminal
    for position, bit in itertools.product(range(len(raw)), range(8)):
        mutated = bytearray(raw)
        mutated[position] ^= 1 << bit
        try:
            decoded = codec.decode(bytes(mutated))
            p.response_mti(str(decoded["t"]))
        except (codec.Iso8583Error, ValueError):
            decoded = None
        send_message(connection.sock, bytes(mutated))
        try:
            answer = recv_message(connection.sock, 10.0)
        except ConnectionError:
            assert decoded is None, f"byte {position} bit {bit}: a decodable request was not answered"
            connection = IsoTerminal(bank_host.iso8583)
            connection.tak = terminal.tak
            continue
        assert decoded is not None
        message = codec.decode(answer)
        assert message[p.RESPONSE_CODE] != "00", f"byte {position} bit {bit}"
        same_request = all(decoded.get(f) == request[f] for f in ("t", p.TERMINAL_ID, p.CARD_ACCEPTOR_ID))
        if same_request:  # else e.g. another terminal (58), or an 0220 (A0 too)
            assert message[p.RESPONSE_CODE] == "A0", f"byte {position} bit {bit}"
        if message[p.RESPONSE_CODE] == "A0":
            assert message[p.ADDITIONAL_DATA] == "reason=mac_failure;"
            assert p.MAC_PRIMARY not in message and p.MAC_SECONDARY not in message
            mac_failures += 1
    connection.close()
    assert mac_failures >= len(raw)  # about 2.3 per byte: where a flip leaves the message decodable
    assert bank.balances() == before and bank.transfer_count() == count
    audits = bank.audit("iso_mac_failure")
    assert len(audits) == mac_failures
    assert all(event["terminal_id"] == TERMINAL and event["mti"] == "0200" for event in audits[:1])
    assert not any(WANG_FANG_PAN in str(event) for event in audits)  # the PAN is masked in the detail
    # The untouched request still goes through: a MAC failure is not recorded as an answer.
    with IsoTerminal(bank_host.iso8583) as fresh:
        fresh.tak = terminal.tak
        assert fresh.exchange(raw).code == "00"
    assert bank.transfer_count() == count + 1


# -- bill payment and PIN change -----------------------------------------------------------------------------


def test_bill_payment_posts_to_the_biller(terminal: IsoTerminal, bank: Bank) -> None:
    before = bank.balance(WANG_FANG_CURRENT)
    request = terminal.card_request(
        p.FINANCIAL_REQUEST,
        p.BILL_PAYMENT,
        WANG_FANG_PAN,
        AMOUNT=p.amount_field(5_000),
        CURRENCY=p.CURRENCY_CNY,
        ACCOUNT_FROM=str(bank.account_id(WANG_FANG_CURRENT)),
        ADDITIONAL_DATA=p.additional_data({"biller": "PHONE", "number": "13800000001"}),
    )
    answer = terminal.send(request)
    assert answer.code == "00", answer.data
    transfer = next(t for t in bank.transfers() if t.idempotency_key == iso_key(request))
    assert answer.data["transfer"] == f"TR{transfer.id:010d}" and answer.data["reference"]
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[0] - 5_000
    assert terminal.exchange(terminal.signed(request)).answer == answer.answer  # a duplicate: once
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[0] - 5_000

    wrong_amount = dict(request, **{p.AMOUNT: p.amount_field(4_000), p.STAN: next_stan()})
    refused = terminal.send(wrong_amount)
    assert refused.code == "05" and refused.data == {"reason": "amount"}
    no_number = dict(request, **{p.ADDITIONAL_DATA: "biller=PHONE;", p.STAN: next_stan()})
    assert terminal.send(no_number).code == "30"
    assert bank.balance(WANG_FANG_CURRENT)[0] == before[0] - 5_000

    # Reversed: the money comes back.
    assert terminal.send(reversal_of(terminal, request)).data == {
        "result": "reversed",
        "reason": "compensated",
    }
    assert bank.balance(WANG_FANG_CURRENT) == before


def test_pin_change_then_the_new_pin_verifies_and_the_old_does_not(terminal: IsoTerminal, bank: Bank) -> None:
    new_pin = "5827"

    def verify(pin: str) -> str:
        block = terminal.pin_block(pin, LI_NA_PAN)
        answer = terminal.send(
            terminal.card_request(p.AUTH_REQUEST, p.PIN_VERIFY, LI_NA_PAN, PIN_BLOCK=block)
        )
        return answer.code

    def change(old: str, new: str) -> Exchange:
        return terminal.send(
            terminal.card_request(
                p.FINANCIAL_REQUEST,
                p.PIN_CHANGE,
                LI_NA_PAN,
                PIN_BLOCK=terminal.pin_block(old, LI_NA_PAN),
                NEW_PIN_BLOCK=terminal.pin_block(new, LI_NA_PAN).hex().upper(),
            )
        )

    weak = change("2468", "1111")
    assert weak.code == "12" and weak.data == {"reason": "new_pin_weak"}
    wrong_old = change("0000", new_pin)
    assert wrong_old.code == "55" and wrong_old.data["tries_left"] == "2"
    changed = change("2468", new_pin)
    assert changed.code == "00"
    assert verify(new_pin) == "00"
    assert verify("2468") == "55"
    assert verify(new_pin) == "00"  # and the counter is reset
    assert bank.card_status(LI_NA_PAN) == "active"


# -- retained card, unknown terminal -------------------------------------------------------------------------


def test_retained_card_advice_is_acknowledged_and_the_card_is_retained(
    terminal: IsoTerminal, bank: Bank
) -> None:
    assert bank.card_status(LI_NA_PAN) == "active"
    advice = terminal.card_request(
        p.AUTH_ADVICE, p.CARD_RETAINED, LI_NA_PAN, ADDITIONAL_DATA=p.additional_data({"reason": "not_taken"})
    )
    answer = terminal.send(advice)
    assert answer.message["t"] == p.AUTH_ADVICE_RESPONSE and answer.code == "00"
    assert bank.card_status(LI_NA_PAN) == "retained"
    recorded = [e for e in bank.audit("card_status_changed") if e.get("status") == "retained"]
    assert recorded and recorded[0]["reason"] == "not_taken" and recorded[0]["terminal_id"] == TERMINAL
    block = terminal.pin_block("2468", LI_NA_PAN)
    assert (
        terminal.send(terminal.card_request(p.AUTH_REQUEST, p.PIN_VERIFY, LI_NA_PAN, PIN_BLOCK=block)).code
        == "57"
    )


def test_a_queued_advice_names_the_card_by_its_pin_check_and_an_unknown_one_changes_nothing(
    terminal: IsoTerminal, bank: Bank
) -> None:
    """A stored-and-forwarded advice (0121) carries no PAN: DE90 names the session's PIN check (0100),
    whose card the host kept with its record of it."""

    def advice_naming(stan: str, transmission_time: str) -> Exchange:
        original = p.original_data(p.AUTH_REQUEST, stan, transmission_time, ACQUIRER)
        return terminal.send(
            terminal.base(
                p.AUTH_ADVICE_REPEAT,
                p.CARD_RETAINED,
                ORIGINAL_DATA=original,
                ADDITIONAL_DATA=p.additional_data({"reason": "not_taken"}),
            )
        )

    block = terminal.pin_block("2468", LI_NA_PAN)
    check = terminal.send(terminal.card_request(p.AUTH_REQUEST, p.PIN_VERIFY, LI_NA_PAN, PIN_BLOCK=block))
    assert check.code == "00"
    unknown = advice_naming(next_stan(), str(check.message[p.TRANSMISSION_DATETIME]))
    assert unknown.code == "25" and unknown.data == {"reason": "unknown_card"}
    assert bank.card_status(LI_NA_PAN) == "active"
    answer = advice_naming(str(check.message[p.STAN]), str(check.message[p.TRANSMISSION_DATETIME]))
    assert answer.message["t"] == p.AUTH_ADVICE_RESPONSE and answer.code == "00"
    assert bank.card_status(LI_NA_PAN) == "retained"
    # The repeat of an advice already taken is answered the same and changes nothing more.
    again = advice_naming(str(check.message[p.STAN]), str(check.message[p.TRANSMISSION_DATETIME]))
    assert again.code == "00" and bank.card_status(LI_NA_PAN) == "retained"


def test_an_unknown_terminal_is_58_unmacd(bank_host: Any, bank: Bank) -> None:
    before = bank.transfer_count()
    with IsoTerminal(bank_host.iso8583, "KIOSK-9999") as stranger:
        sign_on = stranger.exchange(
            codec.encode(stranger.base(p.NETWORK_REQUEST, NETWORK_CODE=p.SIGN_ON)), macd=False
        )
        assert sign_on.code == "58" and sign_on.data == {"reason": "terminal_not_enrolled"}
        assert p.TPK_KEY_BLOCK not in sign_on.message
        stranger.tak = bytes(range(16))
        request = stranger.card_request(
            p.FINANCIAL_REQUEST,
            p.BALANCE,
            WANG_FANG_PAN,
            ACCOUNT_FROM=str(bank.account_id(WANG_FANG_CURRENT)),
        )
        answer = stranger.exchange(stranger.signed(request), macd=False)
        assert answer.code == "58"
    assert bank.transfer_count() == before
    assert bank.audit("iso_terminal_refused")[0]["terminal"] == "KIOSK-9999"


def test_de41_must_be_the_last_8_characters_of_de42(bank_host: Any) -> None:
    with IsoTerminal(bank_host.iso8583) as terminal:
        message = terminal.base(p.NETWORK_REQUEST, NETWORK_CODE=p.SIGN_ON)
        message[p.TERMINAL_ID] = "KIOSK-00"
        answer = terminal.exchange(codec.encode(message), macd=False)
    assert answer.code == "30" and answer.data == {"reason": "terminal_id_mismatch"}


# -- the example exchange in docs/iso8583.md -----------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[3] / "docs" / "iso8583.md"


def hex_dump(raw: bytes) -> str:
    """32 bytes a line, as the docs show a message."""
    text = raw.hex().upper()
    return "\n".join(text[i : i + 64] for i in range(0, len(text), 64))


def test_capture_a_sign_on_and_a_balance_enquiry(bank_host: Any, bank: Bank) -> None:
    """The exchange the docs show. ``ISO8583_CAPTURE=FILE`` writes it out (hex, framing not included)."""
    with IsoTerminal(bank_host.iso8583) as terminal:
        sign_on = terminal.sign_on()
        balance = terminal.send(balance_request(terminal, bank, WANG_FANG_PAN, WANG_FANG_CURRENT))
    assert balance.code == "00"
    target = os.environ.get("ISO8583_CAPTURE")
    if target:
        parts = {
            "0800 sign-on": sign_on.request,
            "0810 sign-on answer": sign_on.answer,
            "0200 balance enquiry": balance.request,
            "0210 balance answer": balance.answer,
        }
        Path(target).write_text(
            "\n\n".join(f"{name}\n{hex_dump(raw)}" for name, raw in parts.items()) + "\n", encoding="utf-8"
        )


def docs_example() -> dict[str, bytes]:
    """The hex blocks of the terminal ↔ host example exchange, by the MTI on the line before each."""
    text = DOCS.read_text(encoding="utf-8")
    ours = text.split("\n## Terminal ↔ host messages\n", 1)[1].split("\n## ", 1)[0]
    section = ours.split("\n### Example exchange\n", 1)[1]
    blocks = re.findall(r"^`(\d{4})`[^\n]*\n\n```text\n([0-9A-F\n]+)```", section, flags=re.M)
    return {mti: bytes.fromhex(body.replace("\n", "")) for mti, body in blocks}


def test_the_docs_example_exchange_is_genuine() -> None:
    """The captured messages in the docs decode, the key blocks open under the test TMK to the KCVs
    shown, and the balance enquiry's and its answer's MACs verify under that TAK."""
    example = docs_example()
    assert set(example) == {"0800", "0810", "0200", "0210"}
    sign_on, keys = codec.decode(example["0800"]), codec.decode(example["0810"])
    assert sign_on[p.NETWORK_CODE] == "001" and keys[p.RESPONSE_CODE] == "00"
    tpk = keyblock.unwrap(TEST_TMK, str(keys[p.TPK_KEY_BLOCK])).key
    tak = keyblock.unwrap(TEST_TMK, str(keys[p.TAK_KEY_BLOCK])).key
    assert keys[p.KEY_CHECK_VALUES] == kcv(tpk) + kcv(tak)
    request, answer = codec.decode(example["0200"]), codec.decode(example["0210"])
    assert request[p.PROCESSING_CODE] == p.BALANCE and answer[p.RESPONSE_CODE] == "00"
    for raw in (example["0200"], example["0210"]):
        assert codec.verify_mac(raw, lambda data: retail_mac(tak, data))
    assert (
        answer[p.STAN] == request[p.STAN]
        and answer[p.TRANSMISSION_DATETIME] == request[p.TRANSMISSION_DATETIME]
    )


def test_the_hosts_record_of_iso_requests_holds_nothing_a_secret_scan_takes_for_a_pan(tmp_path: Path) -> None:
    """STAN, DE7, DE3 and the answer, stored side by side as digits, made runs a PAN scan could not tell
    from a card number glued to a column; stored as numbers and the answer vault-encrypted, they do not.
    500 seeded rows shaped as the host writes them (an approved transfer and its answer)."""
    import random

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bank.security.vault import Vault, install_vault
    from bank.terminals.models import IsoTransaction
    from kiosk.security.scan import scan_file

    install_vault(Vault.ephemeral())
    engine = create_engine(f"sqlite:///{tmp_path / 'iso.db'}")
    IsoTransaction.__table__.create(engine)  # type: ignore[attr-defined]
    rnd = random.Random(8583)
    with Session(engine) as db, db.begin():
        for n in range(1, 501):
            day, hour, minute, second = (
                rnd.randint(1, 28),
                rnd.randint(0, 23),
                rnd.randint(0, 59),
                rnd.randint(0, 59),
            )
            sent = f"12{day:02d}{hour:02d}{minute:02d}{second:02d}"  # DE7 in December
            stan, auth = f"{n:06d}", f"{rnd.randrange(10**6):06d}"
            answer = f"0210400000000000002500{sent}{stan}{sent[:6]}{stan}{auth}00OSK-0001".encode()
            db.add(
                IsoTransaction(
                    terminal_id="KIOSK-0001", stan=int(stan), transmission_time=int(sent), mti="0200",
                    processing_code="400000", amount_minor=2500, response_code="00", auth_id=auth,
                    reference=f"S{rnd.randrange(16**12):012X}:{rnd.randrange(16**16):016x}",
                    request_hash=f"{rnd.randrange(16**64):064x}", response=answer,
                )
            )  # fmt: skip
    engine.dispose()
    assert [f for f in scan_file(tmp_path / "iso.db") if f.kind == "pan"] == []


@pytest.mark.parametrize(
    ("mti", "code", "takes_turns_across_hosts"),
    [
        (p.FINANCIAL_REQUEST, p.TRANSFER, True),
        (p.FINANCIAL_REQUEST, p.BILL_PAYMENT, True),
        (p.FINANCIAL_REQUEST, p.PIN_CHANGE, True),
        (p.REVERSAL, p.BALANCE, True),  # a reversal always waits for what it names, whatever that was
        (p.REVERSAL_REPEAT, p.TRANSFER, True),
        (p.FINANCIAL_REQUEST, p.BALANCE, False),
        (p.FINANCIAL_REQUEST, p.MINI_STATEMENT, False),
        (p.AUTH_REQUEST, p.PIN_VERIFY, False),
    ],
)
def test_only_what_a_reversal_could_undo_takes_the_lock_between_host_processes(
    mti: str, code: str, takes_turns_across_hosts: bool
) -> None:
    assert moves_money({"t": mti, p.PROCESSING_CODE: code}) is takes_turns_across_hosts
