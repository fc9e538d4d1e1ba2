"""One guard for every URL: walk the resolver and knock on each pattern as a stranger.

For every URL pattern of the site (ours, allauth's, the admin's) the walker builds a concrete URL
(uuid -> a random uuid4, int -> 1, str/slug/path -> "x"; regex groups from their own pattern) and
proves that

- an anonymous GET and POST are sent to sign-in (a 405 for the method a view does not take is fine);
- a signed-in person without a role (the ``outsider``) is refused with 403, for GET and POST
  (405 for the method a view does not take), following redirects: the admin sends non-staff to its
  login page, which refuses them with 403. Not 404: the role is checked before any lookup.

The REST API's operations (``/api/v1/``, ``url_walker.is_token_authenticated``) take a bearer token and
no session, so for them "sent to sign-in" becomes: without a token, and with the outsider's session
cookie, 401 as problem details; with a token whose person holds no role, 403.

A pattern is spared only through ``ALLOWED`` below, with the reason. A new URL without a guard
therefore fails here until someone guards it or writes down why it is open. What each role may
see and do on real objects is each page's own test.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from portal.tests.url_walker import (
    Route,
    anonymous_problem,
    is_token_authenticated,
    outsider_problem,
    token_problem,
    unreachable,
    walk,
)

pytestmark = pytest.mark.django_db


class Open(enum.Enum):
    PUBLIC = "anyone, signed in or not"
    SIGNED_IN = "any signed-in person, about their own sign-in (no portal role needed)"


# The ONE list of URL patterns that are not behind a role, each with why. It holds only what would
# otherwise fail the checks (test_every_exemption_is_needed): allauth pages that already send
# anonymous visitors to sign-in and refuse an outsider with 403 are checked like any other page.
_SIGN_IN = "signing in is how a stranger stops being one"
_RESET = "password reset by e-mail is for people who cannot sign in"
_OWN = "a person's own sign-in settings; MFA set-up must be reachable before any role can be used"
ALLOWED: dict[str, tuple[Open, str]] = {
    "healthz": (Open.PUBLIC, "the load balancer's liveness check; answers only {'status': 'ok'}"),
    "account_login": (Open.PUBLIC, _SIGN_IN),
    "account_logout": (Open.PUBLIC, "signing out must always work"),
    "account_inactive": (Open.PUBLIC, "tells a disabled person why sign-in failed"),
    "account_signup": (Open.PUBLIC, "shows 'sign-up is closed' (PortalAccountAdapter.is_open_for_signup)"),
    "account_email_verification_sent": (Open.PUBLIC, "an allauth notice page; shows no data"),
    "account_confirm_email": (Open.PUBLIC, "the e-mail confirmation link; the key is the credential"),
    "account_reset_password": (Open.PUBLIC, _RESET),
    "account_reset_password_done": (Open.PUBLIC, _RESET),
    "account_reset_password_from_key": (Open.PUBLIC, _RESET + "; the key is the credential"),
    "account_reset_password_from_key_done": (Open.PUBLIC, _RESET),
    "socialaccount_login_cancelled": (Open.PUBLIC, "single sign-on: the identity provider's way back"),
    "socialaccount_login_error": (Open.PUBLIC, "single sign-on: the identity provider's way back"),
    "socialaccount_signup": (
        Open.PUBLIC,
        "single sign-on: first sign-in of a person the provider vouches for",
    ),
    "accounts/social/login/cancelled/": (
        Open.PUBLIC,
        "allauth's old address of socialaccount_login_cancelled",
    ),
    "accounts/social/login/error/": (Open.PUBLIC, "allauth's old address of socialaccount_login_error"),
    "accounts/social/signup/": (Open.PUBLIC, "allauth's old address of socialaccount_signup"),
    "saml_acs": (Open.PUBLIC, "SAML: the identity provider posts the assertion here"),
    "saml_finish_acs": (Open.PUBLIC, "SAML: the identity provider posts the assertion here"),
    "saml_sls": (Open.PUBLIC, "SAML: single logout from the identity provider"),
    "saml_metadata": (Open.PUBLIC, "SAML: the service provider's public metadata"),
    "saml_login": (Open.PUBLIC, "SAML: starts signing in"),
    "openid_connect_login": (Open.PUBLIC, "OpenID Connect: starts signing in"),
    "openid_connect_callback": (Open.PUBLIC, "OpenID Connect: the identity provider's way back"),
    "account_reauthenticate": (Open.SIGNED_IN, "step-up: a signed-in person proves it is still them"),
    "account_request_reauthentication_code": (Open.SIGNED_IN, "step-up by code"),
    "account_confirm_reauthentication_code": (Open.SIGNED_IN, "step-up by code"),
    "mfa_reauthenticate": (Open.SIGNED_IN, "step-up by MFA"),
    "mfa_reauthenticate_webauthn": (Open.SIGNED_IN, "step-up by security key"),
    "account_email": (Open.SIGNED_IN, _OWN),
    "account_change_password": (Open.SIGNED_IN, _OWN),
    "account_set_password": (Open.SIGNED_IN, _OWN),
    "mfa_index": (Open.SIGNED_IN, _OWN),
    "mfa_activate_totp": (Open.SIGNED_IN, _OWN),
    "mfa_deactivate_totp": (Open.SIGNED_IN, _OWN),
    "mfa_view_recovery_codes": (Open.SIGNED_IN, _OWN),
    "mfa_generate_recovery_codes": (Open.SIGNED_IN, _OWN),
    "mfa_download_recovery_codes": (Open.SIGNED_IN, _OWN),
    "mfa_list_webauthn": (Open.SIGNED_IN, _OWN),
    "mfa_add_webauthn": (Open.SIGNED_IN, _OWN),
    "mfa_remove_webauthn": (Open.SIGNED_IN, _OWN),
    "mfa_edit_webauthn": (Open.SIGNED_IN, _OWN),
    "socialaccount_connections": (Open.SIGNED_IN, _OWN),
    "accounts/social/connections/": (Open.SIGNED_IN, "allauth's old address of socialaccount_connections"),
    "api_v1:openapi-json": (
        Open.PUBLIC,
        "the API's OpenAPI schema: its shape, the same for every installation and in the source; no data."
        " Tools read it before anyone has a token",
    ),
    "api_v1:api-root": (Open.PUBLIC, "Django Ninja's root, needed to build the API's URLs; answers 404"),
}


def _checked(routes: list[Route], *, spared: set[Open]) -> list[Route]:
    """The pages to check with a session (the token API has its own checks below)."""
    return [
        route
        for route in routes
        if ALLOWED.get(route.key, (None, ""))[0] not in spared and not is_token_authenticated(route)
    ]


def _token_routes(routes: list[Route]) -> list[Route]:
    return [route for route in routes if is_token_authenticated(route) and route.key not in ALLOWED]


@pytest.fixture(scope="module")
def routes() -> list[Route]:
    return list(walk())


# allauth patterns the portal serves with its own view at the same address and name (the earlier
# pattern wins): allauth's copy is unreachable on purpose. The portal's view is walked like any other.
SHADOWED = {
    "account_reauthenticate": "portal.views: a failed attempt is answered with a redirect (PRG)",
    "mfa_reauthenticate": "portal.views: a failed attempt is answered with a redirect (PRG)",
}


def _shadowed(route: Route) -> bool:
    return route.key in SHADOWED and getattr(route.callback, "__module__", "").startswith("allauth.")


def test_the_walker_reaches_every_pattern_with_its_url(routes: list[Route]) -> None:
    problems = [problem for route in routes if not _shadowed(route) and (problem := unreachable(route))]
    assert not problems, "\n".join(problems)
    assert len(routes) > 100  # ours, allauth's and the admin's
    assert {"breakglass:request_detail", "channels:channel_list", "audits:finding_list", "admin:index"} <= {
        route.key for route in routes
    }


def test_the_allow_list_names_only_patterns_that_exist(routes: list[Route]) -> None:
    assert set(ALLOWED) - {route.key for route in routes} == set()


def test_every_exemption_is_needed(client: Client, outsider: Any, routes: list[Route]) -> None:
    """The allow-list stays short: a pattern that would pass the checks anyway must leave it."""
    unneeded = []
    for route in routes:
        if route.key not in ALLOWED:
            continue
        client.logout()
        open_to_anonymous = anonymous_problem(client, route) is not None
        client.force_login(outsider)
        open_to_outsider = outsider_problem(client, route) is not None
        needed = (
            open_to_anonymous or open_to_outsider
            if ALLOWED[route.key][0] is Open.PUBLIC
            else open_to_outsider
        )
        if not needed:
            unneeded.append(route.key)
    assert not unneeded, f"on the allow-list but guarded anyway (remove them): {unneeded}"


def test_an_anonymous_visitor_is_sent_to_sign_in_everywhere(client: Client, routes: list[Route]) -> None:
    problems = [
        problem
        for route in _checked(routes, spared={Open.PUBLIC})
        if (problem := anonymous_problem(client, route))
    ]
    assert not problems, f"{len(problems)} URL(s) open to anonymous visitors:\n" + "\n".join(problems)


def test_a_person_without_a_role_is_refused_everywhere(
    client: Client, outsider: Any, routes: list[Route]
) -> None:
    problems = []
    for route in _checked(routes, spared={Open.PUBLIC, Open.SIGNED_IN}):
        client.force_login(outsider)  # again each time: no page may sign the outsider out unnoticed
        if problem := outsider_problem(client, route):
            problems.append(problem)
    assert not problems, f"{len(problems)} URL(s) open to a person without a role:\n" + "\n".join(problems)


def test_the_token_api_refuses_anyone_without_a_token_even_signed_in(
    client: Client, requester: Any, routes: list[Route]
) -> None:
    api_routes = _token_routes(routes)
    assert len(api_routes) >= 13
    problems = [problem for route in api_routes if (problem := token_problem(client, route, expected=401))]
    client.force_login(requester)  # a person of the portal, signed in: the API still wants a token
    problems += [
        f"signed in: {problem}"
        for route in api_routes
        if (problem := token_problem(client, route, expected=401))
    ]
    assert not problems, f"{len(problems)} API URL(s) open without a token:\n" + "\n".join(problems)


def test_the_token_api_refuses_the_token_of_a_person_without_a_role(
    client: Client, outsider: Any, routes: list[Route]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from api.choices import Scope
    from api.models import ApiToken
    from api.services import digest_of

    # Made by hand: the service refuses anyone without a role. Every scope, so only the role refuses.
    token = "bgp_0123456789ab_outsider-token-with-every-scope"
    ApiToken.objects.create(
        user=outsider,
        name="outsider",
        prefix="0123456789ab",
        digest=digest_of(token),
        scopes=[str(scope) for scope in Scope],
        expires_at=timezone.now() + timedelta(days=1),
    )
    problems = [
        problem
        for route in _token_routes(routes)
        if (problem := token_problem(client, route, expected=403, token=token))
    ]
    assert not problems, f"{len(problems)} API URL(s) open to a person without a role:\n" + "\n".join(
        problems
    )


# --- the guard catches an unguarded page -------------------------------------------------------------


def _unguarded(request: HttpRequest, uuid: Any = None) -> HttpResponse:
    return HttpResponse("anyone can see this")


# The site's URLs plus one page somebody forgot to guard (used through ROOT_URLCONF = this module).
urlpatterns = [
    path("", include("portal.urls")),
    path("forgotten/<uuid:uuid>/", _unguarded, name="forgotten"),
]


def test_a_new_url_without_a_guard_fails_both_checks(client: Client, outsider: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    [route] = [route for route in walk() if route.key == "forgotten"]
    assert unreachable(route) is None

    assert anonymous_problem(client, route) == f"forgotten ({route.url}): anonymous GET 200; POST 200"
    client.force_login(outsider)
    assert outsider_problem(client, route) == f"forgotten ({route.url}): outsider GET 200; POST 200"
