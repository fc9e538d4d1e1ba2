"""Strict parsing of configuration from environment variables.

A typo in production configuration must stop start-up with a message naming the variable,
never silently fall back to a default (``DJANGO_DEBUG=flase`` must not mean "debug off" by luck).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigurationError(RuntimeError):
    """Raised when an environment variable holds a value that cannot be used."""


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[builtins.str, builtins.str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: builtins.str) -> builtins.str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self._raw(name)
        if value is None:
            if default is None:
                raise ConfigurationError(f"{name} must be set")
            return default
        return value

    def optional_str(self, name: builtins.str) -> builtins.str | None:
        return self._raw(name)

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigurationError(f"{name} must be one of true/false, yes/no, on/off, 1/0; got {value!r}")

    def int(
        self, name: builtins.str, default: builtins.int, *, minimum: builtins.int | None = None
    ) -> builtins.int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            parsed = int(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer; got {value!r}") from None
        if minimum is not None and parsed < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}; got {parsed}")
        return parsed

    def list(
        self, name: builtins.str, default: list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self, name: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self._raw(name) or default
        if value not in choices:
            raise ConfigurationError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value
