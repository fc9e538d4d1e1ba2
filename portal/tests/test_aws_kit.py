"""The AWS-side kit (``deploy/aws/``): every template passes cfn-lint, and no policy in it grants a
wildcard action (least privilege; issue 10 item 4)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

KIT = Path(__file__).resolve().parents[2] / "deploy" / "aws"
TEMPLATES = sorted(KIT.glob("*.yaml"))
ROOT_TASKS = {
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
}


def load(path: Path) -> dict[str, Any]:
    template, problems = decode(str(path))
    assert not problems, problems
    assert template is not None
    return dict(template)


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every policy statement anywhere in the template (inline policies, queue and bus policies), the
    branches of ``Fn::If`` included."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Action", [])
    return [value] if isinstance(value, str) else list(value)


def test_the_kit_has_the_management_stack_and_the_member_stackset() -> None:
    assert [path.name for path in TEMPLATES] == ["management-account.yaml", "member-accounts-stackset.yaml"]


def test_cfn_lint_passes_on_every_template() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
            *map(str, TEMPLATES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_no_policy_grants_a_wildcard_action_or_uses_not_action(path: Path) -> None:
    found = list(statements(load(path)))
    assert found, "no policy statements found: the walker is broken"
    for statement in found:
        assert "NotAction" not in statement, statement
        for action in actions(statement):
            assert "*" not in action, f"{path.name}: wildcard action {action!r}"


def test_assume_root_is_limited_to_the_five_task_policies() -> None:
    template = load(KIT / "management-account.yaml")
    assume_root = [s for s in statements(template) if "sts:AssumeRoot" in actions(s)]
    assert len(assume_root) == 1
    allowed = assume_root[0]["Condition"]["StringEquals"]["sts:TaskPolicyArn"]
    names = {arn["Fn::Sub"].rsplit("/", 1)[-1] for arn in allowed}
    assert names == ROOT_TASKS


def test_the_member_role_reads_and_never_writes() -> None:
    template = load(KIT / "member-accounts-stackset.yaml")
    role = template["Resources"]["PostureReadRole"]["Properties"]
    granted = {action for s in statements(role["Policies"]) for action in actions(s)}
    assert {"iam:GetAccountSummary", "iam:GetCredentialReport", "iam:ListVirtualMFADevices"} <= granted
    verbs = {action.split(":", 1)[1] for action in granted}
    assert all(verb.startswith(("Get", "List", "Generate", "Lookup")) for verb in verbs), verbs


def test_every_root_event_is_forwarded_sign_in_and_api_alike() -> None:
    rule = load(KIT / "member-accounts-stackset.yaml")["Resources"]["RootActivityRule"]["Properties"]
    assert rule["EventPattern"]["detail"]["userIdentity"]["type"] == ["Root"]
    assert "AWS API Call via CloudTrail" in rule["EventPattern"]["detail-type"]
    assert "AWS Console Sign In via CloudTrail" in rule["EventPattern"]["detail-type"]
    # Read-only root calls are root use too; they only reach EventBridge in this state.
    assert rule["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def test_the_findings_role_files_only_the_accounts_own_security_hub_findings() -> None:
    template = load(KIT / "member-accounts-stackset.yaml")
    role = template["Resources"]["FindingsRole"]["Properties"]
    granted = {action for s in statements(role["Policies"]) for action in actions(s)}
    assert granted == {"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"}
