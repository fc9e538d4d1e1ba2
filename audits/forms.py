"""Forms of the evidence pages. They check shape only; ``audits.services`` checks the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from audits.choices import FindingKind, FindingStatus, Severity
from audits.selectors import FindingFilter
from breakglass.choices import Environment
from portal.forms import PeriodAndAccountForm, account_name_or_id_field, split_account
from portal.validators import PROSE_MAX_CHARS

#: The largest log file the upload form takes. The screen reads a 1 GB file in a few seconds in
#: constant memory; past this, copy the file to the server and use ``manage.py ingest_cloudtrail``.
UPLOAD_MAX_BYTES = 1 << 30

_ANY = [("", "Any")]


class FindingFilterForm(PeriodAndAccountForm):
    """The filters of the findings list, from the query string (all optional)."""

    field_order = ["kind", "severity", "status", "account", "environment", "since", "until"]

    kind = forms.ChoiceField(choices=_ANY + list(FindingKind.choices), required=False)
    # The environment (OU) of the finding's inventory account; findings of unknown accounts have none.
    environment = forms.ChoiceField(
        choices=_ANY + list(Environment.choices), required=False, label="Environment (OU)"
    )
    severity = forms.ChoiceField(choices=_ANY + list(Severity.choices), required=False)
    status = forms.ChoiceField(choices=_ANY + list(FindingStatus.choices), required=False)
    # A name or an id as people type them, not only the 12 digits the reports take (issue 11, item 4).
    account = account_name_or_id_field()

    def filters(self) -> FindingFilter:
        """The valid part of the query as a selector filter (an invalid field filters nothing)."""
        data = self.valid_data()
        since, until = self.period()
        account_id, account = split_account(data.get("account") or "")
        return FindingFilter(
            kind=data.get("kind") or "",
            severity=data.get("severity") or "",
            status=data.get("status") or "",
            account_id=account_id,
            account=account,
            environment=data.get("environment") or "",
            since=since,
            until=until,
        )


class TriageForm(forms.Form):
    """An auditor's decision on a finding. The service checks who may and how long the note is."""

    status = forms.ChoiceField(
        label="Decision",
        choices=[
            (FindingStatus.ACKNOWLEDGED, "Acknowledge: seen, being looked into"),
            (FindingStatus.RESOLVED, "Resolve: dealt with"),
            (FindingStatus.FALSE_POSITIVE, "False positive: nothing wrong happened"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=PROSE_MAX_CHARS,
        help_text="What you found and did. It is kept in the audit ledger as evidence.",
    )


class LogUploadForm(forms.Form):
    """One CloudTrail log file: a delivery file (``{"Records": [...]}``) or JSON Lines, plain or gzip."""

    log_file = forms.FileField(
        label="CloudTrail log file",
        help_text="CloudTrail JSON as listed above, plain or gzip (.json, .json.gz, .jsonl); at most 1 GiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.gz,.jsonl,.ndjson,application/json"}),
    )

    def clean_log_file(self) -> Any:
        uploaded = self.cleaned_data["log_file"]
        if uploaded.size is not None and uploaded.size > UPLOAD_MAX_BYTES:
            raise ValidationError(
                "The file is larger than 1 GiB; copy it to the server and run manage.py ingest_cloudtrail."
            )
        if not uploaded.size:
            raise ValidationError("The file is empty.")
        return uploaded
