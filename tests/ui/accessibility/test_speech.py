"""Speakers: the espeak-ng command line, the Qt engine wrapper (with a recording engine), the choice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ui.accessibility.speech import (
    DEFAULT_VOLUME,
    EspeakSpeaker,
    QtSpeaker,
    SilentSpeaker,
    choose_speaker,
    espeak_command,
    qt_engine_with_voice,
)


def test_espeak_command_line_per_language() -> None:
    assert espeak_command("zh_CN") == ["espeak-ng", "-v", "zh", "-s", "150", "-a", "100", "--stdin"]
    assert espeak_command("en") == ["espeak-ng", "-v", "en", "-s", "150", "-a", "100", "--stdin"]
    assert espeak_command("fr", executable="/usr/bin/espeak-ng", words_per_minute=120) == [
        "/usr/bin/espeak-ng",
        "-v",
        "en",
        "-s",
        "120",
        "-a",
        "100",
        "--stdin",
    ]


def test_espeak_volume_is_its_amplitude_and_a_wav_path_replaces_the_sound_device(tmp_path: Path) -> None:
    assert espeak_command("en", volume=1.0)[5:7] == ["-a", "200"]
    assert espeak_command("en", volume=0.25)[5:7] == ["-a", "50"]
    assert espeak_command("en", volume=7.0)[5:7] == ["-a", "200"]  # clamped, never past espeak's range
    assert espeak_command("en", volume=-1.0)[5:7] == ["-a", "0"]
    wav = tmp_path / "out.wav"
    assert espeak_command("en", wav_path=wav)[-3:] == ["-w", str(wav), "--stdin"]


class RecordingProcess:
    """Stands in for the espeak-ng child: keeps the bytes written to its stdin."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.written = b""
        self.closed = False
        self.terminated = False
        outer = self

        class Stdin:
            def write(self, data: bytes) -> int:
                outer.written += data
                return len(data)

            def close(self) -> None:
                outer.closed = True

        self.stdin = Stdin()

    def poll(self) -> int | None:
        return None if not self.terminated else -15

    def terminate(self) -> None:
        self.terminated = True

    def wait(self, timeout: float | None = None) -> int:
        return -15


def test_espeak_speaker_writes_the_text_to_stdin_and_interrupts_the_previous_utterance() -> None:
    started: list[RecordingProcess] = []

    def popen(argv: list[str], **kwargs: Any) -> RecordingProcess:
        assert kwargs["stdin"] == subprocess.PIPE
        process = RecordingProcess(argv)
        started.append(process)
        return process

    speaker = EspeakSpeaker("espeak-ng", popen=popen)
    speaker.say("请插入您的银行卡", "zh_CN")
    speaker.say("-v text that looks like an option", "en")
    assert started[0].argv[:3] == ["espeak-ng", "-v", "zh"]
    assert started[0].written.decode("utf-8") == "请插入您的银行卡" and started[0].closed
    assert started[0].terminated  # the second utterance cut the first
    assert started[1].argv[-1] == "--stdin" and started[1].written == b"-v text that looks like an option"
    speaker.close()
    assert started[1].terminated


def test_espeak_speaker_repeats_the_last_utterance_and_changes_its_volume() -> None:
    started: list[RecordingProcess] = []

    def popen(argv: list[str], **kwargs: Any) -> RecordingProcess:
        started.append(RecordingProcess(argv))
        return started[-1]

    speaker = EspeakSpeaker("espeak-ng", popen=popen)
    speaker.repeat()  # nothing said yet: nothing to repeat
    assert started == []
    speaker.say("请插入您的银行卡", "zh_CN")
    speaker.set_volume(0.9)
    speaker.repeat()
    assert len(started) == 2 and started[0].terminated  # the repeat interrupts what was still playing
    assert started[1].argv[:3] == ["espeak-ng", "-v", "zh"]
    assert started[1].written.decode("utf-8") == "请插入您的银行卡"
    assert started[0].argv[5:7] == ["-a", "100"] and started[1].argv[5:7] == ["-a", "180"]
    assert speaker.speaking()
    speaker.stop()
    assert started[1].terminated and not speaker.speaking()


def test_silent_speaker_repeats_and_keeps_its_volume() -> None:
    speaker = SilentSpeaker()
    assert speaker.volume == DEFAULT_VOLUME
    speaker.repeat()
    speaker.say("Welcome", "en")
    speaker.repeat()
    speaker.set_volume(1.5)
    assert speaker.spoken == [("en", "Welcome"), ("en", "Welcome")] and speaker.volume == 1.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed here")
def test_real_espeak_ng_accepts_the_command_line() -> None:
    speaker = EspeakSpeaker(str(shutil.which("espeak-ng")))
    speaker.say("Please insert your card", "en")
    assert speaker.wait() == 0


class FakeLocale:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class RecordingEngine:
    """A text-to-speech engine test double: records what it was asked to say and in which locale."""

    def __init__(self, locales: tuple[str, ...]) -> None:
        self.locales = [FakeLocale(n) for n in locales]
        self.said: list[tuple[str, str]] = []
        self.locale = "en_US"
        self.stops = 0
        self.volumes: list[float] = []

    def availableLocales(self) -> list[FakeLocale]:
        return self.locales

    def setLocale(self, locale: Any) -> None:
        self.locale = locale.name()

    def say(self, text: str) -> None:
        self.said.append((self.locale, text))

    def stop(self) -> None:
        self.stops += 1

    def setVolume(self, volume: float) -> None:
        self.volumes.append(volume)


def test_qt_speaker_switches_to_the_chinese_voice_when_the_engine_has_one() -> None:
    engine = RecordingEngine(("en_US", "zh_CN"))
    speaker = QtSpeaker(engine)
    speaker.say("Welcome", "en")
    speaker.say("欢迎", "zh_CN")
    assert engine.said == [("en_US", "Welcome"), ("zh_CN", "欢迎")]
    assert engine.stops >= 2  # each utterance interrupts the previous one


def test_qt_speaker_repeats_in_the_same_voice_and_sets_the_engine_volume() -> None:
    engine = RecordingEngine(("en_US", "zh_CN"))
    speaker = QtSpeaker(engine)
    speaker.repeat()
    assert engine.said == []
    speaker.say("欢迎", "zh_CN")
    speaker.set_volume(0.8)
    speaker.repeat()
    assert engine.said == [("zh_CN", "欢迎"), ("zh_CN", "欢迎")]
    assert engine.volumes == [DEFAULT_VOLUME, 0.8] and speaker.volume == 0.8
    speaker.set_volume(-3)
    assert engine.volumes[-1] == 0.0


def test_qt_speaker_keeps_the_current_voice_when_the_language_has_none() -> None:
    engine = RecordingEngine(("en_US",))
    QtSpeaker(engine).say("欢迎", "zh_CN")
    assert engine.said == [("en_US", "欢迎")]


def test_qt_mock_engine_is_never_chosen_as_a_voice() -> None:
    # The wheel's "mock" engine lists voices but makes no sound; choosing it would silence espeak-ng.
    engine = qt_engine_with_voice()
    assert engine is None or engine.engine() != "mock"


def test_choice_falls_back_to_espeak_then_to_silence() -> None:
    if qt_engine_with_voice() is not None:
        pytest.skip("this machine has a Qt text-to-speech voice, which wins over the fallbacks")
    assert isinstance(choose_speaker(which=lambda name: f"/usr/bin/{name}"), EspeakSpeaker)
    silent = choose_speaker(which=lambda name: None)
    assert isinstance(silent, SilentSpeaker)
    silent.say("hello", "en")
    assert silent.spoken == [("en", "hello")]
