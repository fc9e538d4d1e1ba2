"""``portal.validators``: the longest prose and references, and no invisible characters in names and
references (issue 8, item 10)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.errors import DomainError
from portal.validators import (
    PROSE_MAX_CHARS,
    TICKET_MAX_CHARS,
    check_plain_names,
    check_request_texts,
    check_text_lengths,
    invisible_characters,
    refuse_invisible_characters,
)

BIDI_AND_FORMAT = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200e", "\u200f",
    "\u200b", "\u200d", "\ufeff", "\u00ad",
]  # fmt: skip


@pytest.mark.parametrize("char", BIDI_AND_FORMAT)
def test_a_reference_holding_a_bidi_or_invisible_format_character_is_refused(char: str) -> None:
    with pytest.raises(ValidationError, match=f"U\\+{ord(char):04X}"):
        refuse_invisible_characters(f"CHG-{char}1234")


def test_control_characters_are_refused_in_names_too() -> None:
    assert invisible_characters("INC\x001\t") == ["U+0000", "U+0009"]


@pytest.mark.parametrize("value", ["CHG-1234", "INC 42/2026", "Zürich-prod", "東京-prod", "مدير"])
def test_ordinary_text_in_any_script_passes(value: str) -> None:
    refuse_invisible_characters(value)
    check_plain_names({"name": value})


def test_a_service_check_names_the_field() -> None:
    with pytest.raises(DomainError) as refused:
        check_plain_names({"serial_number": "SN\u202e1", "label": "fine"})
    assert set(refused.value.message_dict) == {"serial_number"}


def test_prose_is_bounded_and_the_message_names_the_limit() -> None:
    check_text_lengths({"justification": "x" * PROSE_MAX_CHARS})
    with pytest.raises(DomainError, match="At most 4,000 characters \\(this has 1,000,000\\)"):
        check_text_lengths({"justification": "x" * 1_000_000})


def test_the_request_check_bounds_prose_and_the_ticket_and_refuses_bidi_in_the_ticket() -> None:
    check_request_texts(justification="Rotate the root password", ticket_reference="CHG-1")
    with pytest.raises(DomainError) as refused:
        check_request_texts(justification="x" * (PROSE_MAX_CHARS + 1), ticket_reference="T" * 101)
    assert set(refused.value.message_dict) == {"justification", "ticket_reference"}
    assert f"At most {TICKET_MAX_CHARS}" in refused.value.message_dict["ticket_reference"][0]
    with pytest.raises(DomainError, match="U\\+202E"):
        check_request_texts(ticket_reference="CHG-\u202e4321")
    # Newlines belong in prose: only names and references refuse control characters.
    check_request_texts(comment="line one\nline two", work_done="a\r\nb")
