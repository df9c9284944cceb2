import json
import logging
from pathlib import Path

import pytest

from hostlink.logs import setup_logging
from hostlink.redaction import mask_account, mask_pan, redact

PAN = "4321987654321098"


def test_mask_pan_keeps_first_six_and_last_four_at_most() -> None:
    assert mask_pan(PAN) == "432198******1098"
    assert mask_pan("4321 9876 5432 1098 7") == "432198*******0987"
    assert mask_pan("1234567890") == "**********"


def test_mask_account_keeps_the_last_four_digits_only() -> None:
    assert mask_account("0001100000010030") == "****0030"
    assert mask_account(" 6222020000012345 ") == "****2345"
    assert mask_account("1234") == "****"  # too short to show any of it
    assert mask_account("") == ""


def test_redact_masks_pans_pins_and_tracks() -> None:
    line = (
        f"card {PAN} in; pin=1234; pin_block: 0412AC89ABCDEF67; "
        f"track2 ;{PAN}=29121010000000000000? t1 %B{PAN}^DOE/JANE^2912101?"
    )
    out = redact(line)
    assert PAN not in out
    assert "1234;" not in out
    assert "0412AC89ABCDEF67" not in out
    assert "=2912" not in out and "DOE/JANE" not in out
    assert "432198******1098" in out


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "transfer T-000123 of 1,234.50 CNY at 2026-11-26 12:00 posted"
    assert redact(text) == text


def test_log_file_is_json_and_redacted(tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path, "INFO")
    logger = logging.getLogger("smart-teller.test")
    logger.info("card %s inserted, pin=%s", PAN, "9876")
    try:
        raise ValueError(f"bad card {PAN}")
    except ValueError:
        logger.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = log_file.read_text()
    assert PAN not in content
    assert "9876" not in content
    records = [json.loads(line) for line in content.splitlines()]
    assert records[0]["msg"] == "card 432198******1098 inserted, pin=[REDACTED]"
    assert "432198******1098" in records[1]["exc"]


def test_a_digit_run_inside_an_idempotency_key_is_not_taken_for_a_pan() -> None:
    # Crash recovery settles a transfer by the key the journal holds: masking it loses the evidence.
    key = "S18EBD6B727D8:a7115264348272ea"
    assert redact(f"transfer {key} posted") == f"transfer {key} posted"
    assert redact(f"key={key}") == f"key={key}"
    # A real PAN next to punctuation or spaces is still masked.
    assert redact(f"card:{PAN}.") == "card:432198******1098."
    assert redact(f"({PAN})") == "(432198******1098)"


def test_key_tokens_never_have_the_shape_of_a_card_number(monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets

    from hostlink.redaction import key_token

    # An all-digit token after the session id is masked like a PAN: the key the journal keeps is lost.
    assert redact("SD3718D970351:8155822741209431") != "SD3718D970351:8155822741209431"
    draws = iter(["8155822741209431", "81558227412094a1"])
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes=8: next(draws))
    token = key_token()
    assert token == "81558227412094a1"
    assert redact(f"SD3718D970351:{token}") == f"SD3718D970351:{token}"
