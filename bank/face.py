"""Face login at the host: find the customer, then match the terminal's live encoding against the template.

The enrolled template never leaves the host. The terminal sends the 128-number encoding of the live face
it captured (after its own liveness check); the host answers match or no match with the distance, at the
host's threshold.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.models import Account, AccountStatus, Customer, find_customer_by_id_number, phone_lookup_hash
from bank.security.vault import Vault

ENCODING_SIZE = 128


def find_customer(engine: Engine, vault: Vault, mode: str, value: str) -> dict[str, Any] | None:
    """The customer with this phone or ID number: id, whether a face is enrolled, active accounts.

    Phone numbers are not unique across customers; a phone shared by several customers cannot identify
    one, so it finds nobody (the customer uses the ID number instead).
    """
    with Session(engine) as session:
        if mode == "id_number":
            customer = find_customer_by_id_number(session, vault, value)
        elif mode == "phone":
            rows = session.scalars(
                select(Customer).where(Customer.phone_hash == phone_lookup_hash(vault, value)).limit(2)
            ).all()
            customer = rows[0] if len(rows) == 1 else None
        else:
            return None
        if customer is None:
            return None
        accounts = session.scalars(
            select(Account)
            .where(Account.customer_id == customer.id, Account.status == AccountStatus.ACTIVE.value)
            .order_by(Account.id)
        ).all()
        return {
            "customer_id": customer.id,
            "has_template": customer.face_template is not None,
            "accounts": [
                {"account_id": a.id, "masked": f"****{a.number[-4:]}", "kind": a.kind} for a in accounts
            ],
        }


def face_template_of(engine: Engine, customer_id: int) -> bytes | None:
    """The enrolled template (decrypted by the column type); only the face-check effect calls this."""
    with Session(engine) as session:
        customer = session.get(Customer, customer_id)
        return None if customer is None else customer.face_template


def template_vector(data: bytes | None) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """A stored template (128 little-endian float64) as a vector, or None if it is not one."""
    if data is None or len(data) != ENCODING_SIZE * 8:
        return None
    vector = np.frombuffer(data, dtype="<f8").astype(np.float64)
    return vector if bool(np.all(np.isfinite(vector))) else None


def match_face(engine: Engine, customer_id: int, probe: list[float], threshold: float) -> dict[str, Any]:
    """``outcome`` match / no_match / reference_unusable (no usable template), ``distance``, ``threshold``."""
    template = template_vector(face_template_of(engine, customer_id))
    vector = np.asarray(probe, dtype=np.float64).reshape(-1)
    if template is None:
        return {"outcome": "reference_unusable", "distance": None, "threshold": threshold}
    if vector.size != ENCODING_SIZE or not bool(np.all(np.isfinite(vector))):
        raise ValueError("a face encoding is 128 finite numbers")
    distance = float(np.linalg.norm(template - vector))
    return {
        "outcome": "match" if distance <= threshold else "no_match",
        "distance": round(distance, 4),
        "threshold": threshold,
    }


class NoUsableFace(ValueError):
    """The photo cannot give a template: unreadable, no face, or more than one face."""


def template_from_photo(path: Path) -> bytes:
    """The enrolment template (128 little-endian float64) of the one face in the photo at ``path``.

    The same measure the terminal uses (face_recognition's HOG detector and 128-d encoding), so a live
    encoding of that face lands within the matching threshold. Loads the dlib models on first use.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():  # face_recognition_models imports pkg_resources, which warns on stderr
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import face_recognition  # heavy: only seeding and tools that enrol need it

    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent pixels often carry black RGB; flatten onto white so the face stays visible.
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
                image = flat
            rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    except (OSError, UnidentifiedImageError) as exc:
        raise NoUsableFace(f"{path.name}: not a readable image ({exc.__class__.__name__})") from exc
    boxes = face_recognition.face_locations(rgb, 1, "hog")
    if len(boxes) != 1:
        raise NoUsableFace(f"{path.name}: {len(boxes)} faces found, an enrolment photo needs exactly one")
    encodings = face_recognition.face_encodings(rgb, boxes, 1, "small")
    if not encodings:
        raise NoUsableFace(f"{path.name}: the face could not be encoded")
    return np.asarray(encodings[0], dtype="<f8").tobytes()
