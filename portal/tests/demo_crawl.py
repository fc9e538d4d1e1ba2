"""Follows the links of ``make run``'s demo as each persona would, and reports every server error.

Run in a child process by ``test_demo_on_sqlite.py`` (the development settings are read once per
process, and the demo lives in its own SQLite file there); kept apart so the test reads as the rule.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from django.contrib.auth import get_user_model
from django.test import Client

HOST = "127.0.0.1"
# Links that leave the page's purpose: signing out ends the walk, downloads are files, not pages.
SKIPPED = ("/accounts/logout", "/static/", "download", ".csv", ".pdf", ".json", ".zip", "openapi")
HREF = re.compile(r'href="([^"#]+)"')


def crawl(username: str, *, limit: int) -> tuple[int, list[tuple[str, int]]]:
    """Pages visited from the home page (breadth first, at most ``limit``), and the ones that answered
    with a server error."""
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    seen: set[str] = set()
    queue = deque(["/"])
    failures: list[tuple[str, int]] = []
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, HTTP_HOST=HOST)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            target = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if target.netloc not in ("", HOST) or any(part in target.path for part in SKIPPED):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path not in seen:
                queue.append(path)
    return len(seen), failures
