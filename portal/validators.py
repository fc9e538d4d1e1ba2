"""Bounds on what people type: the longest prose and references, and no invisible characters in
names and references. One home for forms (as Django validators, for a message on the field) and
services (as checks raising ``DomainError``, because the service is where the rule holds).

Why: a justification of 1 MB was accepted and copied into every notification, and a ticket
reference holding a right-to-left override (U+202E) reads differently from what it is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from django.core.exceptions import ValidationError

from portal.errors import DomainError

#: The longest prose a person may write: justification, check-in notes, reviews, decision
#: comments, revoke reasons, triage notes. About a page; notifications carry it in full.
PROSE_MAX_CHARS = 4000
#: The longest change or incident reference (the model column is 100 wide).
TICKET_MAX_CHARS = 100
#: The longest name of an "Other" root task (the model column is 300 wide).
OTHER_TASK_MAX_CHARS = 300

# Bidirectional controls are in Unicode category Cf, but naming them keeps the message precise.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")


def invisible_characters(value: str) -> list[str]:
    """The code points (as ``U+XXXX``) in ``value`` that show nothing or reorder what is shown:
    bidirectional controls, other format characters (zero-width space, joiners, byte-order mark,
    soft hyphen) and control characters."""
    found: list[str] = []
    for char in value:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cf", "Cc"):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def _invisible_message(found: list[str]) -> str:
    return (
        f"Remove the invisible or text-direction characters ({', '.join(found)}); "
        "names and references must read exactly as they are stored."
    )


def refuse_invisible_characters(value: str) -> None:
    """Django validator for names, identifiers and references (a form field's ``validators``)."""
    found = invisible_characters(str(value))
    if found:
        raise ValidationError(_invisible_message(found), code="invisible_characters")


def check_plain_names(values: Mapping[str, str]) -> None:
    """Service check: every field in ``values`` (field name → text) holds no invisible
    characters; raises ``DomainError`` keyed by field otherwise."""
    errors = {
        field: _invisible_message(found)
        for field, text in values.items()
        if (found := invisible_characters(text or ""))
    }
    if errors:
        raise DomainError(errors)


def check_text_lengths(values: Mapping[str, str], *, limits: Mapping[str, int] | None = None) -> None:
    """Service check: each field in ``values`` is at most its limit (``PROSE_MAX_CHARS`` unless
    ``limits`` names another); raises ``DomainError`` keyed by field, naming the limit."""
    limits = limits or {}
    errors = {}
    for field, text in values.items():
        limit = limits.get(field, PROSE_MAX_CHARS)
        if len(text or "") > limit:
            errors[field] = f"At most {limit:,} characters (this has {len(text):,})."
    if errors:
        raise DomainError(errors)


def check_request_texts(*, ticket_reference: str | None = None, **prose: str) -> None:
    """The one call the request lifecycle makes on what people typed.

    Each prose field (keyword name = field name: ``justification``, ``comment``, ``reason``,
    ``work_done``, ``review_note``, ``emergency_reason``, ``other_task``) is bounded by
    ``PROSE_MAX_CHARS`` (``other_task`` by ``OTHER_TASK_MAX_CHARS``); the ticket reference by
    ``TICKET_MAX_CHARS``, and it must hold no invisible characters. Raises ``DomainError`` keyed
    by field.
    """
    values = dict(prose)
    limits = {"other_task": OTHER_TASK_MAX_CHARS}
    if ticket_reference is not None:
        values["ticket_reference"] = ticket_reference
        limits["ticket_reference"] = TICKET_MAX_CHARS
        check_plain_names({"ticket_reference": ticket_reference})
    check_text_lengths(values, limits=limits)
