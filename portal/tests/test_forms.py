"""``add_domain_error``: a service's refusal lands on the form, whatever field it names."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from portal.forms import add_domain_error


class NoteForm(forms.Form):
    note = forms.CharField()
    emergency_reason = forms.CharField(required=False)


def _bound() -> NoteForm:
    form = NoteForm({"note": "hello"})
    assert form.is_valid()
    return form


def test_django_raises_for_a_field_the_form_lacks_which_is_why_there_is_one_idiom() -> None:
    with pytest.raises(ValueError, match="has no field named 'ticket_reference'"):
        _bound().add_error(None, ValidationError({"ticket_reference": "A ticket is required."}))


def test_a_keyed_message_goes_on_its_field_and_an_unknown_key_on_top_of_the_form() -> None:
    form = _bound()
    add_domain_error(
        form, ValidationError({"note": "Too short.", "ticket_reference": "A ticket is required."})
    )
    assert form.errors["note"] == ["Too short."]
    assert form.non_field_errors() == ["A ticket is required."]


def test_a_plain_message_goes_on_top_of_the_form() -> None:
    form = _bound()
    add_domain_error(form, ValidationError("Nobody approves their own request."))
    assert form.non_field_errors() == ["Nobody approves their own request."]


def test_a_service_argument_is_renamed_to_the_field_that_carries_it() -> None:
    form = _bound()
    add_domain_error(form, ValidationError({"reason": "Say more."}), rename={"reason": "emergency_reason"})
    assert form.errors["emergency_reason"] == ["Say more."]
