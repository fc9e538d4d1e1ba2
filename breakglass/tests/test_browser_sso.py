"""Single sign-on through real identity providers, in headless Chromium.

The OpenID provider is the certified ``oidc-provider`` package and the SAML one Auth0's ``samlp``,
both run by Node.js from breakglass/tests/idp/ (see ``idp_support``). A person signs in through
them, gets an account and the role their group maps to, enrols the portal's own second factor, and
loses the role (and their other sessions) when the provider takes them out of the group.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from breakglass.identity import ROLES_CHANGED, USER_CREATED
from breakglass.sso import MFA_BY_IDENTITY_PROVIDER, SESSIONS_ENDED
from breakglass.tests.idp_support import IdentityProvider, free_port, run_provider
from ledger.models import LedgerEntry
from portal import policy
from portal.policy import Role
from portal.testing import enrol_totp, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "portal"
CLIENT_SECRET = "test-client-secret-not-a-real-one"
ENTRA_GROUPS = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
MAPPING = {"aws-approvers": ("Approver",), "aws-admins": ("Administrator",)}
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["aws-approvers", "unrelated"]}


@pytest.fixture
def oidc_provider(live_server: LiveServer, tmp_path: Path, settings: Any) -> Iterator[IdentityProvider]:
    callback = f"{live_server.url}/accounts/oidc/sso/login/callback/"
    people = tmp_path / "people.json"
    args = ["--port", str(free_port()), "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    args += ["--redirect-uri", callback, "--people", str(people)]
    with run_provider("oidc.mjs", args, people, tmp_path / "oidc.log") as idp:
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "SCOPE": ["openid", "profile", "email", "groups"],
                "APPS": [
                    {
                        "provider_id": "sso",
                        "name": "Single sign-on",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {"server_url": idp.url},
                    }
                ],
            }
        }
        settings.PORTAL_SSO_GROUP_ROLES = MAPPING
        yield idp


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test SAML identity provider")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "idp.crt", folder / "idp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _saml_app(idp_config: dict[str, Any], attribute_mapping: Any) -> dict[str, Any]:
    return {
        "saml": {
            "APPS": [
                {
                    "name": "SAML single sign-on",
                    "provider_id": idp_config["entity_id"],
                    "client_id": "portal",
                    "settings": {
                        "attribute_mapping": attribute_mapping,
                        "idp": idp_config,
                        "advanced": {"strict": True, "want_assertion_signed": True},
                    },
                }
            ]
        }
    }


@pytest.fixture
def saml_provider(live_server: LiveServer, tmp_path: Path, settings: Any) -> Iterator[IdentityProvider]:
    cert, key = _self_signed(tmp_path)
    people = tmp_path / "people.json"
    args = ["--port", str(free_port()), "--acs", f"{live_server.url}/accounts/saml/portal/acs/"]
    args += ["--cert", str(cert), "--key", str(key), "--people", str(people)]
    args += ["--groups-attribute", ENTRA_GROUPS]
    with run_provider("saml.mjs", args, people, tmp_path / "saml.log") as idp:
        cache.clear()  # allauth caches IdP metadata by its address
        settings.SOCIALACCOUNT_PROVIDERS = {
            "saml": {
                "APPS": [
                    {
                        "name": "SAML single sign-on",
                        "provider_id": f"{idp.url}/metadata",
                        "client_id": "portal",
                        "settings": {
                            "attribute_mapping": settings.SAML_ATTRIBUTE_MAPPING,
                            "idp": {
                                "entity_id": f"{idp.url}/metadata",
                                "metadata_url": f"{idp.url}/metadata",
                            },
                            "advanced": {"strict": True, "want_assertion_signed": True},
                        },
                    }
                ]
            }
        }
        settings.PORTAL_SSO_GROUP_ROLES = MAPPING
        settings.PORTAL_SAML_GROUPS_ATTRIBUTE = ENTRA_GROUPS
        yield idp


@dataclass
class Browsing:
    """One person's browser, remembering the last TOTP window used (allauth refuses a code twice)."""

    page: Page
    base_url: str
    last_counter: int = -1

    def fresh_code(self, secret: str) -> str:
        while True:
            now = time.time()
            counter = int(now // 30)
            if counter > self.last_counter and (counter + 1) * 30 - now > 4:
                self.last_counter = counter
                return totp_code(secret, at=now)
            time.sleep((counter + 1) * 30 - now + 0.2)

    def sign_in_through(self, button: str, login: str) -> None:
        """From the portal's sign-in page, through the identity provider, back to the portal."""
        page = self.page
        page.goto(f"{self.base_url}/accounts/login/")
        page.get_by_text(button, exact=True).click()
        for _ in range(8):
            page.wait_for_load_state()
            on_the_way = "/accounts/oidc/" in page.url or "/accounts/saml/" in page.url
            if page.url.startswith(self.base_url) and not on_the_way:
                return
            if page.locator("input[name=login]").count():
                page.fill("input[name=login]", login)
                if page.locator("input[name=password]").count():
                    page.fill("input[name=password]", "any password: the test provider checks none")
            page.locator("button[type=submit]").first.click()
        raise AssertionError(f"never came back to the portal: {page.url}")

    def enrol_totp(self) -> str:
        """Activate an authenticator app the way a person does; returns its secret."""
        page = self.page
        page.goto(f"{self.base_url}/accounts/2fa/totp/activate/")

        secret = page.locator("#authenticator_secret").input_value()
        page.fill("input[name=code]", self.fresh_code(secret))
        page.get_by_role("button", name="Activate").click()
        page.wait_for_load_state()
        return secret


def _person(username: str) -> Any:
    user = get_user_model().objects.get(username=username)
    policy.forget_roles(user)
    return user


def _actions(user: Any) -> list[str]:
    return list(
        LedgerEntry.objects.filter(target_id=str(user.pk)).order_by("pk").values_list("action", flat=True)
    )


def test_an_oidc_sign_in_creates_the_person_with_their_group_role_and_loses_it_with_the_group(
    oidc_provider: IdentityProvider, live_server: LiveServer, browser: Browser
) -> None:
    oidc_provider.set_people({"ada": ADA})
    first = Browsing(browser.new_context().new_page(), live_server.url)

    first.sign_in_through("Single sign-on", "ada")

    # An approver must enrol the portal's own factor before anything else.
    expect(first.page).to_have_url(f"{live_server.url}/accounts/2fa/?required=1")
    ada = _person("ada")
    assert (ada.email, ada.first_name, ada.last_name) == ("ada@example.com", "Ada", "Lovelace")
    assert not ada.has_usable_password()
    assert policy.roles(ada) == {Role.APPROVER}
    assert USER_CREATED in _actions(ada)
    assert ROLES_CHANGED in _actions(ada)
    secret = first.enrol_totp()
    assert Authenticator.objects.filter(user=ada, type=Authenticator.Type.TOTP).exists()
    first.page.goto(live_server.url)
    expect(first.page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "/accounts/2fa/" not in first.page.url

    # The provider takes Ada out of the group; she signs in again from another browser.
    oidc_provider.set_people({"ada": {**ADA, "groups": ["unrelated"]}})
    second = Browsing(browser.new_context().new_page(), live_server.url, last_counter=first.last_counter)
    second.sign_in_through("Single sign-on", "ada")
    expect(second.page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    second.page.fill("input[name=code]", second.fresh_code(secret))
    second.page.get_by_role("button", name="Sign In").click()

    # No role now: the "no role" page, not an error; and the approver's old session is over.
    second.page.goto(live_server.url)
    expect(second.page.get_by_text("no role", exact=False).first).to_be_visible()
    assert policy.roles(_person("ada")) == frozenset()
    removal = LedgerEntry.objects.filter(action=ROLES_CHANGED, target_id=str(ada.pk)).order_by("pk").last()
    assert removal is not None
    assert removal.data["changes"]["groups"]["to"] == []
    assert SESSIONS_ENDED in _actions(ada)
    first.page.goto(live_server.url)
    expect(first.page).to_have_url(f"{live_server.url}/accounts/login/")
    assert get_user_model().objects.filter(email="ada@example.com").count() == 1


def test_trusting_the_providers_mfa_skips_the_code_at_sign_in_but_never_at_step_up(
    oidc_provider: IdentityProvider, live_server: LiveServer, browser: Browser, settings: Any
) -> None:
    settings.PORTAL_SSO_TRUST_IDP_MFA = True
    oidc_provider.set_people(
        {"grace": {"email": "grace@example.com", "name": "Grace Hopper", "groups": ["aws-admins"]}}
    )
    person = Browsing(browser.new_context().new_page(), live_server.url)
    person.sign_in_through("Single sign-on", "grace")
    grace = _person("grace")
    secret = enrol_totp(grace)
    person.page.context.clear_cookies()

    # The provider says it checked a second factor ("amr": ["pwd", "mfa"]): no code at sign-in.
    oidc_provider.set_people(
        {
            "grace": {
                "email": "grace@example.com",
                "name": "Grace Hopper",
                "groups": ["aws-admins"],
                "amr": ["pwd", "mfa"],
            }
        }
    )
    person.sign_in_through("Single sign-on", "grace")
    person.page.goto(live_server.url)
    assert "/accounts/2fa/authenticate/" not in person.page.url
    expect(person.page.get_by_role("button", name="Sign out")).to_be_visible()
    assert MFA_BY_IDENTITY_PROVIDER in _actions(grace)

    # A dangerous action still asks the portal's own factor, right after that sign-in.
    person.page.goto(f"{live_server.url}{reverse('breakglass:account_create')}")
    expect(person.page).to_have_url(
        f"{live_server.url}/accounts/2fa/reauthenticate/?next=%2Finventory%2Faccounts%2Fnew%2F"
    )
    person.page.fill("input[name=code]", person.fresh_code(secret))
    person.page.get_by_role("button", name="Confirm").click()
    expect(person.page).to_have_url(f"{live_server.url}{reverse('breakglass:account_create')}")


def test_a_saml_sign_in_creates_the_person_with_their_group_role_and_loses_it_with_the_group(
    saml_provider: IdentityProvider, live_server: LiveServer, browser: Browser
) -> None:
    saml_provider.set_people({"ada": ADA})
    person = Browsing(browser.new_context().new_page(), live_server.url)

    person.sign_in_through("SAML single sign-on", "ada")

    expect(person.page).to_have_url(f"{live_server.url}/accounts/2fa/?required=1")
    ada = get_user_model().objects.get(email="ada@example.com")
    policy.forget_roles(ada)
    assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace")
    assert ada.socialaccount_set.get().uid == "ada"  # the assertion's persistent NameID
    assert policy.roles(ada) == {Role.APPROVER}
    assert USER_CREATED in _actions(ada)
    secret = person.enrol_totp()
    assert Authenticator.objects.filter(user=ada, type=Authenticator.Type.TOTP).exists()

    saml_provider.set_people({"ada": {**ADA, "groups": []}})
    person.page.context.clear_cookies()
    person.sign_in_through("SAML single sign-on", "ada")
    expect(person.page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    person.page.fill("input[name=code]", person.fresh_code(secret))
    person.page.get_by_role("button", name="Sign In").click()
    person.page.goto(live_server.url)
    expect(person.page.get_by_text("no role", exact=False).first).to_be_visible()
    policy.forget_roles(ada)
    assert policy.roles(ada) == frozenset()


def test_a_saml_assertion_signed_by_another_key_signs_nobody_in(
    saml_provider: IdentityProvider, live_server: LiveServer, page: Page, settings: Any, tmp_path: Path
) -> None:
    # The portal expects the certificate of a different key than the one the provider signs with,
    # as after a forged or replaced provider.
    (tmp_path / "other").mkdir()
    other_cert, _ = _self_signed(tmp_path / "other")
    pem = other_cert.read_text()
    settings.SOCIALACCOUNT_PROVIDERS = _saml_app(
        {
            "entity_id": f"{saml_provider.url}/metadata",
            "x509cert": pem,
            "sso_url": f"{saml_provider.url}/sso",
        },
        settings.SAML_ATTRIBUTE_MAPPING,
    )
    saml_provider.set_people({"ada": ADA})

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_text("SAML single sign-on", exact=True).click()
    page.wait_for_load_state()
    if page.url.startswith(live_server.url):  # allauth's "continue?" page
        page.locator("main button[type=submit]").first.click()
    page.fill("input[name=login]", "ada")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("Third-Party Login Failure")).to_be_visible()
    assert not get_user_model().objects.filter(email="ada@example.com").exists()
    page.goto(live_server.url)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
