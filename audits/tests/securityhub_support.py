"""moto's Security Hub taught ``BatchUpdateFindings`` (moto 5.2 answers "Not yet implemented"), the
call through which a finding's workflow status and note change once it exists.

It applies the fields the portal sends (``Workflow``, ``Note``) to the findings moto stores for the
calling account and region, and answers with processed and unprocessed identifiers as AWS does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from moto.securityhub import urls
from moto.securityhub.responses import SecurityHubResponse

# moto routes a request by its path before naming the action: the path must be known too.
PATH = "{0}/findings/batchupdate$"

UPDATABLE = ("Workflow", "Note", "VerificationState", "UserDefinedFields")


def install_batch_update_findings() -> Callable[[], None]:
    """Teach moto ``BatchUpdateFindings``; returns the function that takes it away again."""
    SecurityHubResponse.batch_update_findings = _batch_update_findings  # type: ignore[attr-defined]
    urls.url_paths[PATH] = SecurityHubResponse.dispatch

    def uninstall() -> None:
        urls.url_paths.pop(PATH, None)
        if "batch_update_findings" in vars(SecurityHubResponse):
            del SecurityHubResponse.batch_update_findings  # type: ignore[attr-defined]

    return uninstall


def _batch_update_findings(self: SecurityHubResponse) -> str:
    body = json.loads(self.body or "{}")
    stored = {finding.id: finding for finding in self.securityhub_backend.findings}
    processed, unprocessed = [], []
    for identifier in body.get("FindingIdentifiers", []):
        finding = stored.get(identifier.get("Id"))
        if finding is None or finding.data.get("ProductArn") != identifier.get("ProductArn"):
            unprocessed.append(
                {
                    "FindingIdentifier": identifier,
                    "ErrorCode": "FindingNotFound",
                    "ErrorMessage": "no such finding",
                }
            )
            continue
        for name in UPDATABLE:
            if name in body:
                value = dict(body[name])
                if name == "Note":
                    value["UpdatedAt"] = datetime.now(UTC).isoformat()
                finding.data[name] = value
        processed.append(identifier)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})
