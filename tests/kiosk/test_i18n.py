"""The message catalogue is complete in both languages and tr() never breaks a screen."""

from __future__ import annotations

import logging
import re

import pytest

from kiosk.i18n import LANGUAGES, catalog_problems, missing_keys, placeholders, tr
from kiosk.i18n_catalog import CATALOG

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_shipped_catalogue_has_no_problems() -> None:
    problems = catalog_problems()
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_exists_in_every_language_with_the_same_placeholders(lang: str) -> None:
    assert set(CATALOG[lang]) == set(CATALOG["en"])
    for key, english in CATALOG["en"].items():
        assert placeholders(CATALOG[lang][key]) == placeholders(english), key


def test_chinese_texts_are_really_chinese() -> None:
    # Keys whose text is the same in both languages on purpose: endonyms and keyboard layer labels.
    same_on_purpose = {
        "language.en",
        "language.zh_CN",
        "keyboard.letters",
        "keyboard.digits",
        "keyboard.symbols",
        "keyboard.chinese",
        "keyboard.english",
    }
    untranslated = [
        key
        for key, text in CATALOG["zh_CN"].items()
        if key not in same_on_purpose and (text == CATALOG["en"][key] or not CJK.search(text))
    ]
    assert untranslated == []


def test_check_finds_a_missing_key_an_empty_text_and_a_placeholder_mismatch() -> None:
    broken = {
        "en": {"a": "Hello {name}", "b": "Bye", "c": "x"},
        "zh_CN": {"a": "你好 {nom}", "c": "  "},
    }
    found = {(p.key, p.language, p.problem.split()[0]) for p in catalog_problems(broken)}
    assert found == {("a", "zh_CN", "placeholders"), ("b", "zh_CN", "missing"), ("c", "zh_CN", "empty")}
    assert missing_keys("zh_CN", broken) == ["b"]
    assert missing_keys("en", broken) == []


def test_tr_fills_placeholders_in_each_language() -> None:
    assert tr("idle.warning", "en", seconds=9) == "Are you still there? Returning to the start screen in 9 s"
    assert tr("idle.warning", "zh_CN", seconds=9) == "您还在吗？9 秒后将返回首页"
    assert tr("attract.title", "zh_CN", bank="智慧银行") == "欢迎光临智慧银行"


def test_tr_falls_back_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        assert tr("no.such.key", "en") == "no.such.key"
        assert tr("common.ok", "fr") == "OK"
        # a forgotten parameter stays visible rather than crashing the screen
        assert tr("idle.warning", "en") == "Are you still there? Returning to the start screen in {seconds} s"
    assert any("no.such.key" in r.getMessage() for r in caplog.records)
