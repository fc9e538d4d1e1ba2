"""Every ledger test gets its own checkpoint folder, so checkpoints of one test never meet another's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _own_ledger_anchor(settings: Any, tmp_path: Path) -> Path:
    settings.PORTAL_LEDGER_ANCHOR = str(tmp_path / "ledger-anchor")
    return tmp_path / "ledger-anchor"
