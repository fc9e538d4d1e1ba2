"""Project-level views: the health check, and allauth's re-authentication pages with
Post/Redirect/Get after a failed attempt (the home page is ``portal.home``, part of the wiring)."""

from __future__ import annotations

from typing import Any

from allauth.account.views import ReauthenticateView as PasswordReauthenticateView
from allauth.mfa.base.views import ReauthenticateView as CodeReauthenticateView
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from portal import policy
from portal.decorators import allowed_if


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for the load balancer; reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class _AnswerFailureWithRedirect:
    """A wrong password or code sends the browser back to the page by GET with the error as a
    message (Post/Redirect/Get), instead of answering the POST with the page: otherwise, after the
    right answer, the browser's Back returns to the old "Incorrect password." page (or offers to
    post the wrong password again). The suspended action allauth keeps in the session stays."""

    request: HttpRequest

    def form_invalid(self, form: Any) -> HttpResponse:
        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)
        return redirect(self.request.get_full_path())


class PortalPasswordReauthenticateView(_AnswerFailureWithRedirect, PasswordReauthenticateView):  # type: ignore[misc]
    pass


class PortalCodeReauthenticateView(_AnswerFailureWithRedirect, CodeReauthenticateView):  # type: ignore[misc]
    pass


password_reauthenticate = PortalPasswordReauthenticateView.as_view()
code_reauthenticate = PortalCodeReauthenticateView.as_view()


@allowed_if(policy.may_view_people)
def administration(request: HttpRequest) -> HttpResponse:
    """The administrators' (and, to read, auditors') index of the pages that configure the portal.
    Each card shows only when its page would open for this person (the same ``nav`` flags)."""
    return render(request, "administration.html")
