"""The home page: what waits for this person, one section per role they hold.

Part of portal's wiring (``tests/test_architecture.PORTAL_WIRING``): it puts together the sections
each app reads for its own roles (``breakglass.home_selectors`` for requesters, approvers and
custodians; ``audits.overview`` for auditors and administrators), the way ``urls.py`` puts their
pages together. A person with several roles sees the sections of each, in the order of the day:
her own requests, decisions, custody, then the overview.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from audits import charts
from audits import overview as audit_overview
from breakglass import home_selectors, next_step
from portal import policy

Role = policy.Role


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    user = request.user
    if not policy.may_use_portal(user):
        return render(request, "no_role.html", status=403)
    now = timezone.now()
    requester = home_selectors.requester_home(user=user)
    shows_requester = policy.has_role(user, Role.REQUESTER) or bool(
        requester.open_requests or requester.emergency_grants
    )
    awaiting = home_selectors.approver_home(user=user)
    custody = home_selectors.custodian_home(user=user) if policy.has_role(user, Role.CUSTODIAN) else None
    overview = audit_overview.overview(user=user, now=now)
    context = {
        "requester": requester if shows_requester else None,
        "my_requests": [(r, next_step.next_step(r, now=now)) for r in requester.open_requests],
        "approver": policy.has_role(user, Role.APPROVER),
        "awaiting": [(r, next_step.next_step(r, now=now)) for r in awaiting],
        "custody": custody,
        "hand_overs": [(r, next_step.next_step(r, now=now)) for r in custody.hand_overs] if custody else [],
        "overview": overview,
        "overview_charts": _charts(overview) if overview is not None else None,
        "now": now,
    }
    return render(request, "home.html", context)


def _charts(overview: audit_overview.Overview) -> dict[str, object]:
    figures = overview.figures
    return {
        "events": charts.stacked_bars(
            title="Root events per week, by account",
            categories=figures.weeks,
            series=figures.events_by_account,
            empty="No root events in the last twelve weeks.",
        ),
        "findings": charts.horizontal_bars(
            title="Open findings by severity",
            items=[(label, count) for _, label, count in overview.findings_by_severity],
            keys=[severity for severity, _, _ in overview.findings_by_severity],
            colours=charts.SEVERITY_COLOURS,
            empty="No open findings.",
        ),
        "sessions": charts.bars_and_lines(
            title="Sessions per month, with median hours to approval and to rotation",
            categories=figures.months,
            bars=("sessions", figures.sessions),
            lines={
                "median hours to approval": figures.median_hours_to_approval,
                "median hours to rotation": figures.median_hours_to_rotation,
            },
            empty="No sessions in the last twelve months.",
        ),
    }
