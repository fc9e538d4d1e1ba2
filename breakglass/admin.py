"""Read-only admin views of the inventory; people, groups and authenticators behind step-up.

Every change to the inventory must go through a service so it lands in the audit ledger in the
same transaction; the admin would bypass that, so here it only shows. The browser pages edit
(per-account approvers and custodians included: ``breakglass.services.account_update`` records them).
People and groups are edited here, each change a ledger entry (``breakglass.identity``); MFA
authenticators are listed without their secrets.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from breakglass.identity import (
    NO_AUTHORITY,
    PASSWORD_SET_BY_ADMINISTRATOR,
    ROLE_NAMES,
    USER_CREATED,
    USER_DELETED,
    authority_changes,
    authority_of,
    user_authority_record,
)
from breakglass.identity_events import AUTHENTICATOR_REMOVED
from breakglass.models import (
    AwsAccount,
    Drill,
    Grant,
    MfaDevice,
    MfaDeviceAssignment,
    ReachabilityCheck,
    ReviewCampaign,
    ReviewItem,
    RootCredential,
)
from ledger import services as ledger
from portal.identity import recently_stepped_up


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    # Not ``ledger.admin.ReadOnlyAdmin``: that one shows every concrete field read-only, which would
    # bring back the fields excluded here (the root e-mail, the credential envelope).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AwsAccount)
class AwsAccountAdmin(ReadOnlyAdmin):
    list_display = ["name", "account_id", "environment", "governance_mode", "approval_quorum"]
    list_filter = ["environment", "governance_mode"]
    search_fields = ["name", "account_id"]
    exclude = ["root_email"]


@admin.register(RootCredential)
class RootCredentialAdmin(ReadOnlyAdmin):
    list_display = ["account", "storage", "last_rotated_at", "rotation_required"]
    # The envelope itself is never shown, not even encrypted.
    exclude = ["ciphertext"]


@admin.register(MfaDevice)
class MfaDeviceAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "serial_number", "custody_state", "holder"]
    list_filter = ["kind", "custody_state"]
    search_fields = ["label", "serial_number"]


@admin.register(MfaDeviceAssignment)
class MfaDeviceAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["device", "account", "device_kind"]


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["user", "account", "expires_at", "emergency", "revoked_at", "last_reviewed_at"]
    list_filter = ["emergency"]


@admin.register(ReviewCampaign)
class ReviewCampaignAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "deadline", "started_by", "undecided_outcome")
    list_filter = ("status",)


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "campaign", "decision", "decided_by", "decided_at")
    list_filter = ("subject", "decision")


@admin.register(Drill)
class DrillAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "result", "signed_in_at", "ingest_delay", "alert_delay", "finding_code")
    list_filter = ("result",)


@admin.register(ReachabilityCheck)
class ReachabilityCheckAdmin(ReadOnlyAdmin):
    list_display = ("approver", "asked_at", "deadline", "confirmed_at", "lapsed_at")


# --- People, groups and authenticators: who may do what -----------------------------------------
# Changing a person's groups, flags or password is changing who may release a root password, so
# each such view needs a fresh second factor (step-up), and each change is a ledger entry written
# in the admin's own transaction (breakglass.identity), announced to the other administrators when
# someone gains a privileged role.

ADMIN_SOURCE = "Django admin"


def _refuse_without_step_up(request: HttpRequest, *, carries_secret: bool) -> HttpResponse | None:
    """None when the person stepped up recently; otherwise ask for it.

    A form that carries a password is not kept across the re-authentication (allauth would keep
    the suspended POST, body included, in the session table): it is dropped and shown again.
    """
    if recently_stepped_up(request):
        return None
    if carries_secret and request.method == "POST":
        messages.error(request, "Confirm it is you first. What you typed was not kept; enter it again.")
        return redirect(request.path)
    raise ReauthenticationRequired()


class StepUpForDeletes:
    """Deleting (one, or in bulk from the list) needs a fresh second factor."""

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        refused = _refuse_without_step_up(request, carries_secret=False)
        return refused or super().delete_view(request, object_id, extra_context)  # type: ignore[misc]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A POST here runs a bulk action (deleting).
        refused = _refuse_without_step_up(request, carries_secret=False) if request.method == "POST" else None
        return refused or super().changelist_view(request, extra_context)  # type: ignore[misc]


class StepUpForChanges(StepUpForDeletes):
    """Adding and changing need a fresh second factor too. ``secret_when_adding``: the add form
    carries a password (a new person), which is never kept across the re-authentication."""

    secret_when_adding = False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        refused = _refuse_without_step_up(
            request, carries_secret=self.secret_when_adding and object_id is None
        )
        return refused or super().changeform_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PortalUserAdmin(StepUpForChanges, UserAdmin):  # type: ignore[type-arg]
    """Django's user admin, behind step-up and writing every change of authority to the ledger."""

    secret_when_adding = True  # adding a person sets a password in the same form

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        refused = _refuse_without_step_up(request, carries_secret=True)
        if refused:
            return refused
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            # The form redirects only once the password was set (or disabled).
            if request.method == "POST" and response.status_code == 302:
                person = User.objects.get(pk=id)
                user_authority_record(
                    actor=request.user,
                    user=person,
                    before=authority_of(person),
                    source=ADMIN_SOURCE,
                    action=PASSWORD_SET_BY_ADMINISTRATOR,
                    data={"usable_password": person.has_usable_password()},
                )
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The row still holds the old values: the form has changed only the object in memory.
        obj._authority_before = authority_of(obj) if change else NO_AUTHORITY
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        person = form.instance
        before = getattr(person, "_authority_before", NO_AUTHORITY)
        if change:
            user_authority_record(actor=request.user, user=person, before=before, source=ADMIN_SOURCE)
        else:
            user_authority_record(
                actor=request.user,
                user=person,
                before=before,
                source=ADMIN_SOURCE,
                action=USER_CREATED,
                data={"usable_password": person.has_usable_password()},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._record_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for person in queryset:
            self._record_deletion(request, person)
        super().delete_queryset(request, queryset)

    def _record_deletion(self, request: HttpRequest, person: Any) -> None:
        ledger.record(
            actor=request.user,
            action=USER_DELETED,
            target=person,
            data={
                "user": person.get_username(),
                "source": ADMIN_SOURCE,
                "changes": authority_changes(authority_of(person), NO_AUTHORITY),
            },
        )


def _group_facts(group: Group) -> dict[str, Any]:
    if group.pk is None:
        return {"name": "", "permissions": []}
    stored = Group.objects.get(pk=group.pk)
    return {
        "name": stored.name,
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in stored.permissions.values_list("content_type__app_label", "codename")
        ),
    }


@admin.register(Group)
class PortalGroupAdmin(StepUpForChanges, GroupAdmin):
    """Django's group admin, behind step-up; changes are ledger entries; roles cannot be renamed."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Renaming the Approver group would silently take the role from everyone in it.
        if obj is not None and obj.name in ROLE_NAMES:
            return ("name",)
        return super().get_readonly_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._facts_before = _group_facts(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        group = form.instance
        before, after = getattr(group, "_facts_before", {}), _group_facts(group)
        changes = {
            key: {"from": before.get(key), "to": after[key]} for key in after if before.get(key) != after[key]
        }
        if changes:
            ledger.record(
                actor=request.user,
                action="group.changed" if change else "group.created",
                target=group,
                data={"group": group.name, "source": ADMIN_SOURCE, "changes": changes},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._record_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for group in queryset:
            self._record_deletion(request, group)
        super().delete_queryset(request, queryset)

    def _record_deletion(self, request: HttpRequest, group: Group) -> None:
        members = sorted(group.user_set.values_list("username", flat=True))
        ledger.record(
            actor=request.user,
            action="group.deleted",
            target=group,
            data={**_group_facts(group), "members": members, "source": ADMIN_SOURCE},
        )


# allauth's own admin shows an authenticator's ``data``: the TOTP secret and recovery-code seed.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(StepUpForDeletes, admin.ModelAdmin[Any]):
    """Who has which second factor, never its secret. Deleting one (a lost phone) needs step-up and
    is recorded; adding or editing one is for the person, on their own MFA pages."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__username"]
    # Never ``data``: it holds the TOTP secret and the recovery-code seed.
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = ("user", "type", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._record_removal(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for authenticator in queryset.select_related("user"):
            self._record_removal(request, authenticator)
        super().delete_queryset(request, queryset)

    def _record_removal(self, request: HttpRequest, authenticator: Authenticator) -> None:
        ledger.record(
            actor=request.user,
            action=AUTHENTICATOR_REMOVED,
            target=authenticator.user,
            data={"type": authenticator.type, "source": ADMIN_SOURCE},
        )
