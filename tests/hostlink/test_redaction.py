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


def _logged(tmp_path: Path, *messages: str) -> str:
    """Feed each message through the project's logging set-up and return what reached the log file."""
    log_file = setup_logging(tmp_path, "INFO")
    logger = logging.getLogger("smart-teller.assessment")
    for message in messages:
        logger.info("%s", message)
    for handler in logging.getLogger().handlers:
        handler.flush()
    return "\n".join(json.loads(line)["msg"] for line in log_file.read_text().splitlines())


def test_an_id_number_ending_in_x_is_masked_in_the_log(tmp_path: Path) -> None:
    out = _logged(tmp_path, "customer id 11010519491231002X checked", "id=44030419900101001x")
    assert "11010519491231002X" not in out and "44030419900101001x" not in out.lower()
    assert "19491231" not in out and "19900101" not in out  # the birth date is hidden
    assert "110105********002X" in out


def test_mobile_numbers_are_masked_in_the_log_in_every_common_spelling(tmp_path: Path) -> None:
    spellings = ["13800138000", "+86 138 0013 8000", "+86-138-0013-8000", "0086 13800138000", "138-0013-8000"]
    out = _logged(tmp_path, *(f"phone {phone} saved" for phone in spellings))
    digits_only = out.replace(" ", "").replace("-", "")
    assert "0013" not in digits_only  # the middle four never reach the file
    assert out.count("138****8000") == len(spellings)


def test_full_width_digit_pans_and_ids_are_masked_in_the_log(tmp_path: Path) -> None:
    full_pan = PAN.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    full_id = "11010519491231002X".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    out = _logged(tmp_path, f"card {full_pan} typed", f"id {full_id} typed")
    assert full_pan not in out and full_id[:17] not in out
    assert "432198******1098" in out and "110105********002X" in out


def test_pin_blocks_in_prose_and_key_value_forms_are_redacted_in_the_log(tmp_path: Path) -> None:
    block = "0412AC89FFEE1234"
    out = _logged(
        tmp_path,
        f"pinblock {block} from pad",
        f"PIN block: {block}",
        f"pin_block={block}",
        f'{{"pin_block": "{block}"}}',
        f"pin-block {block.lower()}",
    )
    assert block not in out.upper()
    assert out.count("[REDACTED]") == 5
