"""Help: a typed question answered, a related question, a topic, "not sure", call staff (both languages)."""

from __future__ import annotations

from ui.demo import Demo, DemoFailed

DEVICES = ("printer",)  # help needs no device; the smallest simulator set the demo runner accepts
EXPECTED = frozenset({"completed"})
QUESTIONS = {
    "en": ("I can't remember my PIN", "recommend me a film to watch tonight"),
    "zh_CN": ("密码忘了怎么办", "帮我订一张电影票"),
}


def start_help(demo: Demo) -> None:
    demo.wait_screen("attract")
    demo.window.attract.emit_action("start")
    demo.wait_screen("language")
    demo.window.language_screen.emit_action("language", demo.lang)
    demo.wait_screen("menu")
    if demo.window.menu.is_available("help"):
        demo.window.menu.emit_action("help")
    else:
        # The menu still shows help as "coming soon" (ui/screens/menu.py NOT_YET_BUILT): start the
        # registered service as the menu will.
        demo.app.start_journey("help", {"service": "help", "lang": demo.lang})


def run(demo: Demo) -> None:
    known, unknown = QUESTIONS.get(demo.lang, QUESTIONS["en"])
    start_help(demo)
    ask = demo.wait_screen("help_ask")
    ask.field.setText(known)
    demo.snap("typed")
    ask.ask()
    answer = demo.wait_screen("help_answer")
    if not answer.answer_text():
        raise DemoFailed("the answer screen shows no answer")
    related = list(answer.question_buttons)
    if related:
        answer.question_buttons[related[0]].click()
        demo.pump(0.2)
        demo.snap("related")
    demo.act("ask_again")
    ask = demo.wait_screen("help_ask")
    ask.topic_buttons["transfers"].click()
    topic = demo.wait_screen("help_topic")
    topic.question_buttons["transfer_limit"].click()
    demo.wait_screen("help_answer")
    demo.act("ask_again")
    ask = demo.wait_screen("help_ask")
    ask.field.setText(unknown)
    ask.ask()
    demo.wait_screen("help_not_sure")
    demo.act("call_staff")
    demo.wait_screen("help_staff")
    demo.act("done")
