"""The source registry: one adapter per configured kind, imported only when a source is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.choices import SourceKind
from audits.sources import files, registry
from audits.sources.registry import SourceNotAvailable, build_source


def test_every_configurable_kind_has_an_adapter_and_uploads_have_none() -> None:
    assert set(registry.SOURCE_FACTORIES) == {
        SourceKind.FILES,
        SourceKind.S3,
        SourceKind.LOOKUP,
        SourceKind.SQS,
    }


def test_it_builds_the_adapter_of_a_kind_from_its_config(tmp_path: Path) -> None:
    source = build_source(kind=SourceKind.FILES, config={"paths": [str(tmp_path)]})

    assert isinstance(source, files.FilesSource)
    assert source.units() == [str(tmp_path)]


@pytest.mark.parametrize("kind", [SourceKind.UPLOAD.value, "nosuch"])
def test_a_kind_without_an_adapter_is_a_clear_error(kind: str) -> None:
    with pytest.raises(SourceNotAvailable, match=f"no adapter for CloudTrail sources of kind '{kind}'"):
        build_source(kind=kind, config={})


def test_a_factory_for_a_module_that_does_not_exist_says_so() -> None:
    with pytest.raises(SourceNotAvailable, match="kind 'nosuch'"):
        registry.lazy_factory("nosuch")({})
