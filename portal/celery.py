"""The Celery application; the one beat schedule of the portal lives here."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, declared in code so every deployment runs the same schedule.
app.conf.beat_schedule = {
    "verify-ledger-hourly": {"task": "ledger.tasks.verify_ledger", "schedule": 3600.0},
    # Signed checkpoints of the ledger outside the database (ledger.checkpoints.CHECKPOINT_INTERVAL_SECONDS).
    "checkpoint-ledger": {"task": "ledger.tasks.checkpoint_ledger", "schedule": 600.0},
    "expire-access-requests": {"task": "breakglass.tasks.expire_access_requests", "schedule": 60.0},
    "remind-overdue-checkouts": {"task": "breakglass.tasks.remind_overdue_checkouts", "schedule": 60.0},
    # CloudTrail ingestion: every ten seconds, queue each enabled source whose own schedule_seconds has
    # passed (it fans out one task per unit); reconciliation every five minutes, because overdue
    # check-outs, late rotations and unreviewed emergencies become findings with time alone.
    "ingest-enabled-sources": {"task": "audits.tasks.ingest_enabled_sources", "schedule": 10.0},
    "reconcile-all-accounts": {"task": "audits.tasks.reconcile_all", "schedule": 300.0},
    # Ingestion runs whose worker died (no progress for PORTAL_INGEST_STALE_MINUTES) end as failed.
    "sweep-stale-ingestion-runs": {"task": "audits.tasks.sweep_stale_runs", "schedule": 300.0},
    # With PORTAL_SECURITY_HUB_ENABLED: findings whose hand-over to Security Hub was lost are sent.
    "export-pending-to-security-hub": {
        "task": "audits.tasks.export_pending_to_security_hub",
        "schedule": 900.0,
    },
    # An emergency nobody acknowledged within PORTAL_EMERGENCY_ACK_MINUTES is critical at once.
    "reconcile-unacknowledged-emergencies": {
        "task": "audits.tasks.reconcile_unacknowledged_emergencies",
        "schedule": 60.0,
    },
    # The organization import (audits/organization/): hourly, once PORTAL_ORG_SYNC_ENABLED is true.
    "sync-organization": {"task": "audits.tasks.sync_organization", "schedule": 3600.0},
    # MFA devices not confirmed back in the safe in time become findings (PORTAL_DEVICE_RETURN_HOURS).
    "flag-unreturned-devices": {"task": "breakglass.tasks.flag_unreturned_devices", "schedule": 900.0},
    # Access reviews (PCI DSS 7.2.4): start on schedule, remind, close at the deadline.
    "start-scheduled-review": {"task": "breakglass.tasks.start_scheduled_review", "schedule": 86400.0},
    "remind-reviewers": {"task": "breakglass.tasks.remind_reviewers", "schedule": 86400.0},
    "close-due-reviews": {"task": "breakglass.tasks.close_due_reviews", "schedule": 3600.0},
    # Drills and approver reachability (issue 9, item 4): a drill whose root sign-in never arrived is
    # critical within five minutes of its deadline; approvers are asked daily when due, lapse hourly.
    "drill-events-missing": {"task": "audits.tasks.drill_events_missing", "schedule": 300.0},
    "ask-approvers-reachability": {
        "task": "breakglass.tasks.ask_approvers_reachability",
        "schedule": 86400.0,
    },
    "lapse-reachability-checks": {"task": "breakglass.tasks.lapse_reachability_checks", "schedule": 3600.0},
    # Notifications whose hand-over to the broker failed at commit time (outbox sweep).
    "requeue-stale-notifications": {
        "task": "breakglass.tasks.requeue_stale_notifications",
        "schedule": 300.0,
    },
    # Retention (README "Retention"): finished notifications and ingestion runs past their period,
    # in ledgered batches; evidence is never purged. Daily.
    "purge-old-notifications": {"task": "breakglass.tasks.purge_old_notifications", "schedule": 86400.0},
    "purge-old-ingestion-runs": {"task": "audits.tasks.purge_old_ingestion_runs", "schedule": 86400.0},
    # Root posture of every account (access keys, MFA, contacts, centralised root access): daily; the
    # credential report AWS reuses is at most four hours old, so more often would add nothing.
    "check-root-posture": {"task": "audits.posture.tasks.check_posture", "schedule": 86400.0},
    # Export files (PDF reports, evidence bundles) are kept PORTAL_EXPORT_KEEP_HOURS, then removed.
    "purge-expired-exports": {"task": "audits.tasks.purge_expired_exports", "schedule": 3600.0},
}
