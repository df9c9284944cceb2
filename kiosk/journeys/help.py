"""Help: the offline FAQ assistant and "call staff" (the main menu's ``help`` service, no login).

The customer types a question (on-screen keyboard, pinyin for Chinese) or picks a suggested topic. The
retrieval (:mod:`kiosk.help.retrieval`, BM25 over the FAQ, well under a millisecond a question) runs
inside the journey: it is plain Python and touches no device or database. A confident match shows the
answer with related questions; an unsure one asks "Did you mean …?" with the two or three closest
questions; a question the FAQ does not cover gets a polite decline and "call staff". Calling staff is an
effect (``help.call_staff``: a staff alert in the database, journaled). What the customer typed is never
journaled (it may hold personal details); the matched entry and its confidence are (``help.log``), which
is what the FAQ owners need.
"""

from __future__ import annotations

from typing import Any

from kiosk.help.faq import ENTRIES, FAQ, TOPICS
from kiosk.help.retrieval import HelpAssistant, Match, default_assistant
from kiosk.journeys.core import NOTHING, Event, Journey, Step

MAX_QUESTION_CHARS = 120


class HelpJourney(Journey):
    name = "help"

    def __init__(
        self, session_id: str, lang: str, kiosk_id: str, assistant: HelpAssistant | None = None
    ) -> None:
        super().__init__()
        self.session_id = session_id
        self.lang = lang
        self.kiosk_id = kiosk_id
        self.assistant = assistant or default_assistant()
        self.alert_id: int | None = None
        self.last_topic = ""

    def handle(self, event: Event) -> Step:
        if event.kind == "session.timeout" and self.outcome is None:
            return self._remember(self.finish("timeout"))
        return super().handle(event)

    # -- asking ---------------------------------------------------------------------------------
    def on_start(self) -> Step:
        return self._ask()

    def _ask(self, error: str = "") -> Step:
        return self.go("help_ask", topics=list(TOPICS), error=error, staff_called=self.alert_id is not None)

    def _common(self, event: Event) -> Step:
        """Actions every help screen offers."""
        if event.kind == "ui.call_staff":
            return self._call_staff()
        if event.kind == "ui.ask_again":
            return self._ask()
        if event.kind == "ui.entry":
            return self._show_entry(str(event.data.get("id", "")), via="related")
        if event.kind == "ui.topic":
            return self._topic(str(event.data.get("topic", "")))
        if event.kind == "ui.done":
            return self.finish("completed")
        return NOTHING

    def on_help_ask(self, event: Event) -> Step:
        if event.kind == "ui.ask":
            text = str(event.data.get("text", "")).strip()[:MAX_QUESTION_CHARS]
            if not text:
                return self._ask("help.error.empty")
            return self._answer(text)
        return self._common(event)

    def _answer(self, text: str) -> Step:
        reply = self.assistant.respond(text)
        best = reply.best
        if reply.kind == "answer" and best is not None:
            return self._show_entry(
                best.id, via="search", confidence=best.confidence, others=list(reply.matches[1:])
            )
        # Unsure: "did you mean" with the closest questions; out of scope: the polite decline alone.
        self.last_topic = best.id if best is not None else ""
        log = self.fire(
            "help.log",
            session_id=self.session_id,
            outcome="did_you_mean" if reply.kind == "did_you_mean" else "not_sure",
            entry=best.id if best else "",
            confidence=round(best.confidence, 3) if best else 0.0,
        )
        return self.go(
            "help_not_sure",
            suggestions=[m.id for m in reply.matches],
            declined=reply.kind == "decline",
            staff_called=self.alert_id is not None,
        ).then(log)

    def _show_entry(
        self, entry_id: str, *, via: str, confidence: float = 1.0, others: list[Match] | None = None
    ) -> Step:
        entry = ENTRIES.get(entry_id)
        if entry is None:
            return NOTHING
        self.last_topic = entry.id
        related = [m.id for m in (others or [])]
        if not related:
            related = [e.id for e in FAQ if e.topic == entry.topic and e.id != entry.id][:2]
        log = self.fire(
            "help.log",
            session_id=self.session_id,
            outcome=via,
            entry=entry.id,
            confidence=round(confidence, 3),
        )
        return self.go(
            "help_answer", entry=entry.id, related=related, staff_called=self.alert_id is not None
        ).then(log)

    def _topic(self, topic: str) -> Step:
        if topic not in TOPICS:
            return NOTHING
        return self.go(
            "help_topic",
            topic=topic,
            entries=[e.id for e in FAQ if e.topic == topic],
            staff_called=self.alert_id is not None,
        )

    def on_help_answer(self, event: Event) -> Step:
        return self._common(event)

    def on_help_not_sure(self, event: Event) -> Step:
        return self._common(event)

    def on_help_topic(self, event: Event) -> Step:
        if event.kind == "ui.back":
            return self._ask()
        return self._common(event)

    # -- staff ------------------------------------------------------------------------------------
    def _call_staff(self) -> Step:
        if self.alert_id is not None:
            return self.go("help_staff", alert_id=self.alert_id, error="")
        return self.go("help_calling", "card_wait", message_key="help.staff.calling").then(
            self.run(
                "help.call_staff",
                kind="call_staff",
                kiosk_id=self.kiosk_id,
                session_id=self.session_id,
                lang=self.lang,
                topic=self.last_topic,
            )
        )

    def on_help_calling(self, event: Event) -> Step:
        if event.kind != "help.call_staff.done":
            return NOTHING
        if not event.ok:
            return self.go("help_staff", alert_id=None, error="help.staff.failed")
        value: Any = event.value
        self.alert_id = int(value["alert_id"]) if isinstance(value, dict) else None
        return self.go("help_staff", alert_id=self.alert_id, error="")

    def on_help_staff(self, event: Event) -> Step:
        if event.kind == "ui.call_staff":
            return NOTHING  # already called: one alert per session
        return self._common(event)
