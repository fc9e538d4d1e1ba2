"""Django settings, read only from environment variables (see README, "Configuration").

Without any configuration the portal runs on its embedded default: SQLite and a Celery transport on
the file system, so ``make run`` needs nothing but Python. Production sets ``DATABASE_URL`` and
``CELERY_BROKER_URL`` (PostgreSQL and Redis) and ``DJANGO_DEBUG=false``, which makes the secret key,
allowed hosts and encryption keys mandatory.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dj_database_url
import django_stubs_ext

from portal.env import ConfigurationError, Env
from portal.policy import Role

# Lets the classes that django-stubs makes generic (ModelAdmin[...], ModelForm[...]) be subscripted
# at run time too, so modules type them once instead of each keeping a TYPE_CHECKING alias.
django_stubs_ext.monkeypatch()

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", False)

_secret = env.optional_str("DJANGO_SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ConfigurationError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    # Development only: a fixed, obviously insecure key so sessions survive restarts.
    _secret = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = _secret

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "portal",
    "ledger",
    "audits",
    "breakglass",
    "api",
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequireMfaMiddleware",
    "portal.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "breakglass.context_processors.nav_counts",
            ],
        },
    },
]

_database_url = env.optional_str("DATABASE_URL")
if _database_url is None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as error:
    raise ConfigurationError(f"DATABASE_URL cannot be parsed: {error}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite locks the whole file; waiting beats failing when web and worker write together.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process read while the worker writes (the demo's ingestion), and NORMAL sync
    # is safe under WAL (a power cut can lose the last commits of a development database, not corrupt it).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("PORTAL_SESSION_SECONDS", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    if env.bool("DJANGO_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Root-credential encryption ---------------------------------------------------------------
# Comma-separated list of "key-id:base64-32-byte-key", newest first. The first encrypts; all decrypt.
PORTAL_ENCRYPTION_KEYS = env.optional_str("PORTAL_ENCRYPTION_KEYS")
if PORTAL_ENCRYPTION_KEYS is None and not DEBUG:
    raise ConfigurationError("PORTAL_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is false")

# --- Audit ledger: keyed chain and outside anchor (see ledger/ and docs/operations.md) --------------
# HMAC-SHA256 keys of the chain, "key-id:base64-key" (32 to 64 bytes), newest first: the first chains
# new entries, each entry verifies with the key whose id it records. The database never holds them.
PORTAL_LEDGER_KEYS = env.key_ring("PORTAL_LEDGER_KEYS", sizes=range(32, 65))
# Ed25519 private keys (base64 of the 32-byte seed) that sign the checkpoints, newest first: the
# first signs, all verify. `manage.py ledger_public_key` prints the public keys to keep elsewhere.
PORTAL_LEDGER_SIGNING_KEY = env.key_ring("PORTAL_LEDGER_SIGNING_KEY", sizes=range(32, 33))
# Where signed checkpoints go: a folder, or s3://bucket/prefix (a bucket with Object Lock).
PORTAL_LEDGER_ANCHOR = env.optional_str("PORTAL_LEDGER_ANCHOR")
for _ledger_variable in ("PORTAL_LEDGER_KEYS", "PORTAL_LEDGER_SIGNING_KEY", "PORTAL_LEDGER_ANCHOR"):
    if globals()[_ledger_variable] is None and not DEBUG:
        raise ConfigurationError(f"{_ledger_variable} must be set when DJANGO_DEBUG is false")
if PORTAL_LEDGER_ANCHOR is None:
    PORTAL_LEDGER_ANCHOR = str(VAR_DIR / "ledger-anchor")
# Ed25519 keys (base64 of the 32-byte seed) that sign the evidence bundles' manifests (audits.evidence),
# same form: the first signs, all verify. `manage.py evidence_public_key` prints the public keys.
PORTAL_EVIDENCE_SIGNING_KEY = env.key_ring("PORTAL_EVIDENCE_SIGNING_KEY", sizes=range(32, 33))
if PORTAL_EVIDENCE_SIGNING_KEY is None and not DEBUG:
    raise ConfigurationError("PORTAL_EVIDENCE_SIGNING_KEY must be set when DJANGO_DEBUG is false")
# S3 anchors: the Object Lock retention each checkpoint is written with ("" = the bucket's default).
PORTAL_LEDGER_ANCHOR_OBJECT_LOCK = env.choice(
    "PORTAL_LEDGER_ANCHOR_OBJECT_LOCK", "", ("", "GOVERNANCE", "COMPLIANCE")
)
PORTAL_LEDGER_ANCHOR_RETAIN_DAYS = env.int("PORTAL_LEDGER_ANCHOR_RETAIN_DAYS", 2557, minimum=1)
# Entries older than this must be covered by a checkpoint, or verification fails (beat writes one
# every 10 minutes; the margin covers a worker restart).
PORTAL_LEDGER_CHECKPOINT_GRACE_SECONDS = env.int("PORTAL_LEDGER_CHECKPOINT_GRACE_SECONDS", 3600, minimum=600)

# --- Identity (django-allauth) ---------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_ADAPTER = "breakglass.adapters.PortalAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("PORTAL_STEP_UP_SECONDS", 300, minimum=30)
ACCOUNT_SESSION_REMEMBER = False
# Seals TOTP secrets and recovery-code seeds with PORTAL_ENCRYPTION_KEYS (allauth keeps them in clear).
MFA_ADAPTER = "breakglass.adapters.PortalMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
# allauth refuses a second factor to anyone with an unverified address, against a stranger who signs
# up with someone else's address and locks them out with a factor. Nobody signs up here (accounts
# come from administrators or single sign-on), and SAML providers rarely say an address is verified:
# with the check, such a person could never enrol and never use the portal.
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_TOTP_ISSUER = env.str("PORTAL_MFA_ISSUER", "Root break-glass portal")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
# Single sign-on creates the person's account at the first sign-in (local sign-up stays closed).
SOCIALACCOUNT_ADAPTER = "breakglass.adapters.PortalSocialAccountAdapter"
# Someone signing in through the identity provider for the first time, with an address the provider
# says it verified, is connected to the portal account that has that address (instead of getting a
# second account). Off by default: it trusts the provider to vouch for addresses. allauth then
# removes the local password of that account unless the portal itself verified the address.
PORTAL_SSO_CONNECT_BY_EMAIL = env.bool("PORTAL_SSO_CONNECT_BY_EMAIL", False)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = PORTAL_SSO_CONNECT_BY_EMAIL
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# Identity-provider groups -> portal roles, applied at every single sign-on (breakglass.identity):
# JSON {"group": "Role" | ["Role", ...]} or "group=Role;group=Role". Unset: roles are set by hand.
PORTAL_SSO_GROUP_ROLES = env.group_map("PORTAL_SSO_GROUP_ROLES", tuple(role.value for role in Role))
# The OIDC claim (in the userinfo or ID token) that lists the person's groups, and the SAML
# attribute that does (Entra ID's is http://schemas.microsoft.com/ws/2008/06/identity/claims/groups).
PORTAL_SSO_GROUPS_CLAIM = env.str("PORTAL_SSO_GROUPS_CLAIM", "groups")
PORTAL_SAML_GROUPS_ATTRIBUTE = env.str("PORTAL_SAML_GROUPS_ATTRIBUTE", PORTAL_SSO_GROUPS_CLAIM)
# Off (the default): everyone proves the portal's own second factor at sign-in. On: a single sign-on
# whose ID token says the provider checked a second factor (an "amr" value in PORTAL_SSO_MFA_AMR, or
# the "acr" in PORTAL_SSO_MFA_ACR) skips it. Either way people enrol the portal's factor, and
# step-up for dangerous actions always asks it (portal.identity.recently_stepped_up).
PORTAL_SSO_TRUST_IDP_MFA = env.bool("PORTAL_SSO_TRUST_IDP_MFA", False)
PORTAL_SSO_MFA_AMR = env.list("PORTAL_SSO_MFA_AMR", ["mfa", "hwk", "swk", "otp", "sc"])
PORTAL_SSO_MFA_ACR = env.list("PORTAL_SSO_MFA_ACR")

SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
_oidc_server = env.optional_str("PORTAL_OIDC_SERVER_URL")
if _oidc_server is not None:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        # Okta and Google send groups only when asked for (Okta: a "groups" scope).
        "SCOPE": env.list("PORTAL_OIDC_SCOPES", ["openid", "profile", "email"]),
        "APPS": [
            {
                "provider_id": env.str("PORTAL_OIDC_PROVIDER_ID", "sso"),
                "name": env.str("PORTAL_OIDC_NAME", "Single sign-on"),
                "client_id": env.str("PORTAL_OIDC_CLIENT_ID"),
                "secret": env.str("PORTAL_OIDC_CLIENT_SECRET"),
                "settings": {"server_url": _oidc_server},
            }
        ],
    }
#: The SAML attributes read for a person's profile (the first one present of each list); the
#: person is identified by the assertion's NameID (or a subject-id attribute).
SAML_ATTRIBUTE_MAPPING = {
    "email": [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "email",
    ],
    "email_verified": ["email_verified", "http://schemas.auth0.com/email_verified"],
    "first_name": [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "urn:oid:2.5.4.42",
        "firstName",
    ],
    "last_name": [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "urn:oid:2.5.4.4",
        "lastName",
    ],
}
_saml_metadata = env.optional_str("PORTAL_SAML_IDP_METADATA_URL")
if _saml_metadata is not None:
    SOCIALACCOUNT_PROVIDERS["saml"] = {
        "APPS": [
            {
                "name": env.str("PORTAL_SAML_NAME", "SAML single sign-on"),
                "provider_id": env.str("PORTAL_SAML_IDP_ENTITY_ID"),
                # The organisation's slug in the portal's SAML addresses: /accounts/saml/<it>/acs/.
                "client_id": env.str("PORTAL_SAML_ORGANIZATION", "portal"),
                "settings": {
                    "attribute_mapping": SAML_ATTRIBUTE_MAPPING,
                    "idp": {
                        "entity_id": env.str("PORTAL_SAML_IDP_ENTITY_ID"),
                        "metadata_url": _saml_metadata,
                    },
                    # An unsigned assertion is refused, and so are SHA-1 signatures.
                    "advanced": {"strict": True, "want_assertion_signed": True},
                },
            }
        ],
    }

# --- Email -------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", "breakglass@localhost")

# --- Webhook targets (issue 8, item 9; breakglass.notifications.targets) --------------------------
# Slack-compatible and signed JSON webhooks go over https to public addresses only: the address a
# target's name resolves to is checked each time a message leaves, and never loopback, private,
# link-local, shared (CGNAT), multicast, reserved or a cloud's metadata service. For development and
# tests only (refused when DJANGO_DEBUG is false): plain http (on by default with DEBUG), and networks
# a webhook may reach anyway, comma-separated CIDRs such as "127.0.0.1/32" for a local receiver.
PORTAL_WEBHOOK_ALLOW_HTTP = env.bool("PORTAL_WEBHOOK_ALLOW_HTTP", DEBUG)
PORTAL_WEBHOOK_ALLOWED_NETWORKS = env.list("PORTAL_WEBHOOK_ALLOWED_NETWORKS")
for _network in PORTAL_WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError:
        raise ConfigurationError(
            f"PORTAL_WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network such as 127.0.0.1/32"
        ) from None
if not DEBUG and PORTAL_WEBHOOK_ALLOW_HTTP:
    raise ConfigurationError(
        "PORTAL_WEBHOOK_ALLOW_HTTP is for development only: webhooks use https in production"
    )
if not DEBUG and PORTAL_WEBHOOK_ALLOWED_NETWORKS:
    raise ConfigurationError(
        "PORTAL_WEBHOOK_ALLOWED_NETWORKS is for development only: "
        "in production webhooks reach public addresses only"
    )

# --- Cache: shared by all processes in production, so a used TOTP code and the login rate limits
# hold across gunicorn workers (allauth keeps both in the cache). ----------------------------------
PORTAL_CACHE_URL = env.optional_str("PORTAL_CACHE_URL")
if PORTAL_CACHE_URL is not None:
    if not PORTAL_CACHE_URL.startswith(("redis://", "rediss://")):
        raise ConfigurationError("PORTAL_CACHE_URL must be a redis:// or rediss:// URL")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": PORTAL_CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ------------------------------------------------------------------------------------
_broker = env.optional_str("CELERY_BROKER_URL")
if _broker is None:
    # Embedded default: a transport on the file system, so a real worker runs without a server.
    _queue_dir = VAR_DIR / "celery"
    for sub in ("queue", "processed", "control"):
        (_queue_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Broadcast (remote control) messages; kombu's default is ./control in the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_URL = _broker
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Logging: request id on every line; never the request body --------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.middleware.RequestIdLogFilter"},
        "one_line_refusals": {"()": "portal.middleware.OneLineRefusalLogFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("PORTAL_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step of a PDF report at INFO.
    # A 403 is one line, not a traceback (twice, with DEBUG's console handler).
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_refusals"]},
    },
}

# --- Portal ------------------------------------------------------------------------------------
# Where people reach the portal; used for links in notifications.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Printed on every PDF report.
PORTAL_ORGANIZATION_NAME = env.str("PORTAL_ORGANIZATION_NAME", "the organization")
# Pending requests expire after this long without a decision.
PORTAL_PENDING_EXPIRY_HOURS = env.int("PORTAL_PENDING_EXPIRY_HOURS", 24, minimum=1)
# A revealed root password is hidden again in the browser after this many seconds.
PORTAL_REVEAL_SECONDS = env.int("PORTAL_REVEAL_SECONDS", 60, minimum=10)
# A form that carries a secret (a new root password), opened right after a step-up, may be sent this
# long after (portal.identity.step_up_keeping): typing it outlasts the step-up window.
PORTAL_SECRET_FORM_MINUTES = env.int("PORTAL_SECRET_FORM_MINUTES", 15, minimum=1)
# Overdue check-outs are announced again at this interval until they are returned.
PORTAL_OVERDUE_REMINDER_MINUTES = env.int("PORTAL_OVERDUE_REMINDER_MINUTES", 30, minimum=5)
# Reconciliation of root events with check-outs: a check-out's window opens this long before the
# check-out (clocks differ, people start a minute early) and closes this long after the check-in
# (CloudTrail delivers late: about 5 minutes on average, not guaranteed).
PORTAL_RECONCILE_GRACE_BEFORE_MINUTES = env.int("PORTAL_RECONCILE_GRACE_BEFORE_MINUTES", 5, minimum=0)
PORTAL_RECONCILE_GRACE_AFTER_MINUTES = env.int("PORTAL_RECONCILE_GRACE_AFTER_MINUTES", 30, minimum=0)
# A returned root password not confirmed rotated this long after check-in is a finding.
PORTAL_ROTATION_OVERDUE_HOURS = env.int("PORTAL_ROTATION_OVERDUE_HOURS", 24, minimum=1)
# An emergency (self-authorised) session without its approvals this long after check-out is a finding
# (0: at once; everyone is already notified when the glass is broken).
PORTAL_EMERGENCY_REVIEW_HOURS = env.int("PORTAL_EMERGENCY_REVIEW_HOURS", 24, minimum=0)
# A self-authorised emergency session needs a second person (an approver or custodian of the account)
# to acknowledge it within this many minutes of the glass being broken, or it is a critical finding.
PORTAL_EMERGENCY_ACK_MINUTES = env.int("PORTAL_EMERGENCY_ACK_MINUTES", 15, minimum=1)
# An MFA device given back at check-in and not confirmed in the safe by a custodian this long after,
# or still with its holder this long after its session was due, is a finding (issue 11, item 5).
PORTAL_DEVICE_RETURN_HOURS = env.int("PORTAL_DEVICE_RETURN_HOURS", 24, minimum=1)
PORTAL_MAX_MFA_DEVICES_PER_ACCOUNT = 8  # AWS's limit for the root user
# The AWS organization itself (audits/aws_access.py): the role assumed in the management account or
# the delegated administrator (unset: the portal's own credentials are that account's), the read-only
# role every member account holds, the external id their trust policies demand, and the region.
PORTAL_AWS_MANAGEMENT_ROLE_ARN = env.optional_str("PORTAL_AWS_MANAGEMENT_ROLE_ARN")
PORTAL_AWS_MEMBER_ROLE_NAME = env.str("PORTAL_AWS_MEMBER_ROLE_NAME", "BreakGlassPortalPostureRead")
PORTAL_AWS_EXTERNAL_ID = env.optional_str("PORTAL_AWS_EXTERNAL_ID")
PORTAL_AWS_REGION = env.str("PORTAL_AWS_REGION", "us-east-1")
# The organization-wide AssumeRoot audit (audits/posture/root_audit.py) waits this long between two
# accounts, so its AssumeRoot and IAM calls stay far below STS's and IAM's request quotas.
PORTAL_ROOT_AUDIT_INTERVAL_MS = env.int("PORTAL_ROOT_AUDIT_INTERVAL_MS", 1000, minimum=0)
# The ticket a request names (breakglass/tickets.py): a link to read it, and an optional check that
# the ticket system knows it and has not closed it. URL templates hold {ticket}.
PORTAL_TICKET_URL_TEMPLATE = env.optional_str("PORTAL_TICKET_URL_TEMPLATE")
PORTAL_TICKET_CHECK_URL_TEMPLATE = env.optional_str("PORTAL_TICKET_CHECK_URL_TEMPLATE")
for _name, _template in (
    ("PORTAL_TICKET_URL_TEMPLATE", PORTAL_TICKET_URL_TEMPLATE),
    ("PORTAL_TICKET_CHECK_URL_TEMPLATE", PORTAL_TICKET_CHECK_URL_TEMPLATE),
):
    if _template and ("{ticket}" not in _template or not _template.startswith(("https://", "http://"))):
        raise ConfigurationError(f"{_name} must be an http(s) URL holding {{ticket}}; got {_template!r}")
PORTAL_TICKET_CHECK_AUTHORIZATION = env.optional_str("PORTAL_TICKET_CHECK_AUTHORIZATION")
PORTAL_TICKET_STATE_FIELD = env.str("PORTAL_TICKET_STATE_FIELD", "fields.status.statusCategory.key")
PORTAL_TICKET_CLOSED_STATES = env.list("PORTAL_TICKET_CLOSED_STATES", ["done"])
PORTAL_TICKET_CHECK_TIMEOUT_SECONDS = env.int("PORTAL_TICKET_CHECK_TIMEOUT_SECONDS", 5, minimum=1)
# Every finding also goes to AWS Security Hub in its account, in that region (audits/securityhub.py).
PORTAL_SECURITY_HUB_ENABLED = env.bool("PORTAL_SECURITY_HUB_ENABLED", False)
PORTAL_SECURITY_HUB_REGION = env.str("PORTAL_SECURITY_HUB_REGION", PORTAL_AWS_REGION)
PORTAL_SECURITY_HUB_ROLE_NAME = env.str("PORTAL_SECURITY_HUB_ROLE_NAME", "BreakGlassPortalFindings")
# The organization import (audits/organization/): beat syncs hourly once enabled (off by default, so a
# portal not wired to an organization does not fail every hour); an account's environment comes from
# one of its tags or from the names in its OU path (docs/operations.md).
PORTAL_ORG_SYNC_ENABLED = env.bool("PORTAL_ORG_SYNC_ENABLED", False)
PORTAL_ORG_ENVIRONMENT_FROM = env.choice("PORTAL_ORG_ENVIRONMENT_FROM", "tag", ("tag", "ou"))
PORTAL_ORG_ENVIRONMENT_TAG = env.str("PORTAL_ORG_ENVIRONMENT_TAG", "Environment")
# CloudTrail ingestion caps per file (docs/operations.md): a file decompressing to more, or holding more
# records, ends with the cap named as its reason; what was read before that point is stored. CloudTrail's
# own files are a few MB; these defaults still let a 3-million-record export through.
PORTAL_INGEST_MAX_DECOMPRESSED_BYTES = env.int(
    "PORTAL_INGEST_MAX_DECOMPRESSED_BYTES", 4 << 30, minimum=1 << 20
)
PORTAL_INGEST_MAX_RECORDS_PER_FILE = env.int("PORTAL_INGEST_MAX_RECORDS_PER_FILE", 5_000_000, minimum=1000)
# A running ingestion run saves its row with every batch it stores, a file at the latest; one without any
# progress for this long lost its worker and is marked failed by the sweep (beat, every five minutes).
PORTAL_INGEST_STALE_MINUTES = env.int("PORTAL_INGEST_STALE_MINUTES", 30, minimum=5)
# Uploaded log files wait here for the worker that ingests them: the web and worker processes must share
# this folder (docker-compose mounts one volume in both).
PORTAL_UPLOAD_DIR = Path(env.str("PORTAL_UPLOAD_DIR", str(VAR_DIR / "uploads")))
# Large exports (PDF reports, evidence bundles, CSV/JSON over PORTAL_EXPORT_STREAM_MAX_ROWS rows or on
# request) are made by a worker into this folder, shared by the web and worker processes like the
# uploads; each file is removed (by beat, hourly, with a ledger entry) this many hours after it was made.
PORTAL_EXPORT_DIR = Path(env.str("PORTAL_EXPORT_DIR", str(VAR_DIR / "exports")))
PORTAL_EXPORT_KEEP_HOURS = env.int("PORTAL_EXPORT_KEEP_HOURS", 24, minimum=1)
PORTAL_EXPORT_STREAM_MAX_ROWS = env.int("PORTAL_EXPORT_STREAM_MAX_ROWS", 100_000, minimum=1)

# --- Retention (issue 9, item 5; README "Retention", docs/operations.md) ------------------------
# Evidence (the ledger, root events, access requests with their transitions, approvals and reveals,
# findings, reports made) is never purged by the portal, whatever is set here. Only operational rows go,
# by beat once a day: delivered or failed notifications and finished ingestion runs older than these
# many days. At least a year (PCI DSS 10.5.1), so nobody configures away a year of operational trail.
PORTAL_RETENTION_MIN_DAYS = 365
PORTAL_RETENTION_NOTIFICATION_DAYS = env.int(
    "PORTAL_RETENTION_NOTIFICATION_DAYS", 400, minimum=PORTAL_RETENTION_MIN_DAYS
)
PORTAL_RETENTION_RUN_DAYS = env.int("PORTAL_RETENTION_RUN_DAYS", 400, minimum=PORTAL_RETENTION_MIN_DAYS)

# --- Bounds on widening access (issue 8, item 8) ------------------------------------------------
# A grant (created or reviewed) expires at most this many days ahead: access is re-reviewed at
# least this often. The grant services refuse a later expiry, naming the limit.
PORTAL_GRANT_MAX_DAYS = env.int("PORTAL_GRANT_MAX_DAYS", 365, minimum=1)
# Access reviews (PCI DSS 7.2.4): beat starts a campaign when the last one started this many days ago;
# reviewers have PORTAL_REVIEW_DAYS to decide; at the deadline an undecided grant expires ("expire")
# or stays ("keep"). Either way each undecided item is a finding.
PORTAL_REVIEW_INTERVAL_DAYS = env.int("PORTAL_REVIEW_INTERVAL_DAYS", 180, minimum=1)
PORTAL_REVIEW_DAYS = env.int("PORTAL_REVIEW_DAYS", 30, minimum=1)
PORTAL_REVIEW_UNDECIDED = env.choice("PORTAL_REVIEW_UNDECIDED", "expire", ("expire", "keep"))

# --- Break-glass drills and approver reachability (issue 9, item 4) ------------------------------
# Each account is drilled this often: an administrator schedules a drill (a break-glass session marked
# as one) in which a custodian checks out, signs in as root and checks in, and the portal proves the
# root ConsoleLogin arrived from CloudTrail, matched the drill and its alert was delivered. A drill whose
# root sign-in has not arrived this many minutes after check-in is a critical finding (the alarm is broken).
PORTAL_DRILL_INTERVAL_DAYS = env.int("PORTAL_DRILL_INTERVAL_DAYS", 90, minimum=1)
PORTAL_DRILL_EVENT_DEADLINE_MINUTES = env.int("PORTAL_DRILL_EVENT_DEADLINE_MINUTES", 60, minimum=5)
# Every approver is asked this often to confirm, with a fresh MFA check, that they can be reached; one
# silent after PORTAL_REACHABILITY_DEADLINE_DAYS is a finding (high when their account's quorum can no
# longer be met by the approvers who answered).
PORTAL_REACHABILITY_INTERVAL_DAYS = env.int("PORTAL_REACHABILITY_INTERVAL_DAYS", 90, minimum=1)
PORTAL_REACHABILITY_DEADLINE_DAYS = env.int("PORTAL_REACHABILITY_DEADLINE_DAYS", 7, minimum=1)

# --- Sign-in throttling, client address, browser hardening (issue 8: items 6, 9, 10) -----------
# Reverse proxies under the operator's control in front of the portal. 0: clients connect directly,
# REMOTE_ADDR is the client's address and X-Forwarded-For / X-Request-ID from the client are ignored.
# N: the N-th address from the right of X-Forwarded-For is the client's, and the proxy's
# X-Request-ID is kept (the proxy must set both itself, never pass the client's on).
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = PORTAL_TRUSTED_PROXY_COUNT
# Throttling instead of lock-out (breakglass.throttle): a person is never locked out by failures from
# someone else's address. allauth's "login_failed" counts sign-in and MFA attempts per client
# address only; each tier is a longer wait, so a sustained burst backs off from a minute to hours.
# The portal's own action counts failures per (person, address) with the same kind of tiers.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,30/15m/ip,100/4h/ip",
    "login_failed_person_address": "5/5m/key,10/30m/key,20/4h/key",
}
MFA_FORMS = {
    "authenticate": "breakglass.throttle.ThrottledAuthenticateForm",
    "reauthenticate": "breakglass.throttle.ThrottledReauthenticateForm",
}
# This many failed sign-ins (password or MFA) within 10 minutes from one address, or against one
# person from any addresses, alert the administrators (a ledger entry and a notification).
PORTAL_SIGNIN_BURST_FAILURES = env.int("PORTAL_SIGNIN_BURST_FAILURES", 20, minimum=2)
# Signed out after this long without a request, besides the absolute PORTAL_SESSION_SECONDS.
PORTAL_IDLE_TIMEOUT_MINUTES = env.int("PORTAL_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
if not DEBUG:
    # __Host- cookies are only accepted by browsers when Secure, Path=/ and without Domain: no
    # sibling subdomain can set or shadow the session or CSRF cookie.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Security headers outermost, so every response (redirects and errors included) carries them;
# the session timeout once the person and messages are known, before anything acts on the person.
MIDDLEWARE.insert(
    MIDDLEWARE.index("portal.middleware.RequestIdMiddleware") + 1,
    "portal.middleware.SecurityHeadersMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "portal.middleware.SessionTimeoutMiddleware",
)

# --- REST API (api/, issue 14) -------------------------------------------------------------------
# A personal API token runs at most this many days (its person chooses a shorter expiry).
PORTAL_API_TOKEN_MAX_DAYS = env.int("PORTAL_API_TOKEN_MAX_DAYS", 90, minimum=1)
# Calls one token may make per minute (a fixed window in the cache: shared by all processes when
# PORTAL_CACHE_URL is set); past it the API answers 429 with Retry-After.
PORTAL_API_RATE_PER_MINUTE = env.int("PORTAL_API_RATE_PER_MINUTE", 120, minimum=1)
