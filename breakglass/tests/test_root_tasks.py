"""``task_title``: the one name of a request's task, on pages and in messages."""

from __future__ import annotations

from breakglass.models import AccessRequest
from breakglass.root_tasks import BY_CODE, task_title


def test_a_listed_task_is_named_by_its_title() -> None:
    assert task_title("close_account") == BY_CODE["close_account"].title


def test_an_other_task_carries_the_requesters_words() -> None:
    assert task_title("other", "Rename the account") == "Other (explain below): Rename the account"


def test_a_task_that_left_the_list_is_named_by_its_code() -> None:
    assert task_title("retired_task") == "retired_task"


def test_a_request_names_its_task_the_same_way() -> None:
    request = AccessRequest(root_task="other", other_task="Rename the account")
    assert request.task_title == task_title("other", "Rename the account")
