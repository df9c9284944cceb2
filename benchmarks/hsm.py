"""The host's keys through PKCS#11 (SoftHSM2) against the in-process implementation they replaced.

Two figures, each beside its reference measured in the same run, in alternating blocks so both see the
same drift:

- ``encrypt_decrypt``: one vault value (a 48-byte PII string, AES-256-GCM) encrypted and decrypted by the
  token (``C_Encrypt``/``C_Decrypt``) against the ``cryptography`` AES-GCM in process (the file vault);
- ``pin_verify``: one PIN check (ISO 9564 format 0 block deciphered, PVV HMAC on the token via ``C_Sign``,
  compared) against the same check with the PVK in process.

A throw-away token in a temporary SoftHSM2 store; nothing is left behind.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAN = "6212340000001017"
VALUE = "李娜 · 北京市海淀区中关村南大街 5 号".encode()


def _per_op_us(op: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        op()
    return (time.perf_counter() - started) / count * 1e6


def _compare(
    token_op: Callable[[], object], local_op: Callable[[], object], rounds: int, count: int
) -> dict[str, Any]:
    token: list[float] = []
    local: list[float] = []
    for _ in range(rounds):
        token.append(_per_op_us(token_op, count))
        local.append(_per_op_us(local_op, count))
    t, r = statistics.median(token), statistics.median(local)
    return {
        "pkcs11_us": round(t, 1),
        "in_process_us": round(r, 1),
        "ratio": round(t / r, 1),
        "pkcs11_rounds_us": [round(x, 1) for x in token],
        "in_process_rounds_us": [round(x, 1) for x in local],
    }


def run(quick: bool = False) -> dict[str, Any]:
    from bank.security.custody import host_token, open_host_vault
    from bank.security.hsm import SimulatedHsm, hsm_for_host
    from bank.security.vault import Vault
    from bank.settings import load_host_settings
    from hostlink.pinblock import encrypt_pin_block

    rounds, count = (3, 200) if quick else (8, 2000)
    with tempfile.TemporaryDirectory(prefix="st-bench-hsm-") as tmp:
        settings = load_host_settings(data_dir=str(Path(tmp) / "data"))
        token_vault = open_host_vault(settings)
        local_vault = Vault.ephemeral()

        def token_round_trip() -> bytes:
            return token_vault.decrypt(token_vault.encrypt(VALUE))

        def local_round_trip() -> bytes:
            return local_vault.decrypt(local_vault.encrypt(VALUE))

        assert token_round_trip() == local_round_trip() == VALUE
        crypto = _compare(token_round_trip, local_round_trip, rounds, count)

        token_hsm = hsm_for_host(settings)
        local_hsm = SimulatedHsm.from_settings(settings.security, Path(tmp), pvk=b"\x42" * 32)
        block = encrypt_pin_block("2468", PAN, bytes.fromhex(settings.security.pin_key_hex))
        token_pvv = token_hsm.pvv_for_clear_pin(PAN, "2468")
        local_pvv = local_hsm.pvv_for_clear_pin(PAN, "2468")

        def token_check() -> bool:
            return token_hsm.verify_pin(block, PAN, token_pvv)

        def local_check() -> bool:
            return local_hsm.verify_pin(block, PAN, local_pvv)

        assert token_check() and local_check()
        pins = _compare(token_check, local_check, rounds, count)
        host_token(settings).close()
    return {
        "hsm": {
            "module": "SoftHSM2 (embedded default)",
            "rounds": rounds,
            "per_round": count,
            "encrypt_decrypt": crypto,
            "pin_verify": pins,
        }
    }
