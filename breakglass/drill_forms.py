"""Forms of drills and reachability: shape only; the services and rules hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from breakglass.models import AwsAccount
from breakglass.request_forms import DATETIME_LOCAL
from portal.people import person_label
from portal.validators import PROSE_MAX_CHARS


class PerformerChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class DrillScheduleForm(forms.Form):
    performer = PerformerChoiceField(
        queryset=get_user_model().objects.none(),
        empty_label="Choose a custodian",
        help_text="The custodian who checks out, signs in as root, signs out and checks in.",
    )
    starts_at = forms.DateTimeField(
        label="Start",
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=15, initial=60)
    note = forms.CharField(
        required=False,
        max_length=PROSE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent with the announcement (who to call, the bridge), and kept with the drill.",
    )

    def __init__(self, *args: Any, account: AwsAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        performer = self.fields["performer"]
        assert isinstance(performer, forms.ModelChoiceField)
        performer.queryset = account.custodians.filter(is_active=True).order_by("username")
        self.fields["starts_at"].initial = timezone.localtime().strftime(DATETIME_LOCAL)
        self.fields["starts_at"].label = f"Start ({timezone.get_current_timezone_name()})"
        self.fields["duration_minutes"].help_text = f"At most {account.max_session_minutes} minutes."
