"""Reconciliation: every person's root action is matched to a check-out or becomes a finding.

:func:`reconcile` is a pure recomputation from stored data (root events, check-outs, findings), so it is
idempotent and can run as often as anyone likes: after an ingestion, after a check-out's window
changed (``audits.signals``), on a schedule. Per account, in one transaction, by job:

1. ``windows`` (pure): each root event that a person made (not an ``AwsServiceEvent``) is matched to
   the check-out of its account whose window holds it: from ``checked_out_at`` minus
   ``PORTAL_RECONCILE_GRACE_BEFORE_MINUTES`` to the end of custody plus
   ``PORTAL_RECONCILE_GRACE_AFTER_MINUTES`` (CloudTrail delivers late). ``RootEvent.session`` and
   ``in_scope`` (the event is one of the task's ``expected_actions``) follow; events a changed window
   no longer covers are unmatched.
2. ``wanted`` (pure, given the loaded rows): the findings of the design's table, each under a stable
   dedupe key, with the severity of ``audits.choices.SEVERITY_BY_KIND``.
3. ``apply``: compared with the stored findings, new ones are raised, changed ones updated, those that
   no longer apply resolved, each with its ledger entry; critical ones are alerted once.
4. ``wording`` (pure): the summaries, notes and subjects, in words an on-call engineer understands.

``service`` loads the rows, takes the account's lock and runs the four in order.
"""

from __future__ import annotations

from audits.reconcile.service import reconcile
from audits.reconcile.wanted import FAILED_LOGIN_BURST, MANAGED_KINDS, PER_EVENT_KINDS, dedupe_key
from audits.reconcile.windows import ReconcileConfig

__all__ = [
    "FAILED_LOGIN_BURST",
    "MANAGED_KINDS",
    "PER_EVENT_KINDS",
    "ReconcileConfig",
    "dedupe_key",
    "reconcile",
]
