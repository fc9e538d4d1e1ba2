"""Which environment a tag value or an OU path stands for (pure, no database)."""

from __future__ import annotations

import pytest

from audits.organization.environment import environment_for, environment_from_name
from breakglass.choices import Environment

KNOWN = Environment.values


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Production", "production"),
        ("prod", "production"),
        ("PRD", "production"),
        ("Dev", "development"),
        ("stage", "staging"),
        ("Sandbox", "sandbox"),
        ("Log Archive", "security"),
        ("Workloads", None),
        ("", None),
    ],
)
def test_names(name: str, expected: str | None) -> None:
    assert environment_from_name(name, KNOWN) == expected


def test_tag_source_reads_only_the_configured_tag() -> None:
    tags = {"env": "dev", "Environment": "prod"}
    assert (
        environment_for(source="tag", tag_key="Environment", tags=tags, ou_path="Root/Dev", known=KNOWN)
        == "production"
    )
    assert environment_for(source="tag", tag_key="Stage", tags=tags, ou_path="Root/Dev", known=KNOWN) is None


def test_ou_source_takes_the_deepest_matching_ou_and_never_the_root() -> None:
    assert (
        environment_for(source="ou", tag_key="x", tags={}, ou_path="Root/Prod/Sandbox", known=KNOWN)
        == "sandbox"
    )
    assert (
        environment_for(source="ou", tag_key="x", tags={}, ou_path="Root/Prod/Team-A", known=KNOWN)
        == "production"
    )
    assert environment_for(source="ou", tag_key="x", tags={}, ou_path="Root", known=KNOWN) is None
