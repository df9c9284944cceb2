"""Help end to end: the kiosk window, the real journey runner, a migrated bank database, the journal."""

from __future__ import annotations

from typing import Any

from tests.screen_audit import ScreenAudit


def start_help(kiosk: Any, lang: str = "en") -> Any:
    kiosk.window.set_language(lang)
    # The menu's help button is greyed out until the lead drops "help" from NOT_YET_BUILT in
    # ui/screens/menu.py; the service itself is registered, so start it as the menu would.
    kiosk.app.start_journey("help", {"service": "help", "lang": lang})
    return kiosk.wait_screen("help_ask")


def test_question_answered_related_question_then_not_sure_and_call_staff(kiosk: Any) -> None:
    ask = start_help(kiosk)
    ask.field.setText("I can't remember my PIN")
    ask.ask()
    answer = kiosk.wait_screen("help_answer")
    assert "counter" in answer.answer_text()
    assert answer.title_text() == "I forgot my PIN."
    related = list(answer.question_buttons)
    assert related and "pin_forgot" not in related
    answer.question_buttons[related[0]].click()
    kiosk.wait_for(lambda: kiosk.current().data("entry") == related[0])
    kiosk.act("ask_again")
    ask = kiosk.wait_screen("help_ask")
    ask.field.setText("who won the football game yesterday")
    ask.ask()
    unsure = kiosk.wait_screen("help_not_sure")
    assert unsure.title_text() == "I'm not sure I understood"
    unsure.buttons["call_staff"].click()
    staff = kiosk.wait_screen("help_staff")
    assert staff.title_text() == "A member of staff is on the way"
    services = kiosk.app.services
    alerts = kiosk.host.alerts_for("KIOSK-0001").pending()
    assert len(alerts) == 1 and alerts[0].kind == "call_staff"
    assert alerts[0].session_id == kiosk.app.session_id
    # Calling again from another help screen does not page twice.
    kiosk.act("ask_again")
    ask = kiosk.wait_screen("help_ask")
    assert not ask.buttons["call_staff"].isEnabled()
    kiosk.act("done")
    assert kiosk.outcome().status == "completed"
    records = list(services.journal.records())
    events = [r.event for r in records]
    assert "staff_alert_raised" in events
    kiosk.wait_for(lambda: sum(r.event == "help_answered" for r in services.journal.records()) >= 3)
    # What the customer typed is never journaled, only the entry matched.
    text = "\n".join(str(r) for r in services.journal.records())
    assert "remember" not in text and "football" not in text


def test_chinese_question_typed_in_pinyin_and_topic_browsing(kiosk: Any) -> None:
    # Every screen as it shows: in Chinese no English word, readable text (tests/screen_audit.py).
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang)).start()
    ask = start_help(kiosk, "zh_CN")
    assert ask.title_text() == "请问有什么可以帮您？"
    for key in "mima":
        ask.keyboard.press(key)
    assert ask.keyboard.visible_candidates()[0] == "密码"
    ask.keyboard.press("space")
    for key in "wangle":
        ask.keyboard.press(key)
    ask.keyboard.press("space")
    assert ask.field.text() == "密码忘了"
    ask.keyboard.press("enter")
    answer = kiosk.wait_screen("help_answer")
    assert answer.title_text() == "忘记密码了怎么办？"
    assert "柜台" in answer.answer_text()
    kiosk.act("ask_again")
    ask = kiosk.wait_screen("help_ask")
    ask.topic_buttons["transfers"].click()
    topic = kiosk.wait_screen("help_topic")
    assert "transfer_limit" in topic.question_buttons
    topic.question_buttons["transfer_limit"].click()
    answer = kiosk.wait_screen("help_answer")
    assert "50,000.00" in answer.answer_text()
    kiosk.act("done")
    assert kiosk.outcome().status == "completed"
    found = audit.finish()
    assert found == [], "\n".join(found)


def test_empty_question_is_refused_on_the_same_screen_and_cancel_ends(kiosk: Any) -> None:
    ask = start_help(kiosk)
    ask.ask()
    kiosk.wait_for(lambda: ask.error_text() != "")
    assert ask.error_text() == "Please type a question first."
    kiosk.act("cancel")
    assert kiosk.outcome().status == "cancelled"


def test_staff_alert_that_cannot_be_stored_sends_the_customer_to_the_counter(kiosk: Any) -> None:
    from sqlalchemy import text

    with kiosk.host.engine.begin() as conn:
        conn.execute(text("DROP TABLE staff_alerts"))
    start_help(kiosk)
    kiosk.act("call_staff")
    staff = kiosk.wait_screen("help_staff")
    kiosk.wait_for(lambda: staff.title_text() != "")
    assert staff.title_text() == "We could not reach the staff from this kiosk. Please go to the counter."
