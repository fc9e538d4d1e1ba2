"""Settings read from the environment: production refuses to start half-configured, SSO wires up.

Each case imports the settings in a fresh interpreter with a clean environment, because settings
are read once per process and the test run's own configuration must not leak in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal.tests.settings_support import IMPORT_SETTINGS, PRODUCTION_ENV, run_python


class TestProductionRefusesToStartHalfConfigured:
    def test_it_names_the_secret_key_when_debug_is_off_and_none_is_set(self, tmp_path: Path) -> None:
        result = run_python(IMPORT_SETTINGS, {"DJANGO_DEBUG": "false"}, tmp_path)

        assert result.returncode != 0
        assert "portal.env.ConfigurationError: DJANGO_SECRET_KEY must be set" in result.stderr

    def test_debug_defaults_to_off_so_an_empty_environment_also_needs_a_secret_key(
        self, tmp_path: Path
    ) -> None:
        result = run_python(IMPORT_SETTINGS, {}, tmp_path)

        assert result.returncode != 0
        assert "ConfigurationError: DJANGO_SECRET_KEY must be set" in result.stderr

    def test_it_names_the_encryption_keys_when_debug_is_off_and_none_are_set(self, tmp_path: Path) -> None:
        env = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60}
        result = run_python(IMPORT_SETTINGS, env, tmp_path)

        assert result.returncode != 0
        assert "ConfigurationError: PORTAL_ENCRYPTION_KEYS must be set" in result.stderr

    def test_a_misspelt_boolean_stops_start_up_naming_the_variable(self, tmp_path: Path) -> None:
        result = run_python(IMPORT_SETTINGS, {"DJANGO_DEBUG": "flase"}, tmp_path)

        assert result.returncode != 0
        assert "ConfigurationError: DJANGO_DEBUG must be one of" in result.stderr

    def test_it_starts_with_debug_off_when_secret_and_keys_are_set(self, tmp_path: Path) -> None:
        env = {**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "breakglass.example.com"}
        code = """
            from django.conf import settings
            print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE)
        """
        result = run_python(code, env, tmp_path)

        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["False", "['breakglass.example.com']", "True"]


SSO_ENV = {
    "DJANGO_DEBUG": "true",
    # An in-memory database: the test builds the one table allauth reads and nothing else.
    "DATABASE_URL": "sqlite://:memory:",
    "PORTAL_OIDC_SERVER_URL": "https://login.example.com/realms/corp",
    "PORTAL_OIDC_CLIENT_ID": "breakglass-portal",
    "PORTAL_OIDC_CLIENT_SECRET": "oidc-client-secret",
    "PORTAL_SAML_IDP_METADATA_URL": "https://idp.example.com/saml/metadata.xml",
    "PORTAL_SAML_IDP_ENTITY_ID": "https://idp.example.com/saml",
}

DESCRIBE_SSO = """
    import json

    import django

    django.setup()

    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.models import SocialApp
    from allauth.socialaccount.providers import registry
    from django.db import connection
    from django.test import RequestFactory
    from django.urls import reverse

    with connection.schema_editor() as editor:
        editor.create_model(SocialApp)

    adapter = get_adapter()
    request = RequestFactory().get("/accounts/login/")
    apps = adapter.list_apps(None)
    providers = {}
    for provider in adapter.list_providers(request):
        if provider.app is not None:
            providers[provider.app.provider_id] = {
                "id": provider.id,
                "name": provider.name,
                "login_url": provider.get_login_url(request),
            }
    described = {
        "apps": [
            {
                "provider": app.provider,
                "provider_id": app.provider_id,
                "client_id": app.client_id,
                "secret": app.secret,
                "name": app.name,
                "settings": app.settings,
            }
            for app in apps
        ],
        "registered": sorted(cls.id for cls in registry.get_class_list()),
        "providers": providers,
    }
    for app in apps:
        if app.provider == "openid_connect":
            kwargs = {"provider_id": app.provider_id}
            described["oidc_login_url"] = reverse("openid_connect_login", kwargs=kwargs)
            described["oidc_callback_url"] = reverse("openid_connect_callback", kwargs=kwargs)
            pkce = adapter.get_provider(request, app.provider_id).get_pkce_params()
            described["oidc_pkce"] = pkce.get("code_challenge_method")
            described["oidc_scope"] = adapter.get_provider(request, app.provider_id).get_scope()
    from django.conf import settings

    described["sso"] = {
        name: getattr(settings, name)
        for name in (
            "SOCIALACCOUNT_EMAIL_AUTHENTICATION",
            "PORTAL_SSO_TRUST_IDP_MFA",
            "PORTAL_SSO_MFA_AMR",
            "PORTAL_SSO_MFA_ACR",
            "PORTAL_SAML_GROUPS_ATTRIBUTE",
        )
    }
    print(json.dumps(described))
"""


def describe_sso(env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    result = run_python(DESCRIBE_SSO, env, tmp_path)
    assert result.returncode == 0, result.stderr
    described: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return described


class TestSingleSignOn:
    def test_oidc_and_saml_apps_are_configured_from_the_environment(self, tmp_path: Path) -> None:
        described = describe_sso(SSO_ENV, tmp_path)

        apps = {app["provider"]: app for app in described["apps"]}
        assert set(apps) == {"openid_connect", "saml"}
        oidc = apps["openid_connect"]
        assert oidc["provider_id"] == "sso"
        assert oidc["client_id"] == "breakglass-portal"
        assert oidc["secret"] == "oidc-client-secret"
        assert oidc["settings"] == {"server_url": "https://login.example.com/realms/corp"}
        saml = apps["saml"]
        assert saml["provider_id"] == "https://idp.example.com/saml"
        assert saml["client_id"] == "portal"
        assert saml["settings"]["idp"] == {
            "entity_id": "https://idp.example.com/saml",
            "metadata_url": "https://idp.example.com/saml/metadata.xml",
        }
        assert {"openid_connect", "saml"} <= set(described["registered"])

    def test_the_oidc_login_url_reverses_under_accounts(self, tmp_path: Path) -> None:
        described = describe_sso(SSO_ENV, tmp_path)

        assert described["oidc_login_url"] == "/accounts/oidc/sso/login/"
        assert described["oidc_callback_url"] == "/accounts/oidc/sso/login/callback/"
        assert described["providers"]["sso"] == {
            "id": "openid_connect",
            "name": "Single sign-on",
            "login_url": "/accounts/oidc/sso/login/",
        }

    def test_by_default_addresses_connect_nobody_and_only_the_portals_mfa_counts(
        self, tmp_path: Path
    ) -> None:
        described = describe_sso(SSO_ENV, tmp_path)

        assert described["sso"] == {
            "SOCIALACCOUNT_EMAIL_AUTHENTICATION": False,
            "PORTAL_SSO_TRUST_IDP_MFA": False,
            "PORTAL_SSO_MFA_AMR": ["mfa", "hwk", "swk", "otp", "sc"],
            "PORTAL_SSO_MFA_ACR": [],
            "PORTAL_SAML_GROUPS_ATTRIBUTE": "groups",
        }
        assert described["oidc_scope"] == ["openid", "profile", "email"]
        saml = next(app for app in described["apps"] if app["provider"] == "saml")
        assert saml["settings"]["advanced"] == {"strict": True, "want_assertion_signed": True}

    def test_the_single_sign_on_choices_come_from_the_environment(self, tmp_path: Path) -> None:
        env = {
            **SSO_ENV,
            "PORTAL_SSO_CONNECT_BY_EMAIL": "true",
            "PORTAL_SSO_TRUST_IDP_MFA": "true",
            "PORTAL_SSO_MFA_AMR": "mfa",
            "PORTAL_SSO_MFA_ACR": "urn:okta:loa:2fa:any",
            "PORTAL_SSO_GROUPS_CLAIM": "roles",
            "PORTAL_OIDC_SCOPES": "openid,profile,email,groups",
        }
        described = describe_sso(env, tmp_path)

        assert described["sso"] == {
            "SOCIALACCOUNT_EMAIL_AUTHENTICATION": True,
            "PORTAL_SSO_TRUST_IDP_MFA": True,
            "PORTAL_SSO_MFA_AMR": ["mfa"],
            "PORTAL_SSO_MFA_ACR": ["urn:okta:loa:2fa:any"],
            "PORTAL_SAML_GROUPS_ATTRIBUTE": "roles",
        }
        assert described["oidc_scope"] == ["openid", "profile", "email", "groups"]

    def test_pkce_is_on_for_oidc(self, tmp_path: Path) -> None:
        assert describe_sso(SSO_ENV, tmp_path)["oidc_pkce"] == "S256"

    def test_the_saml_login_url_uses_the_organization_slug(self, tmp_path: Path) -> None:
        described = describe_sso(SSO_ENV, tmp_path)

        saml = described["providers"]["https://idp.example.com/saml"]
        assert saml["id"] == "saml"
        assert saml["login_url"] == "/accounts/saml/portal/login/"

    def test_the_provider_id_and_names_can_be_changed(self, tmp_path: Path) -> None:
        env = {
            **SSO_ENV,
            "PORTAL_OIDC_PROVIDER_ID": "okta",
            "PORTAL_OIDC_NAME": "Okta",
            "PORTAL_SAML_ORGANIZATION": "acme",
        }
        described = describe_sso(env, tmp_path)

        assert described["providers"]["okta"]["login_url"] == "/accounts/oidc/okta/login/"
        assert described["providers"]["okta"]["name"] == "Okta"
        assert described["providers"]["https://idp.example.com/saml"]["login_url"] == (
            "/accounts/saml/acme/login/"
        )

    def test_without_sso_variables_no_app_is_configured(self, tmp_path: Path) -> None:
        env = {"DJANGO_DEBUG": "true", "DATABASE_URL": "sqlite://:memory:"}
        described = describe_sso(env, tmp_path)

        assert described["apps"] == []
        assert described["providers"] == {}

    @pytest.mark.parametrize("missing", ["PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET"])
    def test_a_half_configured_oidc_provider_stops_start_up_naming_what_is_missing(
        self, tmp_path: Path, missing: str
    ) -> None:
        env = {name: value for name, value in SSO_ENV.items() if name != missing}
        result = run_python(IMPORT_SETTINGS, env, tmp_path)

        assert result.returncode != 0
        assert f"ConfigurationError: {missing} must be set" in result.stderr

    def test_a_saml_provider_without_an_entity_id_stops_start_up(self, tmp_path: Path) -> None:
        env = {name: value for name, value in SSO_ENV.items() if name != "PORTAL_SAML_IDP_ENTITY_ID"}
        result = run_python(IMPORT_SETTINGS, env, tmp_path)

        assert result.returncode != 0
        assert "ConfigurationError: PORTAL_SAML_IDP_ENTITY_ID must be set" in result.stderr


def test_the_development_sqlite_database_runs_in_wal_mode(tmp_path: Path) -> None:
    """``make run``'s web process reads while its worker writes (issue 13, item 4)."""
    result = run_python(
        """
        import django
        django.setup()
        from django.db import connection
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            print(cursor.fetchone()[0])
        """,
        {"DJANGO_DEBUG": "true"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_a_ticket_url_template_without_the_placeholder_stops_start_up(tmp_path: Path) -> None:
    result = run_python(
        IMPORT_SETTINGS,
        {
            "DJANGO_DEBUG": "true",
            "PORTAL_TICKET_CHECK_URL_TEMPLATE": "https://jira.example/rest/api/2/issue/",
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "PORTAL_TICKET_CHECK_URL_TEMPLATE must be an http(s) URL holding {ticket}" in result.stderr
