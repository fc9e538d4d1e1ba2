"""The form that makes a personal API token. Shape only; ``services.api_token_create`` checks the
rules (scopes the person's roles allow, the longest expiry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from api.scopes import scopes_available


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'ticketing system'.")
    scopes = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, help_text="Only what the tool needs."
    )
    expires_in_days = forms.IntegerField(label="Expires in (days)", min_value=1, initial=30)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes_field = self.fields["scopes"]
        assert isinstance(scopes_field, forms.MultipleChoiceField)
        scopes_field.choices = [
            (scope.value, f"{scope.value}: {scope.label}") for scope in scopes_available(user)
        ]
        field = self.fields["expires_in_days"]
        field.help_text = f"At most {settings.PORTAL_API_TOKEN_MAX_DAYS} days."
        field.widget.attrs["max"] = settings.PORTAL_API_TOKEN_MAX_DAYS

    def expires_at(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["expires_in_days"])
