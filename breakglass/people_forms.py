"""Forms of the people pages: shape only (the services decide who may lose a role)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from breakglass.people_models import PHONE_PATTERN
from portal.policy import Role

ROLE_CHOICES = [(role.value, role.value) for role in Role]


class PhoneForm(forms.Form):
    phone = forms.RegexField(
        regex=PHONE_PATTERN,
        required=False,
        max_length=30,
        label="Phone number",
        help_text=(
            "Shown beside your name where someone waits for you (e.g. +1 555 0101). Leave empty to remove it."
        ),
        error_messages={"invalid": "A phone number: digits, spaces and dashes, with an optional +."},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )


class RoleMemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.HiddenInput)

    def clean_username(self) -> Any:
        username = self.cleaned_data["username"].strip()
        person = get_user_model().objects.filter(username=username, is_active=True).first()
        if person is None:
            raise forms.ValidationError(
                f"Nobody active has the username “{username}”. People sign in once first."
            )
        return person

    def chosen_role(self) -> Role:
        return Role(self.cleaned_data["role"])
