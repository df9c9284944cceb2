"""Speech that is heard: real espeak-ng through EspeakSpeaker into a WAV file, measured with numpy.

A screen's text (the kiosk's own menu, through the accessibility controller) must come out as sound, not
silence, for as long as the words take to say; the volume must change the loudness; an interrupted
utterance must end its espeak-ng process at once. ``.ci/run`` installs espeak-ng, so CI runs these.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from kiosk.accessibility import AccessibilityModes
from kiosk.i18n import tr
from kiosk.settings import Settings
from ui.accessibility import install_accessibility
from ui.accessibility.speech import ESPEAK_VOICES, ESPEAK_WORDS_PER_MINUTE, EspeakSpeaker

ESPEAK_PATH = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(ESPEAK_PATH is None, reason="espeak-ng is not installed here")

# 16-bit samples: espeak-ng's speech at its default amplitude is ~3000 RMS; a silent file is 0, and a
# file of a click or two in silence stays far under this floor.
RMS_FLOOR = 500.0
WINDOW_S = 0.02


@dataclass(frozen=True)
class Recording:
    seconds: float
    rms: float
    voiced_share: float  # share of 20 ms windows louder than the floor


def measure(path: Path) -> Recording:
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float64)
    window = int(rate * WINDOW_S)
    usable = len(samples) // window * window
    windows = samples[:usable].reshape(-1, window)
    window_rms = np.sqrt((windows**2).mean(axis=1)) if usable else np.zeros(1)
    return Recording(
        seconds=len(samples) / rate,
        rms=float(np.sqrt((samples**2).mean())) if len(samples) else 0.0,
        voiced_share=float((window_rms > RMS_FLOOR).mean()),
    )


def speak_to_wav(text: str, lang: str, wav: Path, *, volume: float = 0.5) -> Recording:
    speaker = EspeakSpeaker(str(ESPEAK_PATH), wav_path=wav, volume=volume)
    speaker.say(text, lang)
    assert speaker.wait(timeout=30) == 0
    return measure(wav)


@pytest.fixture
def window(themed: QApplication, kiosk_settings: Settings) -> Iterator[Any]:
    from ui.app import KioskWindow

    window = KioskWindow(kiosk_settings, idle_timeout_s=60, idle_warning_s=10)
    window.show()
    try:
        yield window
    finally:
        window.shutdown()
        window.deleteLater()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_menu_screen_is_spoken_aloud_for_as_long_as_its_words_take(
    window: Any, tmp_path: Path, lang: str
) -> None:
    wav = tmp_path / f"menu-{lang}.wav"
    speaker = EspeakSpeaker(str(ESPEAK_PATH), wav_path=wav)
    controller = install_accessibility(window, speaker=speaker)
    said: list[str] = []
    controller.spoke.connect(said.append)
    try:
        window.attract.emit_action("start")
        controller.set_modes(AccessibilityModes(speech=True))
        window.language_screen.emit_action("language", lang)
        assert window.current_state() == "menu"
        assert speaker.wait(timeout=30) == 0
    finally:
        controller.close()
    text = said[-1]
    assert window.lang == lang and text.startswith(tr("menu.title", lang))
    # What espeak-ng will pronounce: a "/" between the choices came out as "slash".
    phonemes = subprocess.run(
        [str(ESPEAK_PATH), "-v", ESPEAK_VOICES[lang], "-q", "-x", "--stdin"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert not re.search(r"sl'?a\d*S", phonemes), phonemes
    heard = measure(wav)
    assert heard.rms > RMS_FLOOR, heard
    assert heard.voiced_share > 0.4, heard  # speech throughout, not a burst in silence
    if lang == "en":
        # ~150 words a minute plus the pauses at full stops: between 0.6x and 2x the words' own time.
        expected = len(text.split()) / ESPEAK_WORDS_PER_MINUTE * 60
    else:
        # Mandarin: espeak-ng's cmn voice says about 2.2 characters a second at this rate.
        expected = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") / 2.2
    assert 0.6 * expected < heard.seconds < 2.0 * expected + 1.0, (heard, expected, text)


def test_an_empty_text_is_silence_so_the_measure_can_tell(tmp_path: Path) -> None:
    # The floor separates speech from a file espeak-ng writes for no words (pauses only).
    heard = speak_to_wav("   .   ", "en", tmp_path / "nothing.wav")
    assert heard.rms < RMS_FLOOR and heard.voiced_share == 0.0, heard


def test_volume_changes_how_loud_the_speech_is(tmp_path: Path) -> None:
    text = "Please insert your card. Enter your PIN."
    quiet = speak_to_wav(text, "en", tmp_path / "quiet.wav", volume=0.2)
    loud = speak_to_wav(text, "en", tmp_path / "loud.wav", volume=0.8)
    assert abs(quiet.seconds - loud.seconds) < 0.05  # same words, same length
    assert loud.rms > 3.0 * quiet.rms, (quiet, loud)  # amplitude 40 vs 160


def test_repeat_says_the_same_words_again(tmp_path: Path) -> None:
    wav = tmp_path / "again.wav"
    speaker = EspeakSpeaker(str(ESPEAK_PATH), wav_path=wav)
    speaker.say("Take your card.", "en")
    assert speaker.wait(timeout=30) == 0
    first = wav.read_bytes()
    wav.unlink()
    speaker.repeat()
    assert speaker.wait(timeout=30) == 0
    assert wav.read_bytes() == first and measure(wav).rms > RMS_FLOOR


def test_stop_interrupts_a_long_utterance_and_reaps_its_process(tmp_path: Path) -> None:
    # ~2,600 words: espeak-ng needs over a second to synthesise them even into a file.
    long_text = "What would you like to do? Insert your card. Face login. Open an account. " * 200
    started: list[subprocess.Popen[bytes]] = []

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen(*args, **kwargs))
        return started[-1]

    speaker = EspeakSpeaker(str(ESPEAK_PATH), wav_path=tmp_path / "long.wav", popen=popen)
    speaker.say(long_text, "en")
    [process] = started
    assert speaker.speaking()
    stop_began = time.monotonic()
    speaker.stop()
    assert time.monotonic() - stop_began < 1.0
    assert process.returncode == -signal.SIGTERM  # ended by us, and waited for (no zombie)
    assert not speaker.speaking()
