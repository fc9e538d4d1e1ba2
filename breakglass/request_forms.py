"""Forms of the break-glass workflow. They check shape only; the lifecycle services check the
rules and their errors are put back on these forms' fields (:func:`portal.forms.add_domain_error`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from breakglass import request_selectors, rules
from breakglass.choices import CredentialStorage, Decision
from breakglass.models import AwsAccount, MfaDevice
from breakglass.root_tasks import BY_CODE, ROOT_TASKS, RootTask
from portal.validators import (
    OTHER_TASK_MAX_CHARS,
    PROSE_MAX_CHARS,
    TICKET_MAX_CHARS,
    refuse_invisible_characters,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def root_task_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The root tasks in two groups: those that hand out the password and those done with
    ``sts:AssumeRoot`` (no password leaves the safe)."""
    password = [(t.code, t.title) for t in ROOT_TASKS if not t.is_assume_root and t.code != "other"]
    assume_root = [(t.code, t.title) for t in ROOT_TASKS if t.is_assume_root]
    other = [(t.code, t.title) for t in ROOT_TASKS if t.code == "other"]
    return [
        ("Tasks that need the root password and MFA device", password),
        ("AssumeRoot tasks (short-lived credentials, no password handed out)", assume_root),
        ("Anything else", other),
    ]


def steered_tasks() -> list[tuple[RootTask, RootTask]]:
    """Password tasks that an AssumeRoot task can do instead, with that task."""
    by_code = {t.code: t for t in ROOT_TASKS}
    return [(t, by_code[t.assume_root_alternative]) for t in ROOT_TASKS if t.assume_root_alternative]


class AccountSelect(forms.Select):
    """Puts each account's longest session on its option, for the duration hint."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        account = getattr(value, "instance", None)
        if isinstance(account, AwsAccount):
            option["attrs"]["data-max-minutes"] = str(account.max_session_minutes)
            option["attrs"]["data-ticket-required"] = "true" if account.ticket_required else "false"
            # The steering hint (an AssumeRoot task instead of the password) shows for these only.
            option["attrs"]["data-assume-root"] = "true" if rules.assume_root_reaches(account) else "false"
        return option


class AccountChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.account_id})"


class AccessRequestForm(forms.Form):
    account = AccountChoiceField(
        queryset=AwsAccount.objects.none(), widget=AccountSelect, empty_label="Choose an account"
    )
    root_task = forms.ChoiceField(label="Root task", choices=root_task_choices)
    other_task = forms.CharField(
        label="Which task, if 'Other'",
        required=False,
        max_length=OTHER_TASK_MAX_CHARS,
        help_text="Required for 'Other': name the root task.",
    )
    bucket_name = forms.CharField(
        label="S3 bucket name",
        required=False,
        max_length=63,
        help_text="For the S3 unlock task: the bucket whose policy locks everyone out (the name only).",
    )
    queue_url = forms.CharField(
        label="SQS queue URL",
        required=False,
        max_length=300,
        help_text="For the SQS unlock task: the queue's URL, https://sqs.<region>.amazonaws.com/<account>/<name>.",
    )
    password_needed = forms.BooleanField(
        label="I need the password: the AssumeRoot task cannot do this job",
        required=False,
        help_text="For example to edit a bucket policy rather than delete it.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=PROSE_MAX_CHARS,
        help_text="Why root, why now. Approvers and auditors read this.",
    )
    ticket_reference = forms.CharField(
        max_length=TICKET_MAX_CHARS,
        required=False,
        validators=[refuse_invisible_characters],
        help_text="Change or incident number (some accounts require one).",
    )
    starts_at = forms.DateTimeField(
        label="Start",
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1)
    emergency = forms.BooleanField(
        label="Emergency: self-authorise now",
        required=False,
        help_text="Only when no approver can be reached. Starts the session at once and notifies "
        "everyone; approvals are collected afterwards.",
    )
    emergency_reason = forms.CharField(
        label="Why approvers cannot be reached",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=PROSE_MAX_CHARS,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("starts_at", timezone.localtime().strftime(DATETIME_LOCAL))
        initial.setdefault("duration_minutes", 60)
        super().__init__(*args, **kwargs)
        self.accounts = list(request_selectors.requestable_accounts(user=user))
        account_field = self.fields["account"]
        assert isinstance(account_field, forms.ModelChoiceField)
        account_field.queryset = request_selectors.requestable_accounts(user=user)
        if len(self.accounts) == 1:
            account_field.initial = self.accounts[0].pk
        self.fields["starts_at"].label = f"Start ({timezone.get_current_timezone_name()})"
        self.fields["duration_minutes"].help_text = "Longest session: " + (
            "; ".join(f"{a.name} {a.max_session_minutes} min" for a in self.accounts) or "no account"
        )
        self.emergency_accounts = list(request_selectors.emergency_accounts(user=user))
        if not self.emergency_accounts:
            # Nothing to offer: a person without an emergency grant never sees the option.
            del self.fields["emergency"]
            del self.fields["emergency_reason"]
        else:
            self.fields["emergency"].help_text += " Your emergency grants: " + ", ".join(
                a.name for a in self.emergency_accounts
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Steering, not a rule: where AssumeRoot can do the job on this account, the password task is
        # taken only when the requester says the AssumeRoot task cannot.
        task = BY_CODE.get(data.get("root_task", ""))
        account = data.get("account")
        if (
            task is not None
            and task.assume_root_alternative
            and isinstance(account, AwsAccount)
            and rules.assume_root_reaches(account)
            and not data.get("password_needed")
        ):
            alternative = BY_CODE[task.assume_root_alternative]
            self.add_error(
                "root_task",
                f"AssumeRoot can do this on {account.name} without handing out the password: choose "
                f"“{alternative.title}”, or tick “{self.fields['password_needed'].label}”.",
            )
        data.pop("password_needed", None)
        return data


class DecisionForm(forms.Form):
    """Approve or deny: the decision comes from the button pressed."""

    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=PROSE_MAX_CHARS,
        required=False,
        help_text="Required: it goes into the evidence with your decision.",
    )


class SelfAuthoriseForm(forms.Form):
    reason = forms.CharField(
        label="Why approvers cannot be reached",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=PROSE_MAX_CHARS,
        required=False,
    )


class DeviceChoiceField(forms.ModelMultipleChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.label} ({obj.get_kind_display()}, {obj.serial_number}, {obj.storage_location})"


class HandOverForm(forms.Form):
    devices = DeviceChoiceField(
        queryset=MfaDevice.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Devices handed over",
    )

    def __init__(self, *args: Any, devices: QuerySet[MfaDevice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["devices"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = devices


class CheckInForm(forms.Form):
    work_done = forms.CharField(
        label="What was done as root",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=PROSE_MAX_CHARS,
        required=False,
        help_text="Reviewers compare this with the root activity CloudTrail recorded.",
    )
    envelope_number = forms.CharField(
        label="New envelope seal number",
        max_length=64,
        validators=[refuse_invisible_characters],
        required=False,
        help_text="The number on the seal of the envelope the password went back into.",
    )

    def __init__(self, *args: Any, storage: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if storage != CredentialStorage.PHYSICAL:
            del self.fields["envelope_number"]


class RotationForm(forms.Form):
    """Confirm the root password was changed after the session, and review the session."""

    new_password = forms.CharField(
        label="New root password",
        strip=False,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; nobody sees it until the next check-out.",
    )
    new_password_again = forms.CharField(
        label="New root password again",
        strip=False,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    new_envelope_number = forms.CharField(
        label="Envelope number of the new password",
        max_length=64,
        validators=[refuse_invisible_characters],
        required=False,
    )
    review_note = forms.CharField(
        label="Review",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=PROSE_MAX_CHARS,
        required=False,
        help_text="Was the work in scope of the request? Anything to follow up?",
    )

    def __init__(self, *args: Any, storage: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if storage != CredentialStorage.PORTAL:
            del self.fields["new_password"]
            del self.fields["new_password_again"]
        if storage != CredentialStorage.PHYSICAL:
            del self.fields["new_envelope_number"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Typing the new root password twice is a shape check: a typo here would lock the
        # account's root out until someone recovers it by email.
        if "new_password" in self.fields and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two passwords differ.")
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why revoke",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=PROSE_MAX_CHARS,
        required=False,
        help_text="Everyone on the account is told; an active session's password must be rotated.",
    )


class AcknowledgeForm(forms.Form):
    """A second person acknowledges an emergency session (issue 8, item 1)."""

    note = forms.CharField(
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        required=False,
        help_text="For example how you confirmed the emergency with the holder.",
    )
