"""Statement lines in the customer's language: every description template the host writes is known."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bank
from kiosk.journeys.statement_text import describe_line

BANK_DIR = Path(bank.__file__).parent
# The statement texts as the host's source spells them (description=…, the ledger's fee lines, reversals).
LITERAL = re.compile(
    r'(?<![\w."])f?"((?:Opening balance|Seed funding|To own|From own|Transfer |Incoming|Outgoing'
    r'|To bank|Bill |Reversal of|Fee)[^"\n]{0,80})"'
)


def host_templates() -> list[str]:
    found = []
    for path in sorted(BANK_DIR.rglob("*.py")):
        for template in LITERAL.findall(path.read_text(encoding="utf-8")):
            text = re.sub(r"\{[^}]*\}", "1234", template)
            if len(text) <= 40 and not re.search(r"[.:]", text):  # a statement text, not a help text
                found.append(text)
    return found


def test_the_scan_sees_the_host_templates() -> None:
    templates = host_templates()
    for expected in ("Opening balance", "Transfer to ****1234", "Bill payment 1234", "Reversal of 1234"):
        assert expected in templates, templates


def test_every_host_template_is_said_in_chinese() -> None:
    untranslated = [t for t in host_templates() if describe_line(t, "zh_CN") == t]
    assert untranslated == []


@pytest.mark.parametrize(
    ("host", "zh"),
    [
        ("Opening balance", "期初余额"),
        ("Transfer to ****0014", "转账给 ****0014"),
        ("From own account ****0022", "本人账户 ****0022 转入"),
        ("To bank 102 ****5678", "跨行转账 102 ****5678"),
        ("Bill ELEC 1234", "缴费 电费 1234"),
        ("Reversal of TR0000000012", "冲正 TR0000000012"),
    ],
)
def test_host_lines_in_chinese(host: str, zh: str) -> None:
    assert describe_line(host, "zh_CN") == zh
    assert describe_line(host, "en").replace("Electricity", "ELEC") == host


def test_a_text_no_template_knows_is_shown_as_sent() -> None:
    assert describe_line("Salary December", "zh_CN") == "Salary December"
