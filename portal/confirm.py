"""The one shape of a destructive action: a confirmation page naming the object and what follows,
then a POST that carries the page's confirmation, both behind a fresh second factor.

A destructive view (remove a device, revoke a grant, disable a source or a channel, remove a role
member) is decorated with ``step_up_required`` and starts with::

    if not confirmed(request):
        return confirmation_page(request, Confirmation(...))

so a GET, and a POST that did not come from the confirmation page (a stale form, a forged button, a
script), shows the page instead of acting. The hidden field is not a secret: CSRF already proves the
POST came from the portal; the field proves the person saw the consequence before pressing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.shortcuts import render

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

#: The hidden field the confirmation page posts; a POST without it is not carried out.
CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says: the question, the object's facts, the consequence."""

    title: str
    consequence: str
    button: str
    cancel_url: str
    cancel_label: str = "Cancel"
    facts: Sequence[tuple[str, str]] = ()
    #: Fields the action needs posted again (never a secret: they are written into the page).
    hidden: Mapping[str, str] = field(default_factory=dict)
    danger: bool = True


def confirmed(request: HttpRequest) -> bool:
    """A POST sent from the confirmation page (see the module's docstring)."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirmation_page(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    """The page asking to confirm; it posts back to the same URL with the confirmation field."""
    return render(
        request,
        "confirm.html",
        {
            "c": confirmation,
            "confirm_field": CONFIRM_FIELD,
            "confirm_value": CONFIRM_VALUE,
            "action": request.path,
        },
    )
