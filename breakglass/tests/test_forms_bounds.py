"""The forms mirror the services' bounds for a message on the field: prose at most
``PROSE_MAX_CHARS``, tickets at most ``TICKET_MAX_CHARS``, and no invisible or text-direction
characters in ticket references, account names, device labels and serials (issue 8, item 10)."""

from __future__ import annotations

from typing import Any

import pytest

from audits.forms import TriageForm
from breakglass import request_forms
from breakglass.forms import AccountForm, CredentialForm, MfaDeviceEditForm, MfaDeviceForm
from portal.validators import PROSE_MAX_CHARS

TOO_LONG = "x" * (PROSE_MAX_CHARS + 1)
RLO = "\u202e"

PROSE_FIELDS = [
    (request_forms.DecisionForm, {"decision": "approve"}, "comment"),
    (request_forms.SelfAuthoriseForm, {}, "reason"),
    (request_forms.RevokeForm, {}, "reason"),
    (TriageForm, {"status": "resolved"}, "note"),
]


@pytest.mark.parametrize(("form_class", "data", "field"), PROSE_FIELDS)
def test_prose_longer_than_the_maximum_is_refused_on_its_field(
    form_class: Any, data: dict[str, str], field: str
) -> None:
    form = form_class({**data, field: TOO_LONG})
    assert not form.is_valid()
    assert "at most 4000 characters" in form.errors[field][0]
    assert form_class({**data, field: "x" * PROSE_MAX_CHARS}).is_valid()


@pytest.mark.parametrize(
    ("form_class", "field"),
    [(request_forms.CheckInForm, "work_done"), (request_forms.RotationForm, "review_note")],
)
def test_check_in_and_review_notes_are_bounded(form_class: Any, field: str) -> None:
    form = form_class({field: TOO_LONG}, storage=None)
    assert not form.is_valid()
    assert field in form.errors


def test_the_request_form_bounds_justification_and_refuses_a_bidi_ticket(db: Any, requester: Any) -> None:
    form = request_forms.AccessRequestForm(
        {"justification": TOO_LONG, "ticket_reference": f"CHG-{RLO}4321", "emergency_reason": TOO_LONG},
        user=requester,
    )
    assert not form.is_valid()
    assert "justification" in form.errors
    assert "U+202E" in form.errors["ticket_reference"][0]


def test_an_account_name_with_a_bidi_control_is_refused(db: Any) -> None:
    form = AccountForm({"name": f"payments{RLO}dorp"})
    assert not form.is_valid()
    assert "U+202E" in form.errors["name"][0]


def test_device_labels_and_serials_with_invisible_characters_are_refused(db: Any) -> None:
    form = MfaDeviceForm({"kind": "fido", "label": "Key\u200b", "serial_number": f"SN{RLO}1"})
    assert not form.is_valid()
    assert "U+200B" in form.errors["label"][0]
    assert "U+202E" in form.errors["serial_number"][0]
    edit = MfaDeviceEditForm({"label": f"Key{RLO}", "custody_state": "in_safe"})
    assert not edit.is_valid()
    assert "label" in edit.errors


def test_an_envelope_number_with_a_bidi_isolate_is_refused() -> None:
    form = CredentialForm({"storage": "physical", "safe_location": "Safe A", "envelope_number": "E\u20661"})
    assert not form.is_valid()
    assert "envelope_number" in form.errors
