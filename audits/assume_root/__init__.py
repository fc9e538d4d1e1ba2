"""AssumeRoot: the portal's privileged root tasks in member accounts (issue 12), and the only code that
calls ``sts:AssumeRoot`` or acts with its credentials.

* ``types.py``: ``TaskTarget`` and ``TaskOutcome`` (the contract with the request workflow);
* ``policies.py`` (pure): each task's policy and shortest duration, what a target must look like;
* ``work.py`` (boto3 only): the five tasks, each exactly the calls its policy allows;
* ``runner.py``: ``run_root_task`` (AssumeRoot, record the key, do the task, drop the credentials);
* ``models.py``: ``IssuedRootKey`` (every key the portal obtained) and ``RootAuditRun``;
* ``services.py``: their writes, each with its ledger entry.
"""

from audits.assume_root.runner import run_root_task
from audits.assume_root.types import TaskOutcome, TaskTarget

__all__ = ["TaskOutcome", "TaskTarget", "run_root_task"]
