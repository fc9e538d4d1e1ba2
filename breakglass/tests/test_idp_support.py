"""The single sign-on tests' providers need Node.js: skipped without it, except under CI."""

from __future__ import annotations

import json

import pytest

from breakglass.tests import idp_support


def test_without_node_the_tests_are_skipped_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idp_support.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match=r"Node\.js is not installed"):
        idp_support.node_or_skip()


def test_under_ci_a_missing_node_fails_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idp_support.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="CI must run them"):
        idp_support.node_or_skip()


def test_the_providers_packages_are_pinned_and_kept_out_of_git() -> None:

    package = json.loads((idp_support.IDP_DIR / "package.json").read_text())
    assert all(version[0].isdigit() for version in package["dependencies"].values())  # exact pins
    assert (idp_support.IDP_DIR / "package-lock.json").exists()
    assert "node_modules/" in (idp_support.IDP_DIR / ".gitignore").read_text().splitlines()
