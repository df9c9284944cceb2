"""ID card reader effect: read the resident ID card and hand the journey plain data (dates as ISO text)."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from devices.base import Completion, Result


def identity_data(identity: Any) -> dict[str, Any]:
    """The card's fields as plain values; the photo stays JPEG bytes (for the face match, then the bank)."""
    until = identity.valid_until
    return {
        "name": identity.name,
        "sex": identity.sex,
        "sex_en": identity.sex_en,
        "ethnicity": identity.ethnicity,
        "ethnicity_en": identity.ethnicity_en,
        "birth_date": identity.birth_date.isoformat(),
        "address": identity.address,
        "id_number": identity.id_number,
        "authority": identity.authority,
        "valid_from": identity.valid_from.isoformat(),
        "valid_until": until.isoformat() if until is not None else "",
        "check_digit_ok": bool(identity.check_digit_ok),
        "photo": bytes(identity.photo),
    }


@handler("id_reader.read")
def read(ctx: EffectContext) -> None:
    reader = ctx.devices.id_reader if ctx.devices is not None else None
    if reader is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no ID card reader configured")
        return

    def convert(result: Result[Any]) -> Any:
        return identity_data(result.value) if result.ok and result.value is not None else None

    ctx.watch(reader.read_card(float(ctx.params.get("timeout", 30.0))), convert)
