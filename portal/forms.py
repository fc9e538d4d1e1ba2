"""What every app's views do with forms: put a service's refusal back on the form it came from; and
the period-and-account filter every evidence page shares (the findings and ledger pages, the
reports), here so the ledger's page can share it without importing an app."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def add_domain_error(
    form: forms.BaseForm, error: ValidationError, rename: Mapping[str, str] | None = None
) -> None:
    """Put a service's error on the form: keyed messages on their field, the rest on top.

    ``rename`` maps a service argument to the form field that carries it (``reason`` is the
    request form's ``emergency_reason``). Keys the form has no field for go to the top of the form
    rather than raising: ``form.add_error(None, error)`` raises ``ValueError`` for them, so a new
    rule in a service would turn into a server error on a form that never heard of its field.
    """
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            field = rename.get(key, key)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def account_name_or_id_field() -> forms.CharField:
    """An account filter that takes a name (or part of one) or an id as the console shows it."""
    return forms.CharField(
        required=False,
        max_length=100,
        label="AWS account",
        widget=forms.TextInput(attrs={"placeholder": "Name or id (1234-5678-9012)"}),
    )


def split_account(text: str) -> tuple[str, str]:
    """``(account_id, account)``: a whole 12-digit id (dashes and spaces allowed) as an exact id,
    which the reports and the indexes read; anything else as typed, for a name-or-id-prefix search."""
    digits = "".join(ch for ch in text if ch not in "- ")
    if len(digits) == 12 and digits.isascii() and digits.isdigit():
        return digits, ""
    return "", text


class PeriodAndAccountForm(forms.Form):
    """The filters every evidence page and export shares: a period in whole UTC days and an account.

    ``period()`` gives the period as datetimes ("To" includes its day); an invalid field filters
    nothing, so a bad query string shows everything rather than an error page."""

    # Typed as a CharField: the findings filters take a name too (``account_name_or_id_field``).
    account: forms.CharField = forms.RegexField(
        regex=r"\A[0-9]{12}\Z",  # ASCII digits: \d also accepts Arabic-Indic or full-width ones
        required=False,
        label="AWS account",
        max_length=12,
        error_messages={"invalid": "An AWS account id is 12 digits."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "111122223333"}),
    )
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="UTC"
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="UTC, inclusive"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError("'From' is after 'To'.")
        return cleaned

    def valid_data(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}

    def period(self) -> tuple[datetime | None, datetime | None]:
        data = self.valid_data()
        since, until = data.get("since"), data.get("until")
        return (
            datetime.combine(since, time.min, tzinfo=UTC) if since else None,
            datetime.combine(until, time.max, tzinfo=UTC) if until else None,
        )
