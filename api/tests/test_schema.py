"""The OpenAPI description: served at /api/v1/openapi.json to anyone (it is the shape of the API,
not data), valid OpenAPI, and rendered on the server as the documentation page for signed-in people."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/openapi.json"
DOCS = reverse("api:docs")


def test_the_schema_is_public_valid_openapi_and_holds_no_data(requester: Any, account: Any) -> None:
    response = Client().get(SCHEMA)
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["version"] == "1"
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    text = response.content.decode()
    for private in (account.account_id, account.name, requester.username):
        assert private not in text


def test_every_refusal_is_described_as_problem_details() -> None:
    schema = json.loads(Client().get(SCHEMA).content)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "404", "409", "429"):
                assert operation["responses"][status]["content"] == problem, (method, path, status)


def test_the_documentation_page_is_rendered_on_the_server_from_the_schema(auditor: Any) -> None:
    client = Client()
    client.force_login(auditor)
    response = client.get(DOCS)
    assert response.status_code == 200
    page = response.content.decode()
    # The page's own content runs no script: the only script is the site layout's (static/js/layout.js).
    scripts = re.findall(r"<script[^>]*>", page)
    assert all('src="/static/js/layout.js"' in tag for tag in scripts), scripts
    schema = json.loads(Client().get(SCHEMA).content)
    for path in schema["paths"]:
        assert f"<code>{path}</code>" in page
    assert "write:requests" in page
    assert 'id="schema-AccessRequestIn"' in page


def test_the_documentation_page_is_for_people_of_the_portal(outsider: Any) -> None:
    assert Client().get(DOCS)["Location"].startswith(reverse("account_login"))
    client = Client()
    client.force_login(outsider)
    assert client.get(DOCS).status_code == 403
