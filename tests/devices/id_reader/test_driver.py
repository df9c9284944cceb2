"""ID reader driver against the real simulator on socket://127.0.0.1 (pyserial)."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devices.base import Completion, DeviceEvent, DeviceState
from devices.id_reader.driver import IdReaderDriver
from devices.simcontrol import ControlClient
from simulators.base import DeviceServer
from simulators.id_reader import make_server

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"


@pytest.fixture
def sim() -> Iterator[DeviceServer]:
    server = make_server(faces_dir=FACES).start()
    yield server
    server.close()


@pytest.fixture
def rig(sim: DeviceServer) -> Iterator[tuple[IdReaderDriver, ControlClient, list[DeviceEvent]]]:
    drv = IdReaderDriver(sim.url, reply_timeout=0.5, poll_interval=0.05)
    events: list[DeviceEvent] = []
    drv.subscribe(events.append)
    drv.start()
    yield drv, ControlClient(sim.control.address), events
    drv.close()


def test_reads_a_placed_card_with_its_photo(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, events = rig
    op = drv.read_card(timeout=3)
    time.sleep(0.2)
    ctl.call("place_card", card_id="li_minghua")
    result = op.result(5)
    assert result.code is Completion.SUCCESS, result.detail
    identity = result.value
    assert identity is not None
    assert identity.name == "李明华" and identity.id_number == "110105198503122317"
    assert (identity.sex, identity.sex_en, identity.ethnicity_en) == ("男", "male", "Han")
    assert identity.birth_date == dt.date(1985, 3, 12) and identity.check_digit_ok
    with Image.open(io.BytesIO(identity.photo)) as photo:
        assert photo.format == "JPEG" and photo.size == (240, 300)
    assert "card_placed" in [e.kind for e in events]


def test_no_card_times_out_and_cancel_stops_the_wait(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, _, _ = rig
    assert drv.read_card(timeout=0.3).result(3).code is Completion.TIMEOUT
    op = drv.read_card(timeout=10)
    time.sleep(0.1)
    started = time.monotonic()
    op.cancel()
    assert op.result(3).code is Completion.CANCELLED
    assert time.monotonic() - started < 1.0


def test_bad_check_digit_and_expired_cards_are_flagged(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, _ = rig
    ctl.call("place_card", card_id="bad_check_digit")
    bad = drv.read_card(timeout=2).result(4)
    assert bad.ok and bad.value is not None and not bad.value.check_digit_ok
    assert "check digit" in bad.detail
    ctl.call("place_card", card_id="expired")
    old = drv.read_card(timeout=2).result(4)
    assert old.ok and old.value is not None and old.value.expired() and old.value.check_digit_ok


def test_long_term_card_and_female_minority_decoding(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, _ = rig
    ctl.call("place_card", card_id="zhao_jianguo")
    zhao = drv.read_card(timeout=2).result(4).value
    assert zhao is not None and zhao.valid_until is None and zhao.ethnicity == "壮"
    ctl.call("place_card", card_id="chen_xiaoyan")
    chen = drv.read_card(timeout=2).result(4).value
    assert chen is not None and chen.sex_en == "female" and chen.ethnicity_en == "Tibetan"


def test_card_removal_event(rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]]) -> None:
    _, ctl, events = rig
    ctl.call("place_card", card_id="wang_fang")
    deadline = time.monotonic() + 3
    while "card_placed" not in [e.kind for e in events] and time.monotonic() < deadline:
        time.sleep(0.02)
    ctl.call("remove_card")
    while "card_removed" not in [e.kind for e in events] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e.kind for e in events if e.kind.startswith("card_")] == ["card_placed", "card_removed"]


def test_read_errors_surface_as_hardware_error(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, _ = rig
    ctl.call("place_card", card_id="wang_fang")
    ctl.call("read_error", count=1000)
    result = drv.read_card(timeout=0.4).result(3)
    assert result.code is Completion.HARDWARE_ERROR and "read failed" in result.detail
    ctl.call("clear_faults")
    assert drv.read_card(timeout=2).result(4).ok


def test_custom_card_from_full_fields(rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]]) -> None:
    drv, ctl, _ = rig
    ctl.call(
        "place_card", name="周测试", sex_code="2", ethnicity_code="03", birth_date="2000-02-29",
        address="测试地址", id_number="110105200002290021", authority="测试局", valid_from="2020-01-01",
        valid_until="2030-01-01", photo_file="obama_small.jpg",
    )  # fmt: skip
    identity = drv.read_card(timeout=2).result(4).value
    assert identity is not None and identity.name == "周测试" and identity.ethnicity == "回"


def test_unplug_goes_offline_and_reconnects(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, _ = rig
    ctl.call("unplug")
    deadline = time.monotonic() + 3
    while drv.status().state is DeviceState.ONLINE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert drv.status().state is DeviceState.OFFLINE
    ctl.call("plug")
    while drv.status().state is not DeviceState.ONLINE and time.monotonic() < deadline + 3:
        time.sleep(0.02)
    assert drv.status().state is DeviceState.ONLINE


def test_garbage_reply_is_not_taken_for_a_card(
    rig: tuple[IdReaderDriver, ControlClient, list[DeviceEvent]],
) -> None:
    drv, ctl, _ = rig
    ctl.call("place_card", card_id="wang_fang")
    ctl.call("garbage", count=1)
    first = drv.read_card(timeout=2).result(4)
    # a garbled reply drops the link (OFFLINE) or is retried; it is never a wrong identity
    assert first.code in (Completion.OFFLINE, Completion.SUCCESS)
    if first.ok:
        assert first.value is not None and first.value.name == "王芳"
