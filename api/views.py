"""Pages of the API: a person's tokens (make one with step-up, see it once, revoke), and the API's
documentation rendered on the server from the OpenAPI schema (no script: the CSP allows none from
elsewhere, and a page that only reads a schema needs none)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api import forms, selectors, services
from api.choices import LEDGERED_SCOPES, Scope
from api.v1 import api
from portal.decorators import AuthenticatedHttpRequest, portal_user_required
from portal.errors import DomainError
from portal.forms import add_domain_error
from portal.identity import step_up_required
from portal.paging import CURSOR_PARAMETER, keyset_page

_HTTP_METHODS = ("get", "post", "put", "patch", "delete")
#: The query-string parameter of the pages of everyone else's tokens (one's own use ``cursor``).
OTHERS_CURSOR = "others"


@portal_user_required
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Two lists, each paged on its own cursor (an administrator sees everyone's live tokens).
    tokens = keyset_page(
        selectors.tokens_of(user=request.user),
        ordering=("-created_at", "-id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
    )
    others = keyset_page(
        selectors.live_tokens_of_others(user=request.user),
        ordering=("-created_at", "-id"),
        cursor=request.GET.get(OTHERS_CURSOR),
    )
    return render(request, "api/token_list.html", {"tokens": tokens, "page": tokens, "others": others})


@portal_user_required
@step_up_required
def token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make a token. The token is in this response only: it is not stored, not put in the session and
    not redirected to, so reloading or going back cannot show it again."""
    form = forms.ApiTokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            made = services.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except DomainError as error:
            add_domain_error(form, error, rename={"expires_at": "expires_in_days"})
        else:
            return render(request, "api/token_created.html", {"made": made})
    return render(request, "api/token_form.html", {"form": form, "ledgered": sorted(LEDGERED_SCOPES)})


@require_POST
@portal_user_required
def token_revoke(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    token = selectors.token_for(user=request.user, uuid=uuid)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"The token {token.prefix} ({token.name}) no longer works.")
    return redirect("api:token_list")


# --- Documentation -------------------------------------------------------------------------------


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's operations in its own order, each with what the page shows."""
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "scopes": operation.get("x-scopes", []),
                    "parameters": operation.get("parameters", []),
                    "body": _ref_name(body.get("schema", {})),
                    "responses": [
                        (status, response.get("description", ""))
                        for status, response in operation.get("responses", {}).items()
                    ],
                    "anchor": operation.get("operationId", f"{method}-{path}"),
                }
            )
    return found


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "")).rpartition("/")[2]


def _components(schema: dict[str, Any]) -> list[dict[str, Any]]:
    shown = []
    for name, component in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(component.get("required", []))
        fields = [
            {
                "name": field,
                "type": _type_of(spec),
                "required": field in required,
                "description": spec.get("description", ""),
            }
            for field, spec in component.get("properties", {}).items()
        ]
        shown.append({"name": name, "description": component.get("description", ""), "fields": fields})
    return shown


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return _ref_name(spec)
    if "anyOf" in spec:
        return " | ".join(_type_of(option) for option in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    return str(spec.get("format") or spec.get("type") or "any")


@portal_user_required
def api_docs(request: AuthenticatedHttpRequest) -> HttpResponse:
    schema = api.get_openapi_schema()
    return render(
        request,
        "api/docs.html",
        {
            "info": schema["info"],
            "operations": _operations(schema),
            "components": _components(schema),
            "scopes": list(Scope),
            "ledgered": LEDGERED_SCOPES,
        },
    )
