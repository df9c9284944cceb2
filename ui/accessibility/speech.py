"""Speech guidance: Qt text-to-speech when an engine with a voice exists, else espeak-ng, else silence.

:func:`choose_speaker` picks, once, the first that works on this machine:

1. :class:`QtSpeaker` over ``PySide6.QtTextToSpeech`` (PySide6-Addons) when an engine loads and has at
   least one voice (a kiosk image with speech-dispatcher or flite);
2. :class:`EspeakSpeaker`, ``espeak-ng -v en|zh --stdin`` in a subprocess, when ``espeak-ng`` is on PATH
   (the text goes in on stdin: no option injection, no argv limits);
3. :class:`SilentSpeaker`, which only logs what would have been said (and keeps it, for tests).

Every speaker interrupts itself: a new screen's text replaces what was still being read. ADA §707.5 asks
that speech can be repeated, interrupted and its volume changed by the customer: every speaker has
``repeat()`` (the last utterance again), ``stop()`` (interrupt now) and ``set_volume(0.0..1.0)``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
ESPEAK_VOICES = {"en": "en", "zh_CN": "zh"}
ESPEAK_WORDS_PER_MINUTE = 150  # a little slower than espeak's 175: kiosk customers hear it once
ESPEAK_MAX_AMPLITUDE = 200  # espeak-ng -a: 0..200, its own default 100
DEFAULT_VOLUME = 0.5  # espeak's default amplitude, so the customer can turn it up as well as down


# PySide6's wheel ships Qt's "mock" test engine: it has voices ("Bob", "Anne") but makes no sound, and
# would otherwise win over espeak-ng as soon as the Qt module loads.
SILENT_QT_ENGINES = frozenset({"mock"})


def clamp_volume(volume: float) -> float:
    return min(1.0, max(0.0, float(volume)))


class Speaker(Protocol):
    name: str
    volume: float

    def say(self, text: str, lang: str) -> None: ...

    def repeat(self) -> None: ...

    def stop(self) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    def close(self) -> None: ...


class SilentSpeaker:
    """No speech on this machine: log what would have been said."""

    name = "silent"

    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []
        self.volume = DEFAULT_VOLUME

    def say(self, text: str, lang: str) -> None:
        self.spoken.append((lang, text))
        log.info("speech (%s, silent): %s", lang, text)

    def repeat(self) -> None:
        if self.spoken:
            lang, text = self.spoken[-1]
            self.say(text, lang)

    def set_volume(self, volume: float) -> None:
        self.volume = clamp_volume(volume)

    def stop(self) -> None:
        """Nothing is playing."""

    def close(self) -> None:
        """Nothing to release."""


def espeak_amplitude(volume: float) -> int:
    return round(clamp_volume(volume) * ESPEAK_MAX_AMPLITUDE)


def espeak_command(
    lang: str,
    *,
    executable: str = ESPEAK,
    words_per_minute: int = ESPEAK_WORDS_PER_MINUTE,
    volume: float = DEFAULT_VOLUME,
    wav_path: Path | None = None,
) -> list[str]:
    """``espeak-ng -v <voice> -s <wpm> -a <amplitude> [-w <wav>] --stdin``; the text goes to its stdin.

    With ``wav_path`` the speech is written to that WAV file instead of the sound device (a headphone
    check, and the test that the speech is not silence)."""
    voice = ESPEAK_VOICES.get(lang, "en")
    command = [executable, "-v", voice, "-s", str(words_per_minute), "-a", str(espeak_amplitude(volume))]
    if wav_path is not None:
        command += ["-w", str(wav_path)]
    return [*command, "--stdin"]


Popen = Callable[..., Any]


class EspeakSpeaker:
    """espeak-ng in a child process per utterance; a new utterance ends the previous one."""

    name = "espeak-ng"

    def __init__(
        self,
        executable: str = ESPEAK,
        *,
        popen: Popen = subprocess.Popen,
        volume: float = DEFAULT_VOLUME,
        wav_path: Path | None = None,
    ) -> None:
        self.executable = executable
        self.volume = clamp_volume(volume)
        self.wav_path = wav_path
        self._popen = popen
        self._process: Any = None
        self._last: tuple[str, str] | None = None

    def say(self, text: str, lang: str) -> None:
        self.stop()
        self._last = (text, lang)
        command = espeak_command(lang, executable=self.executable, volume=self.volume, wav_path=self.wav_path)
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

    def repeat(self) -> None:
        if self._last is not None:
            self.say(*self._last)

    def set_volume(self, volume: float) -> None:
        """From the next utterance on (espeak-ng takes its amplitude on the command line)."""
        self.volume = clamp_volume(volume)

    def speaking(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Interrupt: end the running espeak-ng and reap it before the next one starts."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def wait(self, timeout: float = 10.0) -> int | None:
        """Wait for the current utterance to end (tests, a WAV written); its exit code."""
        process = self._process
        return None if process is None else int(process.wait(timeout=timeout))

    def close(self) -> None:
        self.stop()


class QtSpeaker:
    """``QTextToSpeech`` with the voice of the customer's language when the engine has one."""

    name = "qt"

    def __init__(self, engine: Any, *, volume: float = DEFAULT_VOLUME) -> None:
        self.engine = engine
        self._lang = ""
        self._last: tuple[str, str] | None = None
        self.volume = DEFAULT_VOLUME
        self.set_volume(volume)

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
        self._last = (text, lang)
        self.engine.say(text)

    def repeat(self) -> None:
        if self._last is not None:
            self.say(*self._last)

    def set_volume(self, volume: float) -> None:
        # QTextToSpeech.volume is 0.0..1.0 as well and applies to the utterance being spoken.
        self.volume = clamp_volume(volume)
        self.engine.setVolume(self.volume)

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
        if engine_name in SILENT_QT_ENGINES:
            continue
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
