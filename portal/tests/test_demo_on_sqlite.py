"""``make run``'s demo on its embedded default (SQLite), page by page: the rest of the suite runs on
PostgreSQL, so SQL that only PostgreSQL speaks would otherwise reach a newcomer first. (It did: the
overview of auditors and administrators asked SQLite for ``percentile_cont`` and answered 500.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from portal.tests.settings_support import run_python

PERSONAS = ("rita.requester", "alan.approver", "carl.custodian", "audrey.auditor", "ada.admin")
PAGES_EACH = 300

WALK = f"""
    import json, logging, os, sys
    # The keys make run writes to var/dev.env, made the same way in the child (the test process
    # keeps scripts/ off its own import path).
    sys.path.insert(0, "scripts")
    import devenv
    os.environ.update(
        PORTAL_ENCRYPTION_KEYS=devenv.new_encryption_keys(),
        PORTAL_LEDGER_KEYS=devenv.new_ledger_keys(),
        PORTAL_LEDGER_SIGNING_KEY=devenv.new_ledger_signing_key(),
        PORTAL_EVIDENCE_SIGNING_KEY=devenv.new_evidence_signing_key(),
    )
    import django
    django.setup()
    logging.disable(logging.CRITICAL)  # a failure is reported below, not as a traceback
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo_trail", verbosity=0)
    from portal.tests.demo_crawl import crawl
    print(json.dumps({{name: crawl(name, limit={PAGES_EACH}) for name in {PERSONAS!r}}}))
"""


def test_every_page_of_the_demo_answers_on_sqlite(tmp_path: Path) -> None:
    env = {
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    try:
        result = run_python(WALK, env, tmp_path, timeout=540)
    except subprocess.TimeoutExpired:
        pytest.fail("the demo walk did not finish in 540 s")
    assert result.returncode == 0, result.stderr[-3000:]
    walked = json.loads(result.stdout.strip().splitlines()[-1])

    failures = {name: failed for name, (_, failed) in walked.items() if failed}
    assert failures == {}
    # Each persona reached well past its home page (a walk stopped at a broken home page reaches one).
    assert {name: visited > 20 for name, (visited, _) in walked.items()} == dict.fromkeys(PERSONAS, True)
