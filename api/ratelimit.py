"""Calls per token per minute: a fixed window counted in the cache (``PORTAL_API_RATE_PER_MINUTE``).

A fixed window lets a client make up to twice the rate across a window boundary; that is enough to
keep one runaway script from crowding out the people using the pages, which is what it is for.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def clock() -> float:
    return time.time()


def seconds_to_wait(key: str) -> int:
    """Count one call for ``key``; 0 when it is within the rate, else whole seconds until the next
    window opens (for Retry-After)."""
    now = clock()
    window = int(now // WINDOW_SECONDS)
    counter = f"api-rate:{key}:{window}"
    # add() is a no-op when the counter exists; incr() is atomic in Redis and in the local cache.
    cache.add(counter, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(counter)
    except ValueError:  # the counter expired between add() and incr()
        cache.add(counter, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count <= settings.PORTAL_API_RATE_PER_MINUTE:
        return 0
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
