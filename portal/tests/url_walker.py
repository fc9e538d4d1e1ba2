"""Walks the URL resolver and asks every pattern what an anonymous visitor and an outsider get.

Used by ``test_url_guards.py``; kept apart so the guard test reads as the rules, not the machinery.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

# What a person without a role may get: refused, or told the method is wrong. Not 404: the role is
# checked before any object is looked up, so even the walker's random ids are refused with 403.
REFUSED = {403, 405}
REFUSED_SHOWN = {str(status) for status in REFUSED}
MAX_HOPS = 5


@dataclass(frozen=True)
class Route:
    """One URL pattern of the site, with a concrete URL that reaches it."""

    key: str  # ``namespace:name``, or the pattern itself for unnamed patterns
    pattern: str
    url: str
    callback: Any


def _converter_sample(converter: Any) -> str:
    if isinstance(converter, UUIDConverter):
        return str(converter.to_url(uuid.uuid4()))
    if isinstance(converter, IntConverter):
        return str(converter.to_url(1))
    return "x"  # str, slug, path and anything custom that takes a word


def _route_sample(pattern: RoutePattern) -> str:
    def fill(match: re.Match[str]) -> str:
        return _converter_sample(pattern.converters[match["name"]])

    return re.sub(r"<(?:[^>:]+:)?(?P<name>[^>]+)>", fill, str(pattern))


def _group_end(regex: str, start: int) -> int:
    """Index just past the parenthesis that closes the group opened at ``start``."""
    depth, index = 0, start
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        index += 1
        if depth == 0:
            return index
    raise ValueError(f"unbalanced group in {regex!r}")


def _regex_sample(pattern: RegexPattern) -> str:
    regex = str(pattern.regex.pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, index = [], 0
    for opening in re.finditer(r"\(\?P<[^>]+>", regex):
        if opening.start() < index:
            continue  # nested inside a group already filled
        end = _group_end(regex, opening.start())
        body = regex[opening.end() : end - 1]
        literals = body.split("|")
        candidates = [*literals[:1], "x", "1", "x-x"]
        out.append(regex[index : opening.start()])
        out.append(next(c for c in candidates if re.fullmatch(body, c)))
        index = end
    out.append(regex[index:])
    return re.sub(r"\\(.)", r"\1", "".join(out))


def _sample(pattern: Any) -> str:
    if isinstance(pattern, RoutePattern):
        return _route_sample(pattern)
    if isinstance(pattern, RegexPattern):
        return _regex_sample(pattern)
    raise TypeError(f"no sample for {type(pattern).__name__}: {pattern}")


def walk(urlconf: str | None = None) -> Iterator[Route]:
    """Every leaf pattern of ``urlconf`` (default: the site's), each with a URL that resolves to it."""

    def visit(entries: Sequence[Any], url: str, shown: str, namespaces: tuple[str, ...]) -> Iterator[Route]:
        for entry in entries:
            here_url = url + _sample(entry.pattern)
            here_shown = shown + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
                yield from visit(entry.url_patterns, here_url, here_shown, inner)
            elif isinstance(entry, URLPattern):
                key = ":".join((*namespaces, entry.name)) if entry.name else here_shown
                yield Route(key, here_shown, "/" + here_url, entry.callback)

    yield from visit(get_resolver(urlconf).url_patterns, "", "", ())


def unreachable(route: Route, urlconf: str | None = None) -> str | None:
    """Why the walker's URL does not reach the route's own view (None when it does)."""
    try:
        match = resolve(route.url, urlconf)
    except Exception as exc:  # Resolver404 and anything a converter raises
        return f"{route.key}: the walker's URL {route.url} does not resolve ({exc!r})"
    if (
        match.func is not route.callback
        and getattr(match.func, "view_class", None) is not getattr(route.callback, "view_class", object())
        and _api_path_view(match.func) is not _api_path_view(route.callback, default=object())
    ):
        return f"{route.key}: the walker's URL {route.url} reaches {match.view_name or match.route} instead"
    return None


# --- The token API (api/, Django Ninja) ---------------------------------------------------------------


def is_token_authenticated(route: Route) -> bool:
    """An operation of the REST API: it takes a bearer token, never a session, and answers refusals
    with problem details instead of sending anyone to sign in."""
    return getattr(route.callback, "__module__", "") == "ninja.operation"


def _api_path_view(callback: Any, default: Any = None) -> Any:
    """The Ninja path behind an API view: the operations of one path (GET list, POST create) are one
    URL, each named by its pattern, and the one view dispatches on the method."""
    if getattr(callback, "__module__", "") != "ninja.operation" or not callback.__closure__:
        return default
    return callback.__closure__[0].cell_contents


def token_problem(client: Client, route: Route, *, expected: int, token: str | None = None) -> str | None:
    """A GET and a POST must each be refused with ``expected`` (401 or 403) as problem details (405 is
    fine for the method an operation does not take, as long as the other one is refused)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    outcomes = {}
    for method in ("get", "post"):
        response = getattr(client, method)(route.url, {}, content_type="application/json", headers=headers)
        status = response.status_code
        if status == expected and response["Content-Type"] == "application/problem+json":
            outcomes[method] = str(status)
        elif status == 405:
            outcomes[method] = "405"
        else:
            outcomes[method] = f"{status} {response.get('Content-Type', '')}"
    if str(expected) in outcomes.values() and set(outcomes.values()) <= {str(expected), "405"}:
        return None
    who = "with the outsider's token" if token else "without a token"
    return f"{route.key} ({route.url}): {who} GET {outcomes['get']}; POST {outcomes['post']}"


def _hops(client: Client, method: str, url: str) -> list[tuple[str, int, str]]:
    """(url, status, Location) of each response, following local redirects with GET like a browser."""
    chain: list[tuple[str, int, str]] = []
    for _ in range(MAX_HOPS):
        try:
            response = getattr(client, method)(url)
        except Exception as exc:  # a view that crashes on the walker's URL is a problem to show, not a stop
            chain.append((url, 500, repr(exc)))
            return chain
        location = response.get("Location", "")
        chain.append((url, response.status_code, location))
        if response.status_code not in (301, 302, 303, 307, 308) or urlsplit(location).netloc:
            return chain
        url, method = location, "get"
    return chain


def _show(chain: list[tuple[str, int, str]]) -> str:
    return " -> ".join(f"{status}" + (f" {location}" if location else "") for _, status, location in chain)


def anonymous_problem(client: Client, route: Route) -> str | None:
    """An anonymous GET and POST must each end at sign-in (405 accepted for the wrong method)."""
    sign_in = reverse("account_login")
    outcomes = {}
    for method in ("get", "post"):
        chain = _hops(client, method, route.url)
        reaches_sign_in = any(urlsplit(location).path == sign_in for _, _, location in chain)
        first_status = chain[0][1]
        outcomes[method] = "sign-in" if reaches_sign_in else ("405" if first_status == 405 else _show(chain))
    if "sign-in" in outcomes.values() and set(outcomes.values()) <= {"sign-in", "405"}:
        return None
    return f"{route.key} ({route.url}): anonymous GET {outcomes['get']}; POST {outcomes['post']}"


def outsider_problem(client: Client, route: Route) -> str | None:
    """A signed-in person without a role must be refused: 403 (after the admin's redirect to its own
    login page, which refuses non-staff), for GET and POST; 405 is fine for the method a view does
    not take, as long as the other one is refused with 403."""
    sign_in = reverse("account_login")
    outcomes = {}
    for method in ("get", "post"):
        chain = _hops(client, method, route.url)
        final_status = chain[-1][1]
        if final_status in REFUSED and not any(urlsplit(loc).path == sign_in for _, _, loc in chain):
            outcomes[method] = str(final_status)
        else:
            outcomes[method] = _show(chain)
    if "403" in outcomes.values() and set(outcomes.values()) <= REFUSED_SHOWN:
        return None
    return f"{route.key} ({route.url}): outsider GET {outcomes['get']}; POST {outcomes['post']}"
