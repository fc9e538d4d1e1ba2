"""The filter form of the reports page and of every export link (the findings and ledger pages pass
their own query strings, whose field names it shares). It checks shape only."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from audits.reports import ReportFilter
from breakglass.choices import Environment

_ANY = [("", "Any")]
_SHORT = 100


class ReportFilterForm(forms.Form):
    """Every filter a report may read; each report's section of the page shows the ones it uses."""

    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="UTC"
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="UTC, inclusive"
    )
    account = forms.RegexField(
        regex=r"\A[0-9]{12}\Z",  # ASCII digits: \d also accepts Arabic-Indic or full-width ones
        required=False,
        label="AWS account",
        max_length=12,
        error_messages={"invalid": "An AWS account id is 12 digits."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "111122223333"}),
    )
    environment = forms.ChoiceField(choices=_ANY + list(Environment.choices), required=False)
    person = forms.CharField(required=False, max_length=150, label="Person (username)")
    status = forms.CharField(required=False, max_length=_SHORT)
    severity = forms.CharField(required=False, max_length=_SHORT)
    kind = forms.CharField(required=False, max_length=_SHORT)
    action = forms.CharField(required=False, max_length=_SHORT, label="Action (ledger)")
    request_id = forms.CharField(required=False, max_length=64, label="Request id (ledger)")
    category = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Everything"),
            ("decisions", "Decisions and changes"),
            ("deliveries", "Notification deliveries"),
        ],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError("'From' is after 'To'.")
        return cleaned

    def filters(self) -> ReportFilter:
        """The valid part of the query as a report filter (an invalid field filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        since, until = data.get("since"), data.get("until")
        return ReportFilter(
            # Whole days in UTC, as the page says: "To" includes its day.
            since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
            until=datetime.combine(until, time.max, tzinfo=UTC) if until else None,
            account_id=data.get("account") or "",
            environment=data.get("environment") or "",
            person=data.get("person") or "",
            status=data.get("status") or "",
            severity=data.get("severity") or "",
            kind=data.get("kind") or "",
            action=data.get("action") or "",
            request_id=data.get("request_id") or "",
            category=data.get("category") or "",
        )
