"""Step-up for django-allauth: the decorators that demand a fresh second factor (the account
adapter is ``breakglass.adapters``).

Step-up is a sudo mode for dangerous actions (approve, check out, reveal a secret, confirm a
rotation, change who approves). It demands that the person proved who they are within the last
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds by MFA: a stolen session with a known password must
not be enough to release a root credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect
from django.utils.crypto import salted_hmac

from portal import policy

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., "HttpResponse"])

#: Session key of what the next step-up confirms (``{"text", "path", "at"}``), for its page.
STEP_UP_PURPOSE_KEY = "portal_step_up_purpose"
#: A purpose older than this is not shown (the person wandered off and came back another way).
_PURPOSE_SECONDS = 15 * 60


def recently_stepped_up(request: HttpRequest) -> bool:
    """Whether the person proved a second factor within the step-up window.

    Only an MFA check counts: a fresh password (or single sign-on) re-authentication does not,
    and someone without MFA cannot step up at all. Every role needs MFA
    (``policy.MFA_REQUIRED_ROLES``), so this fails closed for nobody who may act.
    """
    user = request.user
    if not user.is_authenticated or not policy.has_mfa(user):
        return False
    window_start = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") == "mfa" and float(record.get("at", 0)) >= window_start
        for record in get_authentication_records(request, user)
    )


def step_up_required(view: ViewFunc) -> ViewFunc:
    """Require a fresh re-authentication (MFA when the person has it) before the view runs.

    allauth's middleware turns the exception into a redirect to the re-authentication page and,
    for a POST, replays the suspended request afterwards.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_stepped_up(request):
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapper)


def step_up_before_secrets(view: ViewFunc) -> ViewFunc:
    """:func:`step_up_keeping` with nothing kept but the secret-free form itself."""
    return step_up_keeping()(view)


def step_up_keeping(*kept_fields: str) -> Callable[[ViewFunc], ViewFunc]:
    """Step-up for a form that carries a secret (a new root password), without losing what was typed.

    ``step_up_required`` lets allauth keep a suspended POST, body included, in the session until
    the person has re-authenticated. A root password must not sit in the session table (nor in a
    URL), so the design is instead:

    1. The form's page is shown only after a fresh step-up (its GET asks for it).
    2. The page carries a signed token (:func:`secret_form_token`, the ``{% step_up_form_token %}``
       tag): this person, this session, this page, issued at a moment they had just proved their
       second factor. A POST with a valid token younger than ``PORTAL_SECRET_FORM_MINUTES`` is
       accepted even after the step-up window closed: typing a password and a review takes longer
       than five minutes, and the proof was given when the form was opened. The token holds no
       secret, is useless in another session or on another page, and the action it allows is the
       one the page offers (a confirmed rotation cannot be confirmed again).
    3. A POST past that (or without a token) is not carried out and not replayed: the secret is
       dropped, the ``kept_fields`` (never a secret: a review note, an envelope number) are kept in
       the session as a draft that the form's next GET puts back (:func:`form_draft`), and the
       person is told to type only the secret again after confirming it is them.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if recently_stepped_up(request):
                return view(request, *args, **kwargs)
            if request.method != "POST":
                raise ReauthenticationRequired()
            if _opened_after_step_up(request):
                return view(request, *args, **kwargs)
            draft = {name: request.POST[name] for name in kept_fields if request.POST.get(name)}
            if draft:
                request.session[_DRAFT_KEY] = {"path": request.path, "fields": draft}
            messages.error(
                request,
                "Confirm it is you first. "
                + (
                    "What you typed is kept except the password: enter that again afterwards."
                    if draft
                    else "What you typed was not kept; enter it again afterwards."
                ),
            )
            return redirect(request.path)

        return cast(ViewFunc, wrapper)

    return decorator


#: Session key of the secret-free fields of a form a lapsed step-up interrupted.
_DRAFT_KEY = "portal_form_draft"
#: Salt of the token a secret form's page carries; and the name of its hidden field.
_FORM_SALT = "portal.identity.secret-form"
FORM_TOKEN_FIELD = "step_up_form"


def _session_tag(request: HttpRequest) -> str:
    # Binds the token to this session without putting anything of the session key in the page.
    return salted_hmac(_FORM_SALT, request.session.session_key or "").hexdigest()[:20]


def secret_form_token(request: HttpRequest) -> str:
    """The token of :func:`step_up_keeping`, or ``""`` when the person has not just stepped up."""
    if not recently_stepped_up(request):
        return ""
    return signing.dumps(
        {"u": str(request.user.pk), "p": request.path, "s": _session_tag(request)}, salt=_FORM_SALT
    )


def _opened_after_step_up(request: HttpRequest) -> bool:
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not token or not request.user.is_authenticated:
        return False
    try:
        data = signing.loads(token, salt=_FORM_SALT, max_age=settings.PORTAL_SECRET_FORM_MINUTES * 60)
    except signing.BadSignature:  # includes an expired token
        return False
    return bool(data == {"u": str(request.user.pk), "p": request.path, "s": _session_tag(request)})


def form_draft(request: HttpRequest) -> dict[str, str]:
    """The kept fields of this page's interrupted form, once (see :func:`step_up_keeping`)."""
    stored = request.session.get(_DRAFT_KEY)
    if not isinstance(stored, dict) or stored.get("path") != request.path:
        return {}
    del request.session[_DRAFT_KEY]
    return {str(name): str(value) for name, value in dict(stored.get("fields", {})).items()}


def remember_step_up_purpose(request: HttpRequest, text: str) -> None:
    """Say on the step-up page what it confirms (*Approve BG-… on payments-prod*).

    Kept in the session, never in the URL, and only words a person may read about the object
    (a request code, an account name, a verb): never a secret. It is shown only on the
    re-authentication page whose ``next`` is this request's path, so a purpose left behind does
    not label another step-up.
    """
    request.session[STEP_UP_PURPOSE_KEY] = {"text": text, "path": request.get_full_path(), "at": time.time()}


def step_up_purpose_for(request: HttpRequest) -> str:
    """The purpose remembered for the step-up page this request shows, or ``""``."""
    stored = request.session.get(STEP_UP_PURPOSE_KEY) if hasattr(request, "session") else None
    if not isinstance(stored, dict):
        return ""
    if time.time() - float(stored.get("at", 0)) > _PURPOSE_SECONDS:
        return ""
    if request.GET.get("next") != stored.get("path"):
        return ""
    return str(stored.get("text", ""))


def step_up_purpose(describe: Callable[..., str]) -> Callable[[ViewFunc], ViewFunc]:
    """Name the action and object a step-up confirms; put it above ``step_up_required``.

    ``describe(request, **view_kwargs)`` returns the words (it may raise ``Http404`` for an object
    the person cannot see, as the view would). It runs only when a step-up is about to be asked.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not recently_stepped_up(request):
                remember_step_up_purpose(request, describe(request, **kwargs))
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapper)

    return decorator
