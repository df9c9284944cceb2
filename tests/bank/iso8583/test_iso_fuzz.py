"""Hostile bytes at the host's ISO 8583 listener, a running ``bank serve`` process.

Whatever arrives, the host answers it or closes that connection (never leaves the sender waiting on a
complete frame), never posts anything, never answers 96 (an exception it did not expect), and keeps
serving: after each barrage a fresh connection signs on and gets the right balance.
"""

from __future__ import annotations

import itertools
import random
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bank.iso8583.service import card_acceptor_id, iso_terminal_id
from hostlink import keyblock
from hostlink.iso8583 import codec
from hostlink.iso8583 import profile as p
from hostlink.iso8583.framing import MAX_MESSAGE_LEN, FrameReader, frame
from hostlink.pinblock import encrypt_pin_block
from hostlink.tdes import retail_mac
from simulators.pin_pad import TEST_TMK

TERMINAL = "KIOSK-0001"
PAN, PIN = "43219876543210987", "1234"  # Wang Fang (bank/seed.py)
CURRENT, SAVINGS = "0001100000010014", "0001200000010020"
WAIT_S = 5.0  # per read: an answer or a close comes in milliseconds; this only bounds a hang

_STANS = itertools.count(1)


class Link:
    """A signed-on connection: TPK and TAK from the sign-on's key blocks, opened with the test TMK."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=WAIT_S)
        self.tpk = self.tak = b""

    def close(self) -> None:
        self.sock.close()

    def message(self, mti: str, **fields: str | bytes) -> codec.Message:
        when = datetime.now(UTC)
        message: codec.Message = {
            "t": mti,
            p.TRANSMISSION_DATETIME: p.transmission_time(when),
            p.STAN: f"{next(_STANS):06d}",
            p.TERMINAL_ID: iso_terminal_id(TERMINAL),
            p.CARD_ACCEPTOR_ID: card_acceptor_id(TERMINAL),
        }
        message.update(fields)
        return message

    def ask(self, raw: bytes) -> codec.Message:
        self.sock.sendall(frame(raw))
        answer = read_frames(self.sock, want=1)
        assert len(answer) == 1, "no answer"
        return codec.decode(answer[0])

    def sign_on(self) -> None:
        answer = self.ask(codec.encode(self.message(p.NETWORK_REQUEST, **{p.NETWORK_CODE: p.SIGN_ON})))
        assert answer[p.RESPONSE_CODE] == "00"
        self.tpk = keyblock.unwrap(TEST_TMK, str(answer[p.TPK_KEY_BLOCK])).key
        self.tak = keyblock.unwrap(TEST_TMK, str(answer[p.TAK_KEY_BLOCK])).key

    def signed(self, message: codec.Message) -> bytes:
        return codec.encode_with_mac(message, lambda data: retail_mac(self.tak, data))


def read_frames(sock: socket.socket, *, want: int | None = None) -> list[bytes]:
    """Answers until ``want`` of them arrived, or the host closed the connection. A read that waits
    WAIT_S for either fails the test: the host left the sender hanging."""
    reader, frames = FrameReader(), []
    deadline = time.monotonic() + WAIT_S
    while want is None or len(frames) < want:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            pytest.fail("the host neither answered nor closed the connection")
        except ConnectionError:
            break  # reset: closed, as good as EOF
        if not data:
            break
        frames += reader.feed(data)
    return frames


def poke(address: tuple[str, int], data: bytes, *, then_eof: bool = False) -> list[bytes]:
    """Send ``data`` on a fresh connection; the answers the host sent before it closed (or, if it kept
    the connection open, the one answer a complete frame gets). ``then_eof``: half-close after sending,
    for input that ends mid-frame (the host waits for the rest, as it should, until the EOF)."""
    with socket.create_connection(address, timeout=WAIT_S) as sock:
        try:
            sock.sendall(data)
            if then_eof:
                sock.shutdown(socket.SHUT_WR)
        except ConnectionError:
            pass  # closed on us already (a bad length seen before the rest arrived)
        return read_frames(sock, want=None if then_eof else 1)


def check_answers(answers: list[bytes]) -> list[codec.Message]:
    """Each answer decodes, is a refusal (or an unMACed network answer), and is never a 96."""
    decoded = [codec.decode(answer) for answer in answers]
    for message in decoded:
        code = message[p.RESPONSE_CODE]
        assert code != "96", codec.describe(message)
        assert code != "00" or message["t"] == p.NETWORK_RESPONSE, codec.describe(message)
    return decoded


# -- the host's books ----------------------------------------------------------------------------------


def books(bank_host: Any) -> tuple[Any, ...]:
    """Every account's balance and holds, and the number of transfers: what posting would change."""
    from bank.models import Account, Transfer

    with bank_host.inspect().runtime.sessions() as db:
        accounts = db.execute(
            select(Account.number, Account.balance_minor, Account.pending_debits_minor).order_by(Account.id)
        ).all()
        transfers = db.scalar(select(func.count()).select_from(Transfer))
    return tuple(tuple(row) for row in accounts), transfers


def account_id(bank_host: Any, number: str) -> int:
    from bank.models import Account

    with bank_host.inspect().runtime.sessions() as db:
        return int(db.scalar(select(Account.id).where(Account.number == number)) or 0)


def still_serving(bank_host: Any) -> None:
    """A fresh connection signs on and gets the right balance of Wang Fang's current account."""
    assert bank_host.process.alive()
    link = Link(bank_host.iso8583)
    try:
        link.sign_on()
        request = link.message(
            p.FINANCIAL_REQUEST,
            **{p.PROCESSING_CODE: p.BALANCE, p.PAN: PAN, p.ACCOUNT_FROM: str(account_id(bank_host, CURRENT))},
        )
        answer = link.ask(link.signed(request))
        assert answer[p.RESPONSE_CODE] == "00"
        ledger = bank_host.bank().balance(account_id(bank_host, CURRENT)).ledger.minor
        assert str(answer[p.BALANCES])[8:20] == f"{ledger:012d}"
    finally:
        link.close()


@pytest.fixture
def host(bank_host: Any) -> Iterator[tuple[Any, Link]]:
    """The host, a signed-on link (its keys sign the valid requests mutated here), and the promise
    that nothing was posted and the host still serves at the end."""
    link = Link(bank_host.iso8583)
    link.sign_on()
    before = books(bank_host)
    try:
        yield bank_host, link
    finally:
        link.close()
    assert books(bank_host) == before, "something was posted"
    still_serving(bank_host)


def transfer(link: Link, bank_host: Any) -> bytes:
    """A valid, MACed own-account transfer: the thing the barrage mutates (so any slip would post)."""
    data = p.additional_data({"kind": "own"})
    request = link.message(
        p.FINANCIAL_REQUEST,
        **{
            p.PROCESSING_CODE: p.TRANSFER,
            p.PAN: PAN,
            p.AMOUNT: p.amount_field(10_000),
            p.CURRENCY: p.CURRENCY_CNY,
            p.ADDITIONAL_DATA: data,
            p.PIN_BLOCK: encrypt_pin_block(PIN, PAN, link.tpk, 0),
            p.ACCOUNT_FROM: str(account_id(bank_host, CURRENT)),
            p.ACCOUNT_TO: str(account_id(bank_host, SAVINGS)),
        },
    )
    return link.signed(request)


# -- framing ---------------------------------------------------------------------------------------------


def test_bad_lengths_close_the_connection(host: tuple[Any, Link]) -> None:
    bank_host, link = host
    valid = transfer(link, bank_host)
    for header in (b"\x00\x00", (MAX_MESSAGE_LEN + 1).to_bytes(2, "big"), b"\xff\xff"):
        assert poke(bank_host.iso8583, header + valid) == []
        assert poke(bank_host.iso8583, header) == []
    # A complete frame and a bad length behind it: the frame is answered if the host read it on its
    # own, or dropped with the stream if both came in one read; either way nothing after it is read.
    check_answers(poke(bank_host.iso8583, frame(valid[:-1] + b"\x00") + b"\x00\x00" + frame(valid)))
    # The biggest length allowed, of garbage, is read in full and refused (closed), not half-read.
    assert poke(bank_host.iso8583, frame(b"0200" + b"Z" * (MAX_MESSAGE_LEN - 4))) == []


def test_truncated_messages_are_not_answered(host: tuple[Any, Link]) -> None:
    bank_host, link = host
    valid = transfer(link, bank_host)
    for cut in [*range(1, 40), *range(40, len(valid), 7), len(valid) - 1]:
        assert poke(bank_host.iso8583, frame(valid[:cut])) == [], cut


def test_dropped_mid_frame(host: tuple[Any, Link]) -> None:
    bank_host, link = host
    valid = transfer(link, bank_host)
    for sent in (1, 2, 3, 50, len(valid) + 1):  # inside the header, just after it, mid-message
        assert poke(bank_host.iso8583, frame(valid)[:sent], then_eof=True) == []
        with socket.create_connection(bank_host.iso8583, timeout=WAIT_S) as sock:
            sock.sendall(frame(valid)[:sent])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        # closed with a reset (SO_LINGER 0): the host's recv raises instead of returning b""
    # A whole balance enquiry, then half of the next one: the first is answered, the rest dropped.
    balance = link.signed(
        link.message(
            p.FINANCIAL_REQUEST,
            **{p.PROCESSING_CODE: p.BALANCE, p.PAN: PAN, p.ACCOUNT_FROM: str(account_id(bank_host, CURRENT))},
        )
    )
    answers = poke(bank_host.iso8583, frame(balance) + frame(valid)[:30], then_eof=True)
    assert [codec.decode(a)[p.RESPONSE_CODE] for a in answers] == ["00"]


def test_wrong_bitmaps_and_garbage(host: tuple[Any, Link]) -> None:
    bank_host, link = host
    valid = transfer(link, bank_host)
    bitmap = valid[4:20]
    bitmaps = [
        bitmap.lower(),  # hex, but lower case
        b"G" + bitmap[1:],  # not hex
        b"0" * 16,  # names nothing
        b"8" + bitmap[1:],  # bit 1 flipped: a secondary bitmap that is not there
        b"F" * 16,  # every field
        f"{int(bitmap, 16) | 1 << 64 - 60:016X}".encode(),  # DE60 named but not there: fields shift
        f"{int(bitmap, 16) & ~(1 << 64 - 48):016X}".encode(),  # DE48 there but not named
    ]
    for wrong in bitmaps:
        check_answers(poke(bank_host.iso8583, frame(valid[:4] + wrong + valid[20:])))
    secondary_zero = b"0800" + b"8220000000000000" + b"0" * 16 + valid[20:]
    assert poke(bank_host.iso8583, frame(secondary_zero)) == []
    rng = random.Random(8583)
    for size in (1, 3, 19, 20, 21, 64, 300, 2000):
        garbage = rng.randbytes(size)
        check_answers(poke(bank_host.iso8583, frame(garbage)))
        check_answers(poke(bank_host.iso8583, garbage, then_eof=True))  # unframed: the first 2 are a length
        check_answers(poke(bank_host.iso8583, frame(b"0200" + garbage)))  # an MTI, then anything
    # A response MTI is not a request: not answered (a host never answers an answer).
    answer_mti = b"0210" + valid[4:]
    assert poke(bank_host.iso8583, frame(answer_mti)) == []


# -- mutations of a valid, signed request -------------------------------------------------------------------


def mutations(rng: random.Random) -> list[Callable[[bytearray], None]]:
    def flip(data: bytearray) -> None:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)

    def replace(data: bytearray) -> None:
        data[rng.randrange(len(data))] = rng.randrange(256)

    def digit(data: bytearray) -> None:
        data[rng.randrange(len(data))] = rng.choice(b"0123456789")

    def insert(data: bytearray) -> None:
        data.insert(rng.randrange(len(data) + 1), rng.randrange(256))

    def delete(data: bytearray) -> None:
        del data[rng.randrange(len(data))]

    def duplicate(data: bytearray) -> None:
        start = rng.randrange(len(data))
        data[start:start] = data[start : start + rng.randint(1, 20)]

    def swap(data: bytearray) -> None:
        i, j = rng.randrange(len(data)), rng.randrange(len(data))
        data[i], data[j] = data[j], data[i]

    def truncate(data: bytearray) -> None:
        del data[rng.randrange(1, len(data)) :]

    return [flip, replace, digit, insert, delete, duplicate, swap, truncate]


def test_random_mutations_of_a_signed_transfer_never_post(host: tuple[Any, Link]) -> None:
    bank_host, link = host
    valid = transfer(link, bank_host)
    rng = random.Random(20240614)
    ops = mutations(rng)
    answered = closed = 0
    seen: set[bytes] = set()
    for _ in range(500):
        data = bytearray(valid)
        for op in rng.sample(ops, rng.randint(1, 3)):
            op(data)
        mutated = bytes(data)
        if mutated == valid or not mutated or mutated in seen:
            continue  # not a mutation (the untouched request would post, as it should)
        seen.add(mutated)
        answers = check_answers(poke(bank_host.iso8583, frame(mutated)))
        answered += len(answers)
        closed += not answers
        for answer in answers:
            if answer[p.RESPONSE_CODE] == "A0":
                assert p.MAC_PRIMARY not in answer and p.MAC_SECONDARY not in answer
    assert answered >= 20 and closed >= 200  # both paths taken (about 45 and 440)
    # Pipelined on one connection: answered one by one until the first that does not decode.
    stream = b"".join(frame(bytes(valid[:-1]) + bytes([valid[-1] ^ n])) for n in range(1, 6))
    answers = check_answers(poke(bank_host.iso8583, stream + frame(b"junk"), then_eof=True))
    assert [a[p.RESPONSE_CODE] for a in answers] == ["A0"] * 5
