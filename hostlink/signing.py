"""Signed requests between a terminal and the host (HMAC-SHA256 with the terminal's enrolment secret).

Every call names its terminal, a timestamp and a fresh nonce, and carries a signature over::

    METHOD \\n PATH?QUERY \\n TERMINAL-ID \\n TIMESTAMP \\n NONCE \\n SHA-256(BODY) hex

The host refuses a request whose terminal is unknown or revoked, whose signature does not verify, whose
timestamp is further than the allowed skew from its clock, or whose nonce it has already seen (a replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TERMINAL_HEADER = "X-ST-Terminal"
TIMESTAMP_HEADER = "X-ST-Timestamp"
NONCE_HEADER = "X-ST-Nonce"
SIGNATURE_HEADER = "X-ST-Signature"
JOURNAL_HEAD_HEADER = "X-ST-Journal-Head"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_BYTES = 32


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def new_nonce() -> str:
    return secrets.token_hex(16)


def canonical(method: str, path: str, terminal_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, terminal_id, timestamp, nonce, digest)).encode("utf-8")


def sign(
    secret: bytes, method: str, path: str, terminal_id: str, timestamp: str, nonce: str, body: bytes
) -> str:
    mac = hmac.new(secret, canonical(method, path, terminal_id, timestamp, nonce, body), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def verify(
    secret: bytes,
    signature: str,
    method: str,
    path: str,
    terminal_id: str,
    timestamp: str,
    nonce: str,
    body: bytes,
) -> bool:
    expected = sign(secret, method, path, terminal_id, timestamp, nonce, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


def encode_credential(terminal_id: str, secret: bytes) -> str:
    """The one-line credential ``host enrol-terminal`` prints: ``st1:<terminal id>:<secret, base64url>``."""
    return f"st1:{terminal_id}:{base64.urlsafe_b64encode(secret).decode('ascii').rstrip('=')}"


def decode_credential(text: str) -> tuple[str, bytes]:
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != "st1" or not parts[1]:
        raise ValueError("not a terminal credential (expected st1:<terminal id>:<secret>)")
    padded = parts[2] + "=" * (-len(parts[2]) % 4)
    try:
        secret = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("the credential's secret is not base64url") from None
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"the credential's secret is not {SECRET_BYTES} bytes")
    return parts[1], secret
