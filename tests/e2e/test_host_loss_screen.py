"""The touchscreen when the bank host goes away: out of service in plain words (both languages), nothing
that needs the host on offer, and back in service by itself when the host returns."""

from __future__ import annotations

from typing import Any

from app.hostproc import HostProcess, host_environment


def test_the_kiosk_goes_out_of_service_with_the_host_and_comes_back_by_itself(kiosk: Any) -> None:
    window = kiosk.window
    kiosk.wait_screen("attract")
    assert window.menu.is_available("insert_card")
    port = int(kiosk.bank_host.url.rsplit(":", 1)[1])
    iso_port = kiosk.bank_host.iso8583[1]
    kiosk.bank_host.process.kill()
    screen = kiosk.wait_screen("out_of_service", timeout=10_000)  # the link monitor gives up within seconds
    assert screen.reason == "host_unreachable"
    assert (
        "cannot reach the bank" in screen.panel().body()
        and "Nothing has been changed" in screen.panel().body()
    )
    assert screen._other.text() == "暂停服务"  # the other language, for whoever stands there
    for service in ("insert_card", "face_login", "open_account"):
        assert not window.menu.is_available(service)
    assert window.menu.is_available("help")  # the FAQ is on the terminal
    events = [r.event for r in kiosk.app.services.journal.records()]
    assert "host_link_down" in events
    restarted = HostProcess(
        host_environment(kiosk.bank_host.data_dir), seed=False, port=port, iso_port=iso_port
    ).start()
    try:
        kiosk.wait_screen("attract", timeout=15_000)
        assert window.menu.is_available("insert_card")
        kiosk.login()  # and a customer is served again
    finally:
        restarted.stop()
