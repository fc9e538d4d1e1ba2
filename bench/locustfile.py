"""The load of ``load_benchmark.py``: signed-in people of every role reading their pages.

Run by Locust (in its own virtual environment, see ``load_benchmark.py``), never imported by the
portal. The plan (who, which session cookie, which pages) comes as JSON in ``BENCH_PLAN``: each
simulated person is the next of the plan's personas in turn, cycles through its pages at random
with a short think time, and every fifth request asks the trivial view (``/healthz``) so its figures come from
the same run under the same load as the pages'.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import FastHttpUser, between, task

PLAN: dict[str, Any] = json.loads(os.environ["BENCH_PLAN"])
TRIVIAL = ("trivial view (/healthz)", "/healthz")
# Persons take the plan's personas in turn, so a run of a few people still covers every role (drawn
# at random, a run of eight once had no auditor and no administrator).
_TURN = itertools.count()


class Person(FastHttpUser):  # type: ignore[misc]
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        personas = PLAN["personas"]
        self.persona = personas[next(_TURN) % len(personas)]
        self.headers = {
            "Cookie": f"{PLAN['cookie_name']}={self.persona['cookie']}",
            # The server runs with production settings behind an assumed TLS proxy.
            "X-Forwarded-Proto": "https",
        }

    @task(4)
    def page(self) -> None:
        name, path = random.choice(self.persona["pages"])
        self._get(f"{self.persona['role']}: {name}", path)

    @task(1)
    def trivial(self) -> None:
        self._get(*TRIVIAL)

    def _get(self, name: str, path: str) -> None:
        with self.client.get(path, name=name, headers=self.headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
