"""Forms check shape; the services check the rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone

from breakglass import selectors
from breakglass.choices import CredentialStorage, CustodyState
from breakglass.models import AwsAccount, MfaDevice
from portal.people import person_label
from portal.policy import Role
from portal.validators import refuse_invisible_characters

#: ASCII digits only: ``\d`` accepts any Unicode digit (Arabic-Indic, full-width...), which passed the
#: form and then failed on the database's ``[0-9]{12}`` constraint.
ascii_account_id_validator = RegexValidator(
    r"\A[0-9]{12}\Z", "An AWS account id is exactly 12 digits, for example 123456789012."
)


class AccountIdField(forms.CharField):
    """An AWS account id as people copy it: the console shows ``1234-5678-9012``. Dashes and spaces
    are dropped before the 12-digit check (a ``clean_account_id`` would run after it, too late)."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).replace("-", "").replace(" ", "")


class PersonChoiceField(forms.ModelMultipleChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class AccountForm(forms.ModelForm[Any]):
    account_id = AccountIdField(
        label="AWS account id",
        max_length=14,
        validators=[ascii_account_id_validator],
        help_text="12 digits, as 123456789012 or as the console shows it, 1234-5678-9012.",
    )
    approvers = PersonChoiceField(queryset=selectors.people_in_role(Role.APPROVER), required=False)
    custodians = PersonChoiceField(queryset=selectors.people_in_role(Role.CUSTODIAN), required=False)

    class Meta:
        model = AwsAccount
        fields = [
            "account_id",
            "name",
            "environment",
            "root_email",
            "governance_mode",
            "approvers",
            "approval_quorum",
            "custodians",
            "max_session_minutes",
            "ticket_required",
            "separate_duties",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Querysets are evaluated per form, not once at import.
        self.fields["approvers"].queryset = selectors.people_in_role(Role.APPROVER)  # type: ignore[attr-defined]
        self.fields["custodians"].queryset = selectors.people_in_role(Role.CUSTODIAN)  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        # Mirrors the service's check for a message on the field: a name must read as stored.
        name = str(self.cleaned_data["name"])
        refuse_invisible_characters(name)
        return name

    def validate_unique(self) -> None:
        # Uniqueness is the service's job (it reports it on the field); avoid a second query here.
        return


class CredentialForm(forms.Form):
    storage = forms.ChoiceField(choices=CredentialStorage.choices, widget=forms.RadioSelect)
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Only for 'Encrypted in the portal'. Stored encrypted; never shown again here.",
    )
    password_again = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    safe_location = forms.CharField(required=False, max_length=200, validators=[refuse_invisible_characters])
    envelope_number = forms.CharField(
        required=False,
        max_length=64,
        label="Sealed-envelope number",
        validators=[refuse_invisible_characters],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("storage") == CredentialStorage.PORTAL:
            if not data.get("password"):
                self.add_error("password", "Enter the root password to store.")
            elif data.get("password") != data.get("password_again"):
                self.add_error("password_again", "The two passwords differ.")
        return data


class MfaDeviceForm(forms.ModelForm[Any]):
    class Meta:
        model = MfaDevice
        fields = ["kind", "label", "serial_number", "storage_location"]
        help_texts = {"kind": "Virtual authenticators are allowed but flagged in every report."}
        # Django would say "Mfa device with this Serial number already exists."
        error_messages = {
            "serial_number": {
                "unique": (
                    "An MFA device with this serial number is already registered: find it under MFA devices."
                )
            }
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("label", "serial_number", "storage_location"):
            self.fields[name].validators.append(refuse_invisible_characters)


class MfaDeviceEditForm(forms.Form):
    label = forms.CharField(max_length=100, validators=[refuse_invisible_characters])
    storage_location = forms.CharField(
        max_length=200, required=False, validators=[refuse_invisible_characters]
    )
    custody_state = forms.ChoiceField(
        # Checked out and returned (awaiting a custodian) are the workflow's states, not edits.
        choices=[
            c for c in CustodyState.choices if c[0] not in (CustodyState.CHECKED_OUT, CustodyState.RETURNING)
        ]
    )


#: What the device edit page says before a custody change is saved (the page is its confirmation).
CUSTODY_EDIT_CONSEQUENCES = (
    "Marking a device lost or retired is recorded in the audit ledger: it can no longer be added to "
    "an account and is flagged on the accounts it still protects until you remove it there (and "
    "deregister it from the root user in AWS). A device checked out comes back through check-in, "
    "not here."
)


class AssignDeviceForm(forms.Form):
    """A device to add: chosen from a list while the devices that could be added are few, typed by
    serial once they are many (a list of 10,000 devices made the account page 556 KB)."""

    #: Above this many devices that could be added, the account page asks for a serial instead.
    MAX_CHOICES = 50

    device = forms.ModelChoiceField(
        queryset=MfaDevice.objects.none(), empty_label="Choose a device", required=False
    )
    serial = forms.CharField(
        required=False,
        max_length=100,
        label="Serial number",
        widget=forms.TextInput(attrs={"placeholder": "Serial printed on the device"}),
    )

    def __init__(self, *args: Any, account: AwsAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["device"].queryset = selectors.assignable_devices(account=account)  # type: ignore[attr-defined]

    @property
    def offers_choice(self) -> bool:
        assignable = self.fields["device"].queryset  # type: ignore[attr-defined]
        return bool(assignable[: self.MAX_CHOICES + 1].count() <= self.MAX_CHOICES)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("device") is None:
            serial = (cleaned.get("serial") or "").strip()
            found = (
                self.fields["device"].queryset.filter(serial_number__iexact=serial).first()  # type: ignore[attr-defined]
                if serial
                else None
            )
            if found is None:
                raise forms.ValidationError(
                    f"No device with serial {serial} can be added to {self.account}."
                    if serial
                    else "Choose a device to add."
                )
            cleaned["device"] = found
        return cleaned


def _grant_expiry_help() -> str:
    return (
        f"At most {settings.PORTAL_GRANT_MAX_DAYS} days from now (PORTAL_GRANT_MAX_DAYS); "
        "review grants before they expire."
    )


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(queryset=selectors.people_in_role(Role.REQUESTER), label="Person")
    expires_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    emergency = forms.BooleanField(
        required=False, help_text="May self-authorise when no approver can be reached (notifies everyone)."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        default_days = min(90, settings.PORTAL_GRANT_MAX_DAYS)
        kwargs.setdefault("initial", {}).setdefault(
            "expires_at", (timezone.now() + timedelta(days=default_days)).strftime("%Y-%m-%dT%H:%M")
        )
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.people_in_role(Role.REQUESTER)  # type: ignore[attr-defined]
        # Read per form, so the page names the limit in force.
        self.fields["expires_at"].help_text = _grant_expiry_help()


class GrantReviewForm(forms.Form):
    expires_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Keep until",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].help_text = _grant_expiry_help()
