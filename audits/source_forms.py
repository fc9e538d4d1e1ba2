"""The ingestion source form: shape, and a config the kind's adapter accepts (built, never read)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from audits.choices import SourceKind
from audits.sources.base import ConfigError
from audits.sources.registry import SOURCE_FACTORIES, SourceNotAvailable, build_source

#: The kinds a configured source can have (uploads are not configured: they arrive as files).
CONFIGURABLE_KINDS = [(kind.value, kind.label) for kind in SourceKind if kind.value in SOURCE_FACTORIES]

CONFIG_HELP = (
    'JSON. Files: {"paths": ["/var/log/cloudtrail"]}. S3: {"bucket": "org-trail", "prefix": "AWSLogs", '
    '"organization_id": "o-…"}. LookupEvents: {"accounts": ["123456789012"], "regions": ["eu-west-1"]}. '
    'SQS: {"queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/root-events"}. '
    "Never credentials: the portal's AWS credentials come from its environment."
)


class IngestionSourceForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=CONFIGURABLE_KINDS)
    config = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}), help_text=CONFIG_HELP
    )
    schedule_seconds = forms.IntegerField(
        min_value=10, max_value=86_400, initial=300, label="Read every (seconds)"
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The kind stays: a source's cursors are positions in its kind's units.
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "Fixed once added: add a new source for another kind."

    def clean_config(self) -> dict[str, Any]:
        try:
            config = json.loads(self.cleaned_data["config"] or "{}")
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not JSON: {error.msg} (line {error.lineno}).") from None
        if not isinstance(config, dict):
            raise forms.ValidationError("An object in braces: {…}.")
        return config

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "kind" in data and "config" in data:
            try:
                build_source(kind=data["kind"], config=data["config"])
            except (ConfigError, SourceNotAvailable) as error:
                self.add_error("config", str(error))
        return data
