"""What every app's views do with forms: put a service's refusal back on the form it came from."""

from __future__ import annotations

from collections.abc import Mapping

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
