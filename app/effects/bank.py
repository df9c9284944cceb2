"""Card and account effects, run on the worker pool against the bank host: card look-up, PIN check,
accounts, enquiries, transfers, PIN change (a card session's, over ISO 8583 only).

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
from kiosk.cardlink import AnswerUnknown, CardLink, CardLinkError, CardLinkUnavailable, IsoAnswer
from kiosk.hostclient import HostError, HostUnavailable

log = logging.getLogger(__name__)

PIN_EVENTS = {"ok": "pin_verified", "wrong": "pin_wrong", "retain": "card_retained_pin_tries_exceeded"}


def _services(ctx: EffectContext) -> TerminalServices:
    services: TerminalServices = ctx.services
    return services


def _line(line: api.StatementLineView) -> dict[str, Any]:
    return line.model_dump()


def card_link_for(ctx: EffectContext) -> tuple[CardLink, str] | None:
    """The ISO 8583 link and the card's PAN when this is a card session on a terminal that has one;
    None: the JSON API (a cardless, face-login session, or a host without an ISO 8583 front door)."""
    link = _services(ctx).cardlink
    pan = str(ctx.params.get("pan") or "")
    return (link, pan) if link is not None and pan else None


def iso_refusal(answer: IsoAnswer) -> str:
    """The host's exact reason (DE48 ``reason=``), else DE39's meaning as a reason word."""
    return answer.extra.get("reason") or answer.meaning.replace(" ", "_").replace("/", "_")


def iso_balance(answer: IsoAnswer) -> dict[str, Any]:
    """DE54 (ledger 01, available 02; sign C/D) and DE48 as the JSON API's balance view."""
    amounts: dict[str, int] = {}
    text = str(answer.fields.get("54", ""))
    for start in range(0, len(text) - 19, 20):
        item = text[start : start + 20]
        amounts[item[2:4]] = int(item[8:20]) * (-1 if item[7] == "D" else 1)
    extra = answer.extra
    return {
        "ledger_minor": amounts.get("01", 0),
        "available_minor": amounts.get("02", 0),
        "pending_minor": int(extra.get("pending", "0")),
        "overdraft_minor": int(extra.get("overdraft", "0")),
        "status": extra.get("status", ""),
    }


def iso_statement_lines(answer: IsoAnswer) -> list[dict[str, Any]]:
    from urllib.parse import unquote

    extra = answer.extra
    lines = []
    for number in range(1, int(extra.get("lines", "0")) + 1):
        day, amount, balance_after, description = extra[f"l{number}"].split(",", 3)
        lines.append(
            {
                "date": day,
                "description": unquote(description),
                "amount_minor": int(amount),
                "balance_minor": int(balance_after),
            }
        )
    return lines


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
    key = api.new_idempotency_key(session_id)

    link = services.cardlink

    def check() -> tuple[str, int]:
        if link is None:
            result = services.host.verify_pin(pan, block, session_id, key)
            return result.outcome, result.tries_left
        answer = link.verify_pin(pan, str(ctx.params.get("expiry") or ""), block)  # 0100, DE52
        if "outcome" not in answer.extra:
            raise RuntimeError(f"the PIN check was not answered: {answer.code} {answer.meaning}")
        return answer.extra["outcome"], int(answer.extra.get("tries_left", "0"))

    def work() -> dict[str, Any]:
        outcome, tries_left = check()
        # The terminal's own evidence of the check (the host records it too): masked PAN, tries left.
        services.journal.record(
            PIN_EVENTS.get(outcome, "pin_check_refused"),
            session_id=session_id or None,
            pan_masked=mask_pan(pan),
            outcome=outcome,
            tries_left=tries_left,
        )
        return {"outcome": outcome, "tries_left": tries_left}

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

    iso = card_link_for(ctx)

    def work() -> dict[str, Any]:
        if iso is not None:
            link, pan = iso
            answer = link.balance(pan, str(ctx.params.get("expiry") or ""), account_id)  # 0200 310000
            if not answer.approved:
                raise LookupError(iso_refusal(answer))
            return iso_balance(answer)
        result = host.balance(account_id)
        if result.refused:
            raise LookupError(result.refused)
        return result.model_dump(exclude={"refused"})

    ctx.in_background(work)


@handler("bank.mini_statement")
def mini_statement(ctx: EffectContext) -> None:
    account_id = int(ctx.params["account_id"])
    host = _services(ctx).host

    iso = card_link_for(ctx)

    def work() -> dict[str, Any]:
        if iso is not None:
            link, pan = iso
            answer = link.mini_statement(pan, str(ctx.params.get("expiry") or ""), account_id)  # 380000
            if not answer.approved:
                raise LookupError(iso_refusal(answer))
            return {"lines": iso_statement_lines(answer)}
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

    iso = card_link_for(ctx)

    def over_iso(link: CardLink, pan: str) -> dict[str, Any]:
        order = transfer_order(p)
        try:
            answer = link.transfer(
                pan,
                str(p.get("expiry") or ""),
                kind=order.kind,
                from_account_id=order.from_account_id,
                amount_minor=order.amount_minor,
                to_account_id=order.to_account_id,
                payee_account=order.payee_account,
                payee_name=order.payee_name,
                bank_code=order.bank_code,
                idempotency_key=key,
            )
        except CardLinkUnavailable as exc:
            # The answer was lost: the link reverses the request (now, or from its queue until the host
            # takes the reversal), so the money does not move either way.
            log.error("transfer %s: no answer over ISO 8583, reversed: %s", key, exc)
            return {"posted": False, "error": "host_unavailable", "reversed": True}
        if not answer.approved:
            return {"refused": iso_refusal(answer)}
        extra = answer.extra
        reference = extra.get("reference", "")
        return {
            "reference": reference,
            "transfer_id": int(reference[2:]) if reference[2:].isdigit() else 0,
            "status": extra.get("status", ""),
            "fee_minor": int(extra.get("fee", "0")),
            "replayed": False,
        }

    def work() -> dict[str, Any]:
        if iso is not None:
            return over_iso(*iso)
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
        if ok and isinstance(payload, dict) and payload.get("reversed"):
            ctx.done(False, payload, "reversed", str(payload.get("error", "")))
        elif ok and isinstance(payload, dict) and payload.get("posted") is False:
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


def pin_change_result(answer: IsoAnswer) -> dict[str, Any]:
    """The host's answer to a PIN change (0210, processing code 920000) as the journey's outcome word:
    ``changed``; ``wrong`` or ``retain`` (the current PIN, with ``tries_left``); ``weak`` (the new PIN);
    ``host_unavailable`` (A0: the host could not check the MAC and did nothing); ``refused``."""
    extra = answer.extra
    if answer.approved:
        return {"outcome": "changed"}
    if extra.get("outcome") in ("wrong", "retain"):
        return {"outcome": extra["outcome"], "tries_left": int(extra.get("tries_left", "0"))}
    if answer.code == "A0":
        return {"outcome": "host_unavailable", "reason": "mac_not_checked"}
    if extra.get("reason") == "new_pin_weak":
        return {"outcome": "weak"}
    return {"outcome": "refused", "reason": iso_refusal(answer)}


@handler("bank.change_pin")
def change_pin(ctx: EffectContext) -> None:
    """The current PIN's block and the new one to the host over ISO 8583; the JSON API has no PIN change,
    so without the card link this ends ``not_available`` at once. The blocks go from the params to the
    link and nowhere else; the journal gets the outcome with the masked PAN."""
    services = _services(ctx)
    session_id = str(ctx.params.get("session_id") or "")
    pan_masked = mask_pan(str(ctx.params.get("pan") or ""))

    def record(result: dict[str, Any]) -> None:
        fields = {k: v for k, v in result.items() if k in ("outcome", "tries_left", "reason")}
        events = {"changed": "pin_changed", "unconfirmed": "pin_change_unconfirmed"}
        services.journal.record(
            events.get(result["outcome"], "pin_change_refused"),
            session_id=session_id or None,
            pan_masked=pan_masked,
            **fields,
        )

    iso = card_link_for(ctx)
    if iso is None:
        result: dict[str, Any] = {"outcome": "not_available", "reason": "no_card_link"}
        record(result)
        ctx.done(False, result, "not_available", "PIN change needs the ISO 8583 card link")
        return
    link, pan = iso
    old_block, new_block = bytes(ctx.params["old_block"]), bytes(ctx.params["new_block"])
    expiry = str(ctx.params.get("expiry") or "")

    def work() -> dict[str, Any]:
        try:
            answer = link.change_pin(pan, expiry, old_block, new_block)  # 0200 920000: DE52, DE125
        except AnswerUnknown as exc:
            # Sent, and no copy answered: the host may have changed it. The customer is told so.
            log.error("PIN change for %s: sent, no answer: %s", pan_masked, exc)
            result = {"outcome": "unconfirmed", "reason": type(exc).__name__}
        except CardLinkError as exc:
            # Not reversible (no money moves): a request that never reached the host changed nothing.
            log.error("PIN change for %s: no answer over ISO 8583: %s", pan_masked, exc)
            result = {"outcome": "host_unavailable", "reason": type(exc).__name__}
        else:
            result = pin_change_result(answer)
        record(result)
        return result

    def finished(ok: bool, payload: Any) -> None:
        if not ok:
            log.error("PIN change for %s failed: %s", pan_masked, type(payload).__name__)
            record({"outcome": "failed", "reason": type(payload).__name__})
            ctx.done(False, {"outcome": "failed"}, "failed", type(payload).__name__)
        elif payload["outcome"] in ("host_unavailable", "unconfirmed"):
            ctx.done(False, payload, str(payload["outcome"]), str(payload.get("reason", "")))
        else:
            ctx.done(True, payload, str(payload["outcome"]))

    ctx.spawn(work, finished)
