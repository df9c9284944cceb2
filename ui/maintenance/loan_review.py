"""Maintenance page: the loan review queue a supervisor works (referred applications, explained).

``install_loan_review(controller, loans)`` adds the page to the maintenance screen; it is shown only to
roles with ``Action.LOAN_REVIEW`` and the service checks the role again on every decision. Each referral
shows the model's score, probability of default and the attributes that cost the most points, every
attribute with its points, the rules that fired and the bank's own facts; the page heading carries the
score stability (PSI of the recorded scores against the model's training scores).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QScrollArea, QVBoxLayout, QWidget

from hostlink.api import LoanReviewItem as ApplicationView
from hostlink.api import LoanStability as StabilityReport
from hostlink.money import Money
from hostlink.technicians import Action, TechSession
from kiosk.i18n import tr
from kiosk.maintenance.host_loans import HostLoanReview as LoanService
from kiosk.maintenance.host_loans import ReviewRefused as LoanRefused
from ui.maintenance.common import text_field
from ui.maintenance.pages import Page, Runner
from ui.widgets.button import KioskButton


def _money(minor: int, lang: str) -> str:
    return Money(minor, "CNY").format("zh_CN" if lang == "zh_CN" else "en")


def _factor_value(name: str, value: object, lang: str) -> str:
    if name in ("income", "average_balance"):  # decisions by the hand-set scorecard SC-1
        return _money(int(str(value)), lang)
    if name == "existing_debt":
        return f"{value}%"
    return str(value) if value not in ("", None) else "missing"


def _history_value(name: str, value: object, lang: str) -> str:
    if value is None:
        return "—"
    if name.endswith("_minor"):
        return _money(int(str(value)), lang)
    return str(value)


def stability_text(report: StabilityReport | None, lang: str) -> str:
    if report is None:
        return ""
    if report.psi is None:
        return tr("maint.loans.stability.none", lang, model=report.model_version)
    if report.level == "too_few":  # a PSI over a handful of scores says nothing
        return tr(
            "maint.loans.stability.too_few",
            lang,
            model=report.model_version,
            count=report.decisions,
            minimum=report.minimum,
        )
    return tr(
        "maint.loans.stability",
        lang,
        model=report.model_version,
        psi=f"{report.psi:.3f}",
        count=report.decisions,
        level=tr(f"maint.loans.level.{report.level}", lang),
    )


class LoanReviewPage(Page):
    def __init__(self, runner: Runner, loans: LoanService, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        self.loans = loans
        self.applications: list[ApplicationView] = []
        self.report: StabilityReport | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        layout.addWidget(self.heading)
        self.stability = QLabel(self)
        self.stability.setObjectName("loan-stability")
        self.stability.setWordWrap(True)
        layout.addWidget(self.stability)
        row = QHBoxLayout()
        self.queue = QListWidget(self)
        self.queue.setObjectName("loan-queue")
        self.queue.setMaximumWidth(420)
        self.queue.setWordWrap(True)
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue.currentRowChanged.connect(lambda _row: self._render_detail())
        row.addWidget(self.queue)
        self.detail = QLabel(self)
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setObjectName(
            "maint-details"
        )  # the maintenance screen's style sets the details' font by this name
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.detail)
        row.addWidget(scroll, 1)
        layout.addLayout(row, 1)
        actions = QHBoxLayout()
        self.note_label = QLabel(self)
        self.note = text_field(self, name="loan-note")
        self.note.setMaxLength(200)
        self.approve_button = KioskButton(variant="primary", parent=self)
        self.decline_button = KioskButton(variant="danger", parent=self)
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.decline_button.clicked.connect(lambda: self.decide(False))
        actions.addWidget(self.note_label)
        actions.addWidget(self.note, 1)
        actions.addWidget(self.approve_button)
        actions.addWidget(self.decline_button)
        layout.addLayout(actions)
        layout.addWidget(self.outcome)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.heading.setText(tr("maint.loans.title", lang))
        self.note_label.setText(tr("maint.loans.note", lang))
        self.approve_button.set_texts(tr("maint.loans.approve", lang))
        self.decline_button.set_texts(tr("maint.loans.decline", lang))
        self._render_queue()

    def shown(self) -> None:
        self.load()

    def load(self) -> None:
        self.runner.run(
            lambda _session: (self.loans.pending_reviews(), self.loans.stability()),
            self._loaded,
            label="loan queue",
        )

    def _loaded(self, loaded: tuple[list[ApplicationView], StabilityReport]) -> None:
        self.applications, self.report = loaded
        self._render_queue()

    def _render_queue(self) -> None:
        self.stability.setText(stability_text(self.report, self.lang))
        self.queue.blockSignals(True)
        self.queue.clear()
        for app in self.applications:
            self.queue.addItem(
                tr(
                    "maint.loans.row",
                    self.lang,
                    reference=app.reference,
                    amount=_money(app.amount_minor, self.lang),
                    months=app.term_months,
                    score=app.score,
                )
            )
        self.queue.blockSignals(False)
        if self.applications:
            self.queue.setCurrentRow(0)
        self._render_detail()

    def selected(self) -> ApplicationView | None:
        row = self.queue.currentRow()
        return self.applications[row] if 0 <= row < len(self.applications) else None

    def _render_detail(self) -> None:
        app = self.selected()
        enabled = app is not None and self.may(Action.LOAN_REVIEW)
        self.approve_button.setEnabled(enabled)
        self.decline_button.setEnabled(enabled)
        if app is None:
            self.detail.setText(html.escape(tr("maint.loans.none", self.lang)))
            return
        lang = self.lang
        summary = tr(
            "maint.loans.summary",
            lang,
            customer=app.customer_id,
            purpose=tr(f"loan.purpose.{app.purpose}", lang),
            income=_money(app.monthly_income_minor, lang),
            debt=_money(app.monthly_debt_minor, lang),
            instalment=_money(app.instalment_minor, lang),
        )
        factors = "".join(
            f"<tr><td>{html.escape(str(name))}</td>"
            f"<td align='right'>{html.escape(_factor_value(name, value, lang))}</td>"
            f"<td align='right'><b>{int(points):+d}</b></td></tr>"
            for name, value, points in app.factors
        )
        rules = "".join(
            f"<li>{html.escape(str(rule))}: {html.escape(str(d))}</li>" for rule, d in app.rule_hits
        )
        reasons = "".join(f"<li>{html.escape(tr(str(key), lang))}</li>" for key in app.reasons)
        adverse = "".join(f"<li>{html.escape(tr(str(key), lang))}</li>" for key in app.adverse_reasons)
        history = "".join(
            f"<tr><td>{html.escape(name)}</td>"
            f"<td align='right'>{html.escape(_history_value(name, value, lang))}</td></tr>"
            for name, value in app.bank_history.items()
        )
        probability = "—" if app.default_probability is None else f"{app.default_probability:.1%}"
        model = tr("maint.loans.model", lang, model=app.model_version, score=app.score, pd=probability)
        self.detail.setText(
            f"<p><b>{html.escape(app.reference)}</b> · {html.escape(model)}</p>"
            f"<p>{html.escape(summary)}</p>"
            f"<p><b>{html.escape(tr('maint.loans.reasons', lang))}</b></p><ul>{reasons}</ul>"
            f"<p><b>{html.escape(tr('maint.loans.adverse', lang))}</b></p><ul>{adverse or '<li>—</li>'}</ul>"
            f"<p><b>{html.escape(tr('maint.loans.factors', lang))}</b></p>"
            f"<table cellspacing='6'>{factors}</table>"
            f"<p><b>{html.escape(tr('maint.loans.rules', lang))}</b></p><ul>{rules or '<li>—</li>'}</ul>"
            f"<p><b>{html.escape(tr('maint.loans.history', lang))}</b></p>"
            f"<table cellspacing='6'>{history}</table>"
        )

    def decide(self, approve: bool) -> None:
        app = self.selected()
        if app is None:
            return
        note = self.note.text()

        def work(session: TechSession) -> ApplicationView | LoanRefused:
            return self.loans.review(session, app.application_id, approve=approve, note=note)

        self.runner.run(work, self._decided, label="loan review")

    def _decided(self, result: Any) -> None:
        if isinstance(result, LoanRefused):
            self.outcome.show_outcome(False, tr("maint.loans.refused", self.lang, reason=result.reason.value))
        else:
            self.outcome.show_outcome(
                True, tr("maint.loans.reviewed", self.lang, reference=result.reference, result=result.status)
            )
            self.note.clear()
        self.load()


def install_loan_review(controller: Any, loans: LoanService) -> LoanReviewPage:
    """Add the loan review page to a :class:`~ui.maintenance.controller.MaintenanceController`'s screen."""
    page = LoanReviewPage(controller, loans, controller.window.lang)
    controller.screen.add_page("loans", "maint.nav.loans", Action.LOAN_REVIEW, page)
    return page
