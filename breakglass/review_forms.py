"""Forms of access reviews: shape only; the services hold the rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from breakglass.choices import ReviewDecision
from portal.validators import PROSE_MAX_CHARS


class CampaignStartForm(forms.Form):
    deadline = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="UTC. Undecided grants expire then (PORTAL_REVIEW_UNDECIDED), and each missing "
        "decision becomes a finding.",
    )
    confirm = forms.BooleanField(
        label="Ask every account's approvers and custodians to review all access now",
        required=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = timezone.now() + timedelta(days=settings.PORTAL_REVIEW_DAYS)
        self.fields["deadline"].initial = default.strftime("%Y-%m-%dT%H:%M")


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    note = forms.CharField(required=False, max_length=PROSE_MAX_CHARS, widget=forms.TextInput)
    serial_seen = forms.CharField(required=False, max_length=100, label="Serial as printed on the device")
