"""Where a ledger entry's target can be seen: the page of the request, account, finding, ingestion
run, review campaign or export it names. Pages are reversed by name, so the ledger imports no app;
an entry whose target has no page (a sign-in, a grant, a report) has no link."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from ledger.models import LedgerEntry
from portal.links import base_url

#: target_type (a model's label, or the name a service gave) -> the URL name of its page, by uuid.
TARGET_PAGES = {
    "breakglass.AccessRequest": "breakglass:request_detail",
    "breakglass.AwsAccount": "breakglass:account_detail",
    "breakglass.ReviewCampaign": "breakglass:review_campaign_detail",
    "audits.Finding": "audits:finding_detail",
    "audits.IngestionRun": "audits:run_detail",
    "export_job": "audits:export_job_detail",
}


def target_path(entry: LedgerEntry) -> str | None:
    """The site path of the entry's target page, or None."""
    name = TARGET_PAGES.get(entry.target_type)
    if name is None or not entry.target_id:
        return None
    try:
        return reverse(name, kwargs={"uuid": entry.target_id})
    except NoReverseMatch:  # an id that is not a uuid (an old entry, a hand-made one)
        return None


def target_url(entry: LedgerEntry) -> str | None:
    """The full address of the target page, for exports read outside the portal."""
    path = target_path(entry)
    return base_url() + path if path is not None else None
