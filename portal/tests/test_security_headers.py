"""Browser hardening (issue 8, item 9): every page's security headers, cookies, idle timeout.

The walker requests every URL pattern of the project (its own small walker: concrete paths from
the resolver with sample values for the parameters) as an anonymous visitor, as a signed-in person
without rights and as each role, and checks the headers of every response, whatever its status.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gunicorn
import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from pytest_django.live_server_helper import LiveServer

from portal.middleware import CONTENT_SECURITY_POLICY
from portal.policy import Role
from portal.tests.settings_support import PRODUCTION_ENV, run_python

ROOT = Path(__file__).resolve().parents[2]

# Values tried for a URL parameter until the pattern reverses: a UUID (opaque ids), a number,
# an app label / model name of the admin, a word.
SAMPLES = [str(uuid.UUID(int=1)), "1", "auth", "user", "x"]


def named_patterns(
    patterns: list[Any] | None = None, namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """(reversible name, pattern) of every named URL pattern, namespaces included."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def parameters(pattern: URLPattern) -> list[str]:
    route = pattern.pattern
    converters = getattr(route, "converters", None)
    if converters:
        return list(converters)
    return list(route.regex.groupindex)


def concrete_paths() -> list[str]:
    """One path per named pattern; parameters take the first sample values that reverse."""
    paths: set[str] = set()
    for name, pattern in named_patterns():
        names = parameters(pattern)
        for values in itertools.product(SAMPLES, repeat=len(names)):
            try:
                paths.add(reverse(name, kwargs=dict(zip(names, values, strict=True))))
                break
            except NoReverseMatch:
                continue
    return sorted(paths)


def script_sources(policy: str) -> str:
    directives = {}
    for part in policy.split(";"):
        name, _, sources = part.strip().partition(" ")
        directives[name] = sources
    return directives.get("script-src") or directives.get("default-src", "")


def header_problems(path: str, response: Any, *, signed_in: bool) -> list[str]:
    problems = []
    policy = response.get("Content-Security-Policy", "")
    if not policy:
        problems.append(f"{path}: no Content-Security-Policy")
    elif "'unsafe-inline'" in script_sources(policy) or "'unsafe-eval'" in script_sources(policy):
        problems.append(f"{path}: scripts may run inline: {policy}")
    if "object-src 'none'" not in policy or "base-uri 'none'" not in policy:
        problems.append(f"{path}: object-src / base-uri not 'none'")
    if signed_in and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"{path}: Cache-Control {response.get('Cache-Control')!r} for a signed-in person")
    if re.search(r"\d", response.get("Server", "")):
        problems.append(f"{path}: Server header names a version: {response['Server']!r}")
    return problems


def test_the_walker_reaches_the_pages_of_every_app() -> None:
    paths = concrete_paths()

    assert len(paths) > 100
    for expected in ("/", "/inventory/", "/audit/ledger/", "/accounts/login/", "/accounts/2fa/", "/admin/"):
        assert expected in paths


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [None, "outsider", Role.REQUESTER, Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR, Role.ADMINISTRATOR],
    ids=lambda persona: "anonymous" if persona is None else str(getattr(persona, "value", persona)),
)
def test_every_page_carries_the_security_headers(make_persona: Any, persona: Role | str | None) -> None:
    client = Client(raise_request_exception=False)
    if persona is not None:
        user = make_persona("walker", *([] if persona == "outsider" else [persona]))
        user.is_staff = persona is Role.ADMINISTRATOR
        user.save()
        client.force_login(user)

    problems: list[str] = []
    for path in concrete_paths():
        response = client.get(path)
        problems += header_problems(path, response, signed_in=persona is not None)

    assert problems == []


def test_no_template_holds_inline_script_or_event_handlers() -> None:
    """Inline code would be refused by the policy; it belongs in static/js."""
    site_packages = Path(pytest.__file__).resolve().parents[1]
    folders = [ROOT / "templates", site_packages / "allauth" / "templates"]
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = [
        str(template)
        for folder in folders
        for template in folder.rglob("*.html")
        if inline_script.search(text := template.read_text()) or handler.search(text)
    ]

    assert offenders == []


def test_every_inline_style_attribute_is_allowed_by_its_hash() -> None:
    site_packages = Path(pytest.__file__).resolve().parents[1]
    styles = {
        value
        for folder in (ROOT / "templates", site_packages / "allauth" / "templates")
        for template in folder.rglob("*.html")
        for value in re.findall(r'\sstyle="([^"{]*)"', template.read_text())
    }
    for value in styles:
        digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY, value


def test_the_development_server_does_not_name_its_version(live_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{live_server.url}/healthz") as response:
        server = response.headers.get_all("Server") or []

    assert server == ["portal"]


def test_gunicorn_names_no_version_in_its_server_header() -> None:
    # gunicorn writes "Server: <gunicorn.SERVER>" itself; the version is only in SERVER_SOFTWARE.
    assert not re.search(r"\d", gunicorn.SERVER)


@pytest.mark.django_db
def test_a_session_idle_past_the_timeout_is_signed_out(client: Client, requester: Any, settings: Any) -> None:
    settings.PORTAL_IDLE_TIMEOUT_MINUTES = 30
    client.force_login(requester)
    assert client.get("/inventory/").status_code == 200
    session = client.session
    session["portal_session_seen"] = time.time() - 31 * 60
    session.save()

    response = client.get("/inventory/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=%2Finventory%2F"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_active_session_stays_signed_in_until_the_absolute_limit(
    client: Client, requester: Any, settings: Any
) -> None:
    settings.PORTAL_IDLE_TIMEOUT_MINUTES = 30
    client.force_login(requester)
    client.get("/inventory/")
    session = client.session
    session["portal_session_seen"] = time.time() - 29 * 60
    session.save()
    assert client.get("/inventory/").status_code == 200

    session = client.session
    session["portal_session_started"] = time.time() - settings.SESSION_COOKIE_AGE - 1
    session.save()
    assert client.get("/inventory/").status_code == 302


def test_production_cookies_carry_the_host_prefix(tmp_path: Path) -> None:
    code = """
        import json, django
        django.setup()
        from django.conf import settings as s
        print(json.dumps([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,
                          s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH,
                          s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN]))
    """
    result = run_python(code, PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '["__Host-sessionid", "__Host-csrftoken", true, true, "/", "/", null, null]'
    )


def test_development_keeps_plain_cookie_names() -> None:
    # The tests run with DJANGO_DEBUG=true: browsers refuse __Host- cookies over plain http.
    assert settings.SESSION_COOKIE_NAME == "sessionid"
