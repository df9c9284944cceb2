"""Card and account effects, run on the worker pool against the bank host: card look-up, PIN check,
accounts, enquiries, transfers.

Results go back to the journeys as plain dicts (minor units, ISO dates, masked numbers). A PIN block goes
from the effect's params to the host (enciphered, as the PIN pad made it) and is dropped; nothing here
logs it. A transfer whose answer is lost is asked again with the same idempotency key (the host answers a
repeated key with the first answer), and if no host answers at all, asked about by that key: it is never
posted twice and never lost.
"""

from __future__ import annotations

import logging
from typing import Any

from app.effects import EffectContext, handler
from app.services import TerminalServices
from hostlink import api
from hostlink.redaction import mask_pan
from kiosk.hostclient import HostError, HostUnavailable

log = logging.getLogger(__name__)

PIN_EVENTS = {"ok": "pin_verified", "wrong": "pin_wrong", "retain": "card_retained_pin_tries_exceeded"}


def _services(ctx: EffectContext) -> TerminalServices:
    services: TerminalServices = ctx.services
    return services


def _line(line: api.StatementLineView) -> dict[str, Any]:
    return line.model_dump()


@handler("bank.card_lookup")
def card_lookup(ctx: EffectContext) -> None:
    pan = str(ctx.params["pan"])
    host = _services(ctx).host

    def work() -> dict[str, Any] | None:
        card = host.card_lookup(pan)
        if not card.found:
            return None
        return card.model_dump(exclude={"found"})

    ctx.in_background(work)


@handler("security.check_pin")
def check_pin(ctx: EffectContext) -> None:
    pan = str(ctx.params["pan"])
    block = bytes(ctx.params["pin_block"])
    session_id = str(ctx.params.get("session_id") or "")
    services = _services(ctx)
    key = services.new_idempotency_key(session_id)

    def work() -> dict[str, Any]:
        result = services.host.verify_pin(pan, block, session_id, key)
        # The terminal's own evidence of the check (the host records it too): masked PAN, tries left.
        services.journal.record(
            PIN_EVENTS.get(result.outcome, "pin_check_refused"),
            session_id=session_id or None,
            pan_masked=mask_pan(pan),
            outcome=result.outcome,
            tries_left=result.tries_left,
        )
        return {"outcome": result.outcome, "tries_left": result.tries_left}

    ctx.in_background(work)


@handler("bank.accounts")
def accounts(ctx: EffectContext) -> None:
    customer_id = int(ctx.params["customer_id"])
    host = _services(ctx).host
    ctx.in_background(lambda: [a.model_dump() for a in host.accounts(customer_id).accounts])


@handler("bank.balance")
def balance(ctx: EffectContext) -> None:
    account_id = int(ctx.params["account_id"])
    host = _services(ctx).host

    def work() -> dict[str, Any]:
        result = host.balance(account_id)
        if result.refused:
            raise LookupError(result.refused)
        return result.model_dump(exclude={"refused"})

    ctx.in_background(work)


@handler("bank.mini_statement")
def mini_statement(ctx: EffectContext) -> None:
    account_id = int(ctx.params["account_id"])
    host = _services(ctx).host

    def work() -> dict[str, Any]:
        result = host.mini_statement(account_id)
        if result.refused:
            raise LookupError(result.refused)
        return {"lines": [_line(line) for line in result.lines]}

    ctx.in_background(work)


@handler("bank.history")
def history(ctx: EffectContext) -> None:
    p = ctx.params
    before = p.get("before")
    query = api.HistoryQuery(
        start=str(p["start"]),
        end=str(p["end"]),
        page_size=int(p.get("page_size", 8)),
        before=None if before is None else int(before),
    )
    account_id = int(p["account_id"])
    host = _services(ctx).host

    def work() -> dict[str, Any]:
        result = host.history(account_id, query)
        if result.refused:
            return {"refused": result.refused, "lines": [], "next_cursor": None}
        return {"lines": [_line(line) for line in result.lines], "next_cursor": result.next_cursor}

    ctx.in_background(work)


def transfer_order(p: dict[str, Any]) -> api.TransferOrder:
    kind = str(p["kind"])
    if kind not in ("own", "customer", "other_bank"):
        raise ValueError(f"unknown transfer kind {kind!r}")
    return api.TransferOrder(
        idempotency_key=str(p["idempotency_key"]),
        kind=kind,  # type: ignore[arg-type]
        from_account_id=int(p["from_account_id"]),
        to_account_id=int(p["to_account_id"]) if p.get("to_account_id") is not None else None,
        payee_account=str(p.get("payee_account", "")),
        payee_name=str(p.get("payee_name", "")),
        bank_code=str(p.get("bank_code", "")),
        amount_minor=int(p["amount_minor"]),
        currency=str(p.get("currency", "CNY")),
    )


@handler("bank.transfer")
def transfer(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    key = str(p["idempotency_key"])
    host = _services(ctx).host

    def work() -> dict[str, Any]:
        order = transfer_order(p)
        try:
            answer = host.transfer(order)
        except HostUnavailable as exc:
            # No host answered, even after retries on every address. Did it post? Ask by the key; if
            # that cannot be answered either, the outcome stays unknown and recovery settles it later.
            log.error("transfer %s: no answer from the host: %s", key, exc)
            state = host.transfer_state(key)
            if state.status == "not_posted":
                return {"posted": False, "error": "host_unavailable"}
            answer = host.transfer(order)  # posted: the same key replays the first answer
        if answer.refused:
            return {"refused": answer.refused}
        return answer.model_dump(exclude={"refused"})

    def finished(ok: bool, payload: Any) -> None:
        # The code and detail are what the journal's transfer outcome says: the dispute team must tell a
        # posted transfer (with its reference) from a refused one without asking the host.
        if ok and isinstance(payload, dict) and payload.get("posted") is False:
            ctx.done(False, payload, "not_posted", str(payload.get("error", "")))
        elif ok and isinstance(payload, dict) and payload.get("refused"):
            ctx.done(True, payload, "refused", str(payload["refused"]))
        elif ok and isinstance(payload, dict):
            ctx.done(
                True, payload, detail=f"{payload.get('reference', '')} {payload.get('status', '')}".strip()
            )
        elif ok:
            ctx.done(True, payload)
        else:
            ctx.done(False, {}, "unknown", str(payload))

    def guarded() -> dict[str, Any]:
        try:
            return work()
        except HostError as exc:
            raise RuntimeError(f"host: {exc}") from exc

    ctx.spawn(guarded, finished)
