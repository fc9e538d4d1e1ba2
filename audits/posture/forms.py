"""Forms of the posture pages: shape only (the contacts service checks the rules)."""

from __future__ import annotations

from django import forms

from audits.posture.aws import Contact
from audits.posture.controls import CONTACT_TYPES, CONTROLS
from audits.posture.selectors import PostureFilter
from breakglass.choices import Environment
from portal.validators import refuse_invisible_characters

_ANY = [("", "Any")]


class PostureFilterForm(forms.Form):
    environment = forms.ChoiceField(choices=_ANY + list(Environment.choices), required=False)
    control = forms.ChoiceField(
        choices=_ANY + [(control.id, f"{control.id} {control.title}") for control in CONTROLS], required=False
    )
    state = forms.ChoiceField(
        label="Show",
        choices=[
            ("", "Every control"),
            ("fail", "Controls with failing accounts"),
            ("error", "Controls not fully checked"),
        ],
        required=False,
    )

    def filters(self) -> PostureFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return PostureFilter(
            environment=data.get("environment") or "",
            control=data.get("control") or "",
            state=data.get("state") or "",
        )


class ContactsForm(forms.Form):
    """One contact, set on every chosen type that is missing (existing contacts are kept)."""

    contact_types = forms.MultipleChoiceField(
        label="Set it as the",
        choices=[(kind, f"{kind.title()} contact") for kind in CONTACT_TYPES],
        initial=list(CONTACT_TYPES),
        widget=forms.CheckboxSelectMultiple,
    )
    name = forms.CharField(
        max_length=64,
        validators=[refuse_invisible_characters],
        help_text="A team or a person, e.g. Cloud Security Team",
    )
    title = forms.CharField(
        max_length=50, validators=[refuse_invisible_characters], help_text="e.g. Security operations"
    )
    email = forms.EmailField(max_length=254, help_text="A shared mailbox outlives the people reading it.")
    phone = forms.RegexField(
        regex=r"\A\+?[0-9][0-9 ()-]{4,23}\Z",
        max_length=25,
        help_text="With the country code, e.g. +44 20 7946 0000",
        error_messages={
            "invalid": "A phone number: digits, spaces, brackets and dashes, with an optional +."
        },
    )

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(name=data["name"], title=data["title"], email=data["email"], phone=data["phone"])
