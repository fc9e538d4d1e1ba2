#!/usr/bin/env python3
"""Container health check of the web service: GET /healthz on the local gunicorn, exit 0 on 200.

The request carries a host from DJANGO_ALLOWED_HOSTS and ``X-Forwarded-Proto: https``, as the TLS
proxy in front of the portal would, so neither the host check nor the HTTPS redirect refuses it.
Standard library only: it runs often, and must not load Django.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def health_host() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": health_host(), "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: /healthz answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
