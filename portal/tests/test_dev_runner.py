"""``make run`` and ``make totp`` as the README gives them (issue 11, item 7): ``make run PORT=8123``
puts that port in PORTAL_BASE_URL (the printed sign-in link and every notification link), and
``make totp USER=...`` runs ``demo_totp`` with the development settings."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_dev() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("run_dev_under_test", ROOT / "scripts" / "run_dev.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.fixture
def dev_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "dev.env"
    path.write_text("DJANGO_DEBUG=true\n", encoding="utf-8")
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    return path


def test_the_port_of_make_run_is_the_port_of_every_link(dev_env: Path) -> None:
    _run_dev().load_dev_env(dev_env, port=8123)
    assert os.environ["PORTAL_BASE_URL"] == "http://127.0.0.1:8123"


def test_a_base_url_set_by_the_operator_wins_over_the_port(
    dev_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_BASE_URL", "https://breakglass.example.org")
    _run_dev().load_dev_env(dev_env, port=8123)
    assert os.environ["PORTAL_BASE_URL"] == "https://breakglass.example.org"


def _make(*args: str) -> str:
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_run_passes_its_port_to_the_seed_and_the_server() -> None:
    plan = _make("run", "PORT=8123", "STAMP=/dev/null")
    assert "exec --port 8123 -- .venv/bin/python manage.py seed_demo" in plan
    assert "manage.py seed_demo_trail" in plan
    assert "serve --port 8123" in plan


def test_make_totp_runs_demo_totp_with_the_development_settings() -> None:
    plan = _make("totp", "USER=rita.requester", "STAMP=/dev/null")
    assert 'scripts/run_dev.py exec -- .venv/bin/python manage.py demo_totp "rita.requester"' in plan
