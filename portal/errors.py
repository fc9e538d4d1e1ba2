"""Errors the services raise for a person to read."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A rule of the domain refused the action; the message says what to do instead.

    It is a ``ValidationError`` so a view can attach it to its form (``form.add_error``) and a
    field-keyed dict points at the field to fix.
    """
