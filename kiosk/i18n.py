"""Customer-facing text in English and Simplified Chinese, without Qt.

``tr(key, lang, **params)`` looks a key up in :mod:`kiosk.i18n_catalog` and fills its ``{placeholders}``.
A kiosk must never show a traceback or a blank button, so a missing translation falls back to English
and a missing key shows the key itself (both logged once); :func:`catalog_problems` is the check the
tests run so neither ever ships.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from kiosk.i18n_catalog import CATALOG

log = logging.getLogger(__name__)

Language = Literal["en", "zh_CN"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "zh_CN")
FALLBACK: Final[Language] = "en"

_reported: set[tuple[str, str]] = set()


def tr(key: str, lang: str, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in."""
    table = CATALOG.get(lang)
    if table is None:
        _report_once(key, lang, "unknown language %r, using English", lang)
        table = CATALOG[FALLBACK]
    text = table.get(key)
    if text is None:
        text = CATALOG[FALLBACK].get(key)
        if text is None:
            _report_once(key, lang, "no text for key %r", key)
            return key
        _report_once(key, lang, "key %r has no %s text, using English", key, lang)
    if not params and not placeholders(text):
        return text
    try:
        return text.format_map(_KeepMissing(params))
    except (ValueError, IndexError) as exc:  # a malformed template must not break a screen
        _report_once(key, lang, "bad template for %r: %s", key, exc)
        return text


def placeholders(text: str) -> frozenset[str]:
    """The ``{names}`` a template expects."""
    return frozenset(
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(text)
        if field is not None and field != ""
    )


@dataclass(frozen=True)
class CatalogProblem:
    key: str
    language: str
    problem: str

    def __str__(self) -> str:
        return f"{self.language}: {self.key}: {self.problem}"


def catalog_problems(catalog: Mapping[str, Mapping[str, str]] = CATALOG) -> list[CatalogProblem]:
    """Every key missing in some language, empty, or with placeholders that differ from English."""
    problems: list[CatalogProblem] = []
    all_keys = sorted(set().union(*(table.keys() for table in catalog.values())))
    reference = catalog.get(FALLBACK, {})
    for lang in LANGUAGES:
        table = catalog.get(lang)
        if table is None:
            problems.append(CatalogProblem("*", lang, "language missing"))
            continue
        for key in all_keys:
            text = table.get(key)
            if text is None:
                problems.append(CatalogProblem(key, lang, "missing"))
            elif not text.strip():
                problems.append(CatalogProblem(key, lang, "empty"))
            else:
                try:
                    own = placeholders(text)
                except ValueError as exc:
                    problems.append(CatalogProblem(key, lang, f"bad template: {exc}"))
                    continue
                if key in reference and lang != FALLBACK:
                    expected = placeholders(reference[key])
                    if own != expected:
                        detail = f"placeholders {sorted(own)} differ from English {sorted(expected)}"
                        problems.append(CatalogProblem(key, lang, detail))
    return problems


def missing_keys(lang: str, catalog: Mapping[str, Mapping[str, str]] = CATALOG) -> list[str]:
    """Keys some language has and ``lang`` lacks."""
    all_keys = set().union(*(table.keys() for table in catalog.values()))
    return sorted(all_keys - set(catalog.get(lang, {})))


class _KeepMissing(dict[str, Any]):
    """Leaves an unfilled ``{name}`` visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        log.warning("i18n: no value for placeholder {%s}", key)
        return "{" + key + "}"


def _report_once(key: str, lang: str, message: str, *args: object) -> None:
    if (key, lang) not in _reported:
        _reported.add((key, lang))
        log.warning("i18n: " + message, *args)
