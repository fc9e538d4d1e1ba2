"""The operators' command line (``python -m api.cli``) against the real API over HTTP (a live server)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api import cli
from api.choices import Scope
from audits.tests.views.support import make_finding
from breakglass.tests.factories import GrantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _run(live_server: Any, monkeypatch: pytest.MonkeyPatch, token: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("BREAKGLASS_URL", live_server.url)
    monkeypatch.setenv("BREAKGLASS_TOKEN", token)
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_a_requester_files_a_request_and_reads_its_status(
    live_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    requester: Any,
    account: Any,
    make_token: Callable[..., str],
) -> None:
    GrantFactory(user=requester, account=account)
    token = make_token(requester, Scope.WRITE_REQUESTS)

    status, out, err = _run(
        live_server, monkeypatch, token, "request", "--account", "1234-5678-9012", "--task", "close_account",
        "--minutes", "30", "--ticket", "CHG-1", "--justification", "Close the legacy account as agreed.",
    )  # fmt: skip
    assert (status, err) == (0, "")
    code = out.split()[0]
    assert code.startswith("BG-")
    assert "pending" in out

    status, out, _ = _run(live_server, monkeypatch, token, "status", code)
    assert status == 0
    assert f"{code}  pending  account 123456789012" in out


def test_an_auditor_lists_findings_and_exports_a_report(
    live_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    auditor: Any,
    account: Any,
    make_token: Callable[..., str],
    tmp_path: Path,
) -> None:
    finding = make_finding(account=account)
    token = make_token(auditor, Scope.READ_FINDINGS, Scope.EXPORT_REPORTS)

    status, out, _ = _run(live_server, monkeypatch, token, "findings", "--severity", finding.severity)
    assert status == 0
    assert finding.code in out

    target = tmp_path / "findings.csv"
    status, out, _ = _run(live_server, monkeypatch, token, "export", "findings", "--output", str(target))
    assert status == 0
    assert finding.code in target.read_text()
    assert "written to" in out


def test_a_refusal_is_one_line_and_exit_status_one(
    live_server: Any, monkeypatch: pytest.MonkeyPatch, requester: Any
) -> None:
    status, out, err = _run(live_server, monkeypatch, "bgp_000000000000_not-a-token", "findings")
    assert (status, out) == (1, "")
    assert err.startswith("HTTP 401")
    assert err.count("\n") == 1


def test_without_the_environment_it_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BREAKGLASS_TOKEN", raising=False)
    err = io.StringIO()
    assert cli.main(["findings"], out=io.StringIO(), err=err) == 2
    assert "BREAKGLASS_TOKEN" in err.getvalue()
