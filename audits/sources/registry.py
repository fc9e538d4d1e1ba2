"""Which adapter reads each kind of configured source, built from the source's ``config``.

Adapters are imported only when a source of their kind is read: that keeps boto3 and the adapters
out of processes that never read them (the web), and lets a deployment without one adapter still run
the others. Uploads and ``manage.py ingest_cloudtrail`` have no configured source: they read through
the files adapter directly (``audits.ingest.ingest_paths``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from audits.choices import SourceKind

from .base import Source, SourceFactory

__all__ = ["SOURCE_FACTORIES", "SourceNotAvailable", "build_source", "lazy_factory"]


class SourceNotAvailable(RuntimeError):
    """The adapter for a source's kind is not installed (yet), or the kind has none."""


def lazy_factory(kind: str) -> SourceFactory:
    """A factory that imports ``audits.sources.<kind>`` only when a source of that kind is read."""

    def build(config: dict[str, Any]) -> Source:
        module_name = f"audits.sources.{kind}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # the adapter exists but one of its own imports is missing: show that
            raise SourceNotAvailable(f"no adapter for CloudTrail sources of kind {kind!r}") from None
        factory: SourceFactory | None = getattr(module, "build", None)
        if factory is None:
            raise SourceNotAvailable(f"{module_name} has no build(config) function")
        return factory(config)

    return build


#: How to build the adapter of each source kind from its ``config``. Uploads have no adapter: they go
#: through ``audits.ingest.ingest_paths``.
SOURCE_FACTORIES: dict[str, SourceFactory] = {
    kind: lazy_factory(kind) for kind in (SourceKind.FILES, SourceKind.S3, SourceKind.LOOKUP, SourceKind.SQS)
}


def build_source(*, kind: str, config: Mapping[str, Any] | None) -> Source:
    """The adapter for a configured source of ``kind``; SourceNotAvailable when the kind has none."""
    factory = SOURCE_FACTORIES.get(kind)
    if factory is None:
        raise SourceNotAvailable(f"no adapter for CloudTrail sources of kind {kind!r}")
    return factory(dict(config or {}))
