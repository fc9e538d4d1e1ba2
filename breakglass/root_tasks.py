"""The tasks that need the root user, and the CloudTrail actions each one is expected to cause.

Plain data, no Django: the request form offers these, and the reconciler compares a session's root
events with ``expected_actions`` to tell in-scope from out-of-scope activity. Where AWS's
``sts:AssumeRoot`` covers a task (``assume_root_policy``), the portal steers people to it instead
of handing out the password.
Sources: AWS "Tasks that require root user credentials"; the five root-task policies of AssumeRoot.
"""

from __future__ import annotations

from dataclasses import dataclass

ASSUME_ROOT_POLICY_PREFIX = "arn:aws:iam::aws:policy/root-task/"


@dataclass(frozen=True)
class RootTask:
    code: str
    title: str
    expected_actions: frozenset[str]
    # Set for the AssumeRoot task policies: no password is handed out for these.
    assume_root_policy: str = ""
    # An AssumeRoot task that could do the same job, to steer password requests to it.
    assume_root_alternative: str = ""

    @property
    def is_assume_root(self) -> bool:
        return bool(self.assume_root_policy)


_SIGN_IN = frozenset({"ConsoleLogin", "CheckMfa", "GetSessionToken"})

ROOT_TASKS: tuple[RootTask, ...] = (
    RootTask(
        "change_account_settings",
        "Change account settings (name, email, root password, access keys)",
        _SIGN_IN | {"UpdateAccountName", "UpdateAccountEmailAddress", "PasswordUpdated", "ChangePassword"},
    ),
    RootTask(
        "restore_iam_permissions",
        "Restore IAM user permissions (the only administrator locked itself out)",
        _SIGN_IN
        | {"AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy", "PutRolePolicy", "DetachUserPolicy"},
    ),
    RootTask(
        "view_tax_invoices",
        "View certain tax invoices",
        _SIGN_IN | {"GetTaxInvoice", "ListTaxInvoices", "GetInvoicePDF"},
    ),
    RootTask("close_account", "Close the AWS account", _SIGN_IN | {"CloseAccount"}),
    RootTask(
        "change_support_plan",
        "Change or cancel the AWS Support plan",
        _SIGN_IN | {"UpdateSupportPlan", "DescribeSupportLevel"},
    ),
    RootTask(
        "register_ri_seller",
        "Register as a seller in the Reserved Instance Marketplace",
        _SIGN_IN | {"RegisterSeller", "CreateReservedInstancesListing"},
    ),
    RootTask(
        "configure_s3_mfa_delete",
        "Configure MFA delete on an S3 bucket",
        _SIGN_IN | {"PutBucketVersioning", "GetBucketVersioning"},
    ),
    RootTask(
        "unlock_bucket_policy",
        "Edit or delete an S3 bucket policy that denies everyone",
        _SIGN_IN | {"DeleteBucketPolicy", "PutBucketPolicy", "GetBucketPolicy"},
        assume_root_alternative="assume_root_s3_unlock",
    ),
    RootTask("signup_govcloud", "Sign up for AWS GovCloud (US)", _SIGN_IN | {"SignUpForGovCloud"}),
    RootTask(
        "assume_root_audit_credentials",
        "AssumeRoot: audit root user credentials",
        frozenset(
            {
                "GetLoginProfile",
                "ListAccessKeys",
                "ListMFADevices",
                "ListSigningCertificates",
                "GetAccessKeyLastUsed",
                "GetUser",
            }
        ),
        assume_root_policy=ASSUME_ROOT_POLICY_PREFIX + "IAMAuditRootUserCredentials",
    ),
    RootTask(
        "assume_root_create_password",
        "AssumeRoot: allow root password recovery",
        frozenset({"CreateLoginProfile", "GetLoginProfile"}),
        assume_root_policy=ASSUME_ROOT_POLICY_PREFIX + "IAMCreateRootUserPassword",
    ),
    RootTask(
        "assume_root_delete_credentials",
        "AssumeRoot: delete root user credentials",
        frozenset(
            {
                "DeleteLoginProfile",
                "DeleteAccessKey",
                "DeactivateMFADevice",
                "DeleteVirtualMFADevice",
                "DeleteSigningCertificate",
                "ListAccessKeys",
                "ListMFADevices",
                "ListSigningCertificates",
                "GetLoginProfile",
            }
        ),
        assume_root_policy=ASSUME_ROOT_POLICY_PREFIX + "IAMDeleteRootUserCredentials",
    ),
    RootTask(
        "assume_root_s3_unlock",
        "AssumeRoot: delete an S3 bucket policy that locks everyone out",
        frozenset({"DeleteBucketPolicy", "GetBucketPolicy"}),
        assume_root_policy=ASSUME_ROOT_POLICY_PREFIX + "S3UnlockBucketPolicy",
    ),
    RootTask(
        "assume_root_sqs_unlock",
        "AssumeRoot: delete an SQS queue policy that locks everyone out",
        frozenset({"SetQueueAttributes", "GetQueueAttributes"}),
        assume_root_policy=ASSUME_ROOT_POLICY_PREFIX + "SQSUnlockQueuePolicy",
    ),
    RootTask("other", "Other (explain below)", _SIGN_IN),
)

#: The task of a break-glass drill (``breakglass.drills``): sign in as root and out again. Not offered
#: on the request form (only a scheduled drill carries it); any other root action in a drill is out of
#: scope, so a drill cannot quietly be used for real work.
DRILL_TASK = RootTask("drill", "Break-glass drill: sign in as root, then sign out", _SIGN_IN)

BY_CODE: dict[str, RootTask] = {task.code: task for task in (*ROOT_TASKS, DRILL_TASK)}
#: The tasks the portal carries out itself through sts:AssumeRoot: no device or password is handed out.
ASSUME_ROOT_CODES: frozenset[str] = frozenset(task.code for task in ROOT_TASKS if task.is_assume_root)
CHOICES: list[tuple[str, str]] = [(task.code, task.title) for task in ROOT_TASKS]


def root_task(code: str) -> RootTask:
    """The task with ``code``; KeyError for an unknown one."""
    return BY_CODE[code]


def task_title(code: str, other_task: str = "") -> str:
    """What a request's task is called on pages and in messages: the task's title (its code when the
    task has left the list), followed by the requester's own words for an "other" task."""
    task = BY_CODE.get(code)
    title = task.title if task is not None else code
    return f"{title}: {other_task}" if other_task else title
