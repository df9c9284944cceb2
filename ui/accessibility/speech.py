"""Speech guidance: Qt text-to-speech when an engine with a voice exists, else espeak-ng, else silence.

:func:`choose_speaker` picks, once, the first that works on this machine:

1. :class:`QtSpeaker` over ``PySide6.QtTextToSpeech`` (PySide6-Addons) when an engine loads and has at
   least one voice (a kiosk image with speech-dispatcher or flite);
2. :class:`EspeakSpeaker`, ``espeak-ng -v en|zh --stdin`` in a subprocess, when ``espeak-ng`` is on PATH
   (the text goes in on stdin: no option injection, no argv limits);
3. :class:`SilentSpeaker`, which only logs what would have been said (and keeps it, for tests).

Every speaker interrupts itself: a new screen's text replaces what was still being read.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
ESPEAK_VOICES = {"en": "en", "zh_CN": "zh"}
ESPEAK_WORDS_PER_MINUTE = 150  # a little slower than espeak's 175: kiosk customers hear it once


class Speaker(Protocol):
    name: str

    def say(self, text: str, lang: str) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class SilentSpeaker:
    """No speech on this machine: log what would have been said."""

    name = "silent"

    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []

    def say(self, text: str, lang: str) -> None:
        self.spoken.append((lang, text))
        log.info("speech (%s, silent): %s", lang, text)

    def stop(self) -> None:
        """Nothing is playing."""

    def close(self) -> None:
        """Nothing to release."""


def espeak_command(
    lang: str, *, executable: str = ESPEAK, words_per_minute: int = ESPEAK_WORDS_PER_MINUTE
) -> list[str]:
    """``espeak-ng -v <voice> -s <wpm> --stdin``; the text is written to its stdin."""
    voice = ESPEAK_VOICES.get(lang, "en")
    return [executable, "-v", voice, "-s", str(words_per_minute), "--stdin"]


Popen = Callable[..., Any]


class EspeakSpeaker:
    """espeak-ng in a child process per utterance; a new utterance ends the previous one."""

    name = "espeak-ng"

    def __init__(self, executable: str = ESPEAK, *, popen: Popen = subprocess.Popen) -> None:
        self.executable = executable
        self._popen = popen
        self._process: Any = None

    def say(self, text: str, lang: str) -> None:
        self.stop()
        command = espeak_command(lang, executable=self.executable)
        try:
            process = self._popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            process.stdin.write(text.encode("utf-8"))
            process.stdin.close()
        except OSError as exc:
            log.warning("espeak-ng failed: %s", exc)
            return
        self._process = process

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def wait(self, timeout: float = 10.0) -> int | None:
        """Wait for the current utterance to end (tests); its exit code."""
        process = self._process
        return None if process is None else int(process.wait(timeout=timeout))

    def close(self) -> None:
        self.stop()


class QtSpeaker:
    """``QTextToSpeech`` with the voice of the customer's language when the engine has one."""

    name = "qt"

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._lang = ""

    def _locale_for(self, lang: str) -> Any:
        from PySide6.QtCore import QLocale

        if lang == "zh_CN":
            return QLocale(QLocale.Language.Chinese, QLocale.Country.China)
        return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)

    def say(self, text: str, lang: str) -> None:
        if lang != self._lang:
            self._lang = lang
            locale = self._locale_for(lang)
            if any(known.name() == locale.name() for known in self.engine.availableLocales()):
                self.engine.setLocale(locale)
        self.engine.stop()
        self.engine.say(text)

    def stop(self) -> None:
        self.engine.stop()

    def close(self) -> None:
        self.engine.stop()


def qt_engine_with_voice() -> Any | None:
    """A QTextToSpeech engine that has at least one voice, or None (module missing, no engine, mute)."""
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech
    except (ImportError, OSError) as exc:  # the Addons wheel needs libpulse etc.
        log.info("Qt text-to-speech not available: %s", exc)
        return None
    for engine_name in QTextToSpeech.availableEngines():
        try:
            engine = QTextToSpeech(engine_name)
        except Exception as exc:  # a broken plugin must not stop the kiosk
            log.info("text-to-speech engine %s failed: %s", engine_name, exc)
            continue
        if engine.availableVoices():
            return engine
        engine.deleteLater()
    return None


def choose_speaker(*, which: Callable[[str], str | None] = shutil.which) -> Speaker:
    engine = qt_engine_with_voice()
    if engine is not None:
        log.info("speech guidance: Qt text-to-speech (%s)", engine.engine())
        return QtSpeaker(engine)
    path = which(ESPEAK)
    if path:
        log.info("speech guidance: espeak-ng (%s)", path)
        return EspeakSpeaker(path)
    log.info("speech guidance: no engine or voice on this machine; speech is logged only")
    return SilentSpeaker()
