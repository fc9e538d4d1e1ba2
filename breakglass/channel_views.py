"""Notification channel pages, for administrators: list, add (the signing secret shown once), enable
or disable, delete, send a test.

Channel targets are secrets (a Slack webhook URL embeds its token), so pages show them masked, and
adding, disabling or deleting a channel asks for a fresh re-authentication.
"""

from __future__ import annotations

from uuid import UUID

from allauth.core.exceptions import ReauthenticationRequired
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from breakglass import selectors
from breakglass.models import AwsAccount, NotificationChannel
from breakglass.notifications import selectors as channel_selectors
from breakglass.notifications import senders
from breakglass.notifications import services as channel_services
from breakglass.notifications.forms import ChannelForm
from breakglass.notifications.targets import masked_target
from portal import policy
from portal.confirm import Confirmation, confirmation_page, confirmed
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.forms import add_domain_error
from portal.identity import recently_stepped_up, remember_step_up_purpose, step_up_purpose, step_up_required

manage_only = allowed_if(policy.may_manage_inventory)


def _list_url(account: AwsAccount | None) -> str:
    url = reverse("channels:channel_list")
    return f"{url}?account={account.uuid}" if account is not None else url


def _account_from_query(request: HttpRequest) -> AwsAccount | None:
    raw = request.GET.get("account", "").strip()
    if not raw:
        return None
    try:
        uuid = UUID(raw)
    except ValueError:
        raise Http404("No such account.") from None
    return selectors.account_for(user=request.user, uuid=uuid)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages holding a secret must not be kept by the browser's cache or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@manage_only
def channel_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    account = _account_from_query(request)
    channel_list = list(
        channel_selectors.notification_channels_visible_to(user=request.user, account=account)
    )
    for channel in channel_list:
        channel.masked_target = masked_target(channel)  # type: ignore[attr-defined]
    return render(
        request,
        "breakglass/channels.html",
        {
            "account": account,
            "channels": channel_list,
            "accounts": AwsAccount.objects.filter(selectors.visible_accounts_filter(request.user))
            .distinct()
            .order_by("name"),
            "recent": channel_selectors.recent_notifications(user=request.user),
            "signature_header": senders.SIGNATURE_HEADER,
            "timestamp_header": senders.TIMESTAMP_HEADER,
        },
    )


@manage_only
@step_up_required
def channel_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    account = _account_from_query(request)
    form = ChannelForm(request.POST or None, initial={"account": account})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel, secret = channel_services.notification_channel_create(
                actor=request.user,
                account=data["account"],
                kind=data["kind"],
                name=data["name"],
                target=data["target"],
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            if secret:
                # Rendered in the answer to the POST, not stored for a redirect: the plaintext exists
                # only in this response, so there is nothing left to leak afterwards.
                return _no_store(
                    render(
                        request,
                        "breakglass/channel_secret.html",
                        {
                            "channel": channel,
                            "secret": secret,
                            "list_url": _list_url(channel.account),
                            "signature_header": senders.SIGNATURE_HEADER,
                            "timestamp_header": senders.TIMESTAMP_HEADER,
                        },
                    )
                )
            messages.success(request, f"Added the channel {channel.name}.")
            return redirect(_list_url(channel.account))
    return _no_store(
        render(request, "breakglass/form.html", {"form": form, "title": "Add a notification channel"})
    )


@require_POST
@manage_only
def channel_set_enabled(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    channel = channel_selectors.notification_channel_for(user=request.user, uuid=uuid)
    enabled = request.POST.get("enabled") == "true"
    # Silencing a channel hides whatever follows (an emergency, a revocation), so switching one
    # off is a destructive action: a confirmation page and a fresh second factor, like deleting
    # one; switching on is neither.
    if not enabled:
        if not recently_stepped_up(request):
            remember_step_up_purpose(request, f"Disable the notification channel {channel.name}")
            raise ReauthenticationRequired()
        if not confirmed(request):
            return confirmation_page(
                request,
                Confirmation(
                    title=f"Disable the channel {channel.name}?",
                    facts=_channel_facts(channel),
                    consequence=(
                        "Nothing is sent to this channel until it is enabled again: emergencies, "
                        "revocations and findings go only to the other channels and e-mail."
                    ),
                    button="Disable the channel",
                    cancel_url=_list_url(channel.account),
                    hidden={"enabled": "false"},
                ),
            )
    try:
        channel_services.notification_channel_set_enabled(
            actor=request.user, channel=channel, enabled=enabled
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{channel.name} is now {'enabled' if enabled else 'disabled'}.")
    return redirect(_list_url(channel.account))


def _channel_facts(channel: NotificationChannel) -> list[tuple[str, str]]:
    return [
        ("Scope", channel.account.name if channel.account else "All accounts"),
        ("Kind", channel.get_kind_display()),
        ("Target", masked_target(channel)),
    ]


@manage_only
@step_up_purpose(lambda request, uuid: "Delete a notification channel")
@step_up_required
def channel_delete(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    channel = channel_selectors.notification_channel_for(user=request.user, uuid=uuid)
    if not confirmed(request):
        return confirmation_page(
            request,
            Confirmation(
                title=f"Delete the channel {channel.name}?",
                facts=_channel_facts(channel),
                consequence=(
                    "Messages already sent stay on record. Messages still queued for this channel "
                    "will not be sent."
                ),
                button="Delete the channel",
                cancel_url=_list_url(channel.account),
            ),
        )
    try:
        channel_services.notification_channel_delete(actor=request.user, channel=channel)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Deleted the channel {channel.name}.")
    return redirect(_list_url(channel.account))


@require_POST
@manage_only
def channel_test(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponseRedirect:
    channel: NotificationChannel = channel_selectors.notification_channel_for(user=request.user, uuid=uuid)
    try:
        channel_services.notification_channel_send_test(actor=request.user, channel=channel)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"A test message to {channel.name} is on its way; its delivery shows below."
        )
    return redirect(_list_url(channel.account))
