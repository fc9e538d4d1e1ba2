"""The load of ``load_benchmark.py``: signed-in people of every role reading their pages.

Run by Locust (in its own virtual environment, see ``load_benchmark.py``), never imported by the
portal. The plan (who, which session cookie, which pages) comes as JSON in ``BENCH_PLAN``: each
simulated person is one of the plan's personas, cycles through its pages at random with a short
think time, and every fifth request asks the trivial view (``/healthz``) so its figures come from
the same run under the same load as the pages'.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import FastHttpUser, between, task

PLAN: dict[str, Any] = json.loads(os.environ["BENCH_PLAN"])
TRIVIAL = ("trivial view (/healthz)", "/healthz")


class Person(FastHttpUser):  # type: ignore[misc]
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        personas = PLAN["personas"]
        self.persona = personas[random.randrange(len(personas))]
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
