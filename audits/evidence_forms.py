"""The forms of the evidence bundle pages: the period (both ends required) and account of a bundle,
and the bundle an auditor uploads to have it checked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from audits.forms import UPLOAD_MAX_BYTES
from portal.forms import PeriodAndAccountForm


class EvidenceBundleForm(PeriodAndAccountForm):
    """A bundle covers a period with both ends: an open period would grow with every download."""

    field_order = ["since", "until", "account"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["since"].required = True
        self.fields["until"].required = True


class EvidenceUploadForm(forms.Form):
    """One evidence bundle (the zip ``make_evidence`` or the reports page made)."""

    bundle = forms.FileField(
        label="Evidence bundle",
        help_text="The .zip as the portal made it; at most 1 GiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_bundle(self) -> Any:
        uploaded = self.cleaned_data["bundle"]
        if uploaded.size is not None and uploaded.size > UPLOAD_MAX_BYTES:
            raise ValidationError(
                "The file is larger than 1 GiB; copy it to the server and run manage.py verify_evidence."
            )
        if not uploaded.size:
            raise ValidationError("The file is empty.")
        return uploaded
