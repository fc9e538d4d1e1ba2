"""A local HTTP server standing in for Slack or a SIEM, for the tests of channels and delivery.

The ``receiver`` fixture that runs one is in ``conftest.py`` beside this module.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

SLACK_TOKEN_PATH = "/services/T0000/B0000/xoxSecretToken123456"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server standing in for Slack or a SIEM: it records what it receives."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status: int = 200
    location: str = ""

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path


def closed_port_url() -> str:
    """A URL on which nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
