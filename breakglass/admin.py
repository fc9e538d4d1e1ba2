"""Read-only admin views of the inventory.

Every change to the inventory must go through a service so it lands in the audit ledger in the
same transaction; the admin would bypass that, so here it only shows. The browser pages edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from breakglass.models import AwsAccount, Grant, MfaDevice, MfaDeviceAssignment, RootCredential

if TYPE_CHECKING:
    # django-stubs makes these classes generic; Django's own are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
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
