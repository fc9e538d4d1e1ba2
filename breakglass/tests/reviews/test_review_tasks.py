"""The beat tasks of access reviews each call their one service."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import tasks
from breakglass.choices import CampaignStatus
from breakglass.models import ReviewCampaign
from portal.celery import app

pytestmark = pytest.mark.django_db


def test_beat_runs_the_review_tasks() -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "breakglass.tasks.start_scheduled_review",
        "breakglass.tasks.remind_reviewers",
        "breakglass.tasks.close_due_reviews",
    } <= scheduled


def test_the_scheduled_task_starts_a_campaign_once(grant: Any) -> None:
    started = tasks.start_scheduled_review()
    assert started == str(ReviewCampaign.objects.get().uuid)
    assert tasks.start_scheduled_review() == ""


def test_the_closing_task_leaves_a_campaign_before_its_deadline_open(campaign: Any) -> None:
    assert tasks.close_due_reviews() == 0
    assert tasks.remind_reviewers() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
