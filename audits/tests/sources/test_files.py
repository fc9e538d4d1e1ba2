"""The local files source: folders read recursively, one chunk per file, resumable, never raising."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from audits.sources import files
from audits.sources.aws import ConfigError
from audits.tests.cloudtrail.support import (
    assume_root_call,
    iam_user_record,
    root_login_record,
    write_delivery,
    write_lines,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    (root / "a").mkdir(parents=True)
    write_delivery(root / "a" / "2.json.gz", [iam_user_record(1), root_login_record(event_id="login-a2")])
    write_delivery(root / "a" / "10.json", [iam_user_record(2), iam_user_record(3)])
    write_lines(root / "a-b.jsonl", [iam_user_record(4), assume_root_call(event_id="assume-ab")])
    (root / "c").mkdir()
    write_delivery(root / "c" / "no-extension", [root_login_record(event_id="login-c")])
    (root / ".hidden").mkdir()
    write_delivery(root / ".hidden" / "x.json", [root_login_record(event_id="hidden")])
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return root


def _read(source: files.FilesSource, unit: str, position: str = "") -> list[files.Chunk]:
    return list(source.read(unit, position))


def test_it_reads_a_folder_recursively_one_chunk_per_file_in_path_order(folder: Path) -> None:
    source = files.build({"paths": [str(folder)]})

    chunks = _read(source, str(folder))

    # Folder "a" sorts before the file "a-b.jsonl" (component order, as a sorted walk visits them).
    assert [chunk.position for chunk in chunks] == ["a/10.json", "a/2.json.gz", "a-b.jsonl", "c/no-extension"]
    assert [chunk.files_read for chunk in chunks] == [1, 1, 1, 1]
    assert sum(chunk.files_rejected for chunk in chunks) == 0
    assert [chunk.records_read for chunk in chunks] == [2, 2, 2, 1]
    found = [found.classification.event_id for chunk in chunks for found in chunk.records]
    assert found == ["login-a2", "assume-ab", "login-c"]


def test_it_resumes_after_the_position_skipping_whole_folders(folder: Path) -> None:
    source = files.build({"paths": [str(folder)]})

    assert [c.position for c in _read(source, str(folder), "a/10.json")] == [
        "a/2.json.gz",
        "a-b.jsonl",
        "c/no-extension",
    ]
    assert [c.position for c in _read(source, str(folder), "a/2.json.gz")] == ["a-b.jsonl", "c/no-extension"]
    # A position naming a file that no longer exists still resumes at the right place.
    assert [c.position for c in _read(source, str(folder), "a/9.json")] == ["a-b.jsonl", "c/no-extension"]
    assert _read(source, str(folder), "c/no-extension") == []


def test_a_rejected_file_is_named_with_its_reason_and_the_others_are_read(folder: Path) -> None:
    good = gzip.compress(b'{"Records":[' + b"{}," * 10)
    (folder / "a" / "3.json.gz").write_bytes(good[:-12] + b"garbage!" + good[-4:])
    (folder / "b.json").write_text('{"NotRecords": []}')
    source = files.build({"paths": [str(folder)]})

    chunks = _read(source, str(folder))

    rejected = {chunk.position: chunk for chunk in chunks if chunk.files_rejected}
    assert set(rejected) == {"a/3.json.gz", "b.json"}
    for position, chunk in rejected.items():
        assert chunk.files_read == 1
        assert [problem.name for problem in chunk.problems] == [str(folder / position)]
        assert chunk.problems[0].reason
    assert "gzip" in rejected["a/3.json.gz"].problems[0].reason
    found = {found.classification.event_id for chunk in chunks for found in chunk.records}
    assert found == {"login-a2", "assume-ab", "login-c"}


def test_a_bad_line_is_a_problem_but_the_file_is_not_rejected(tmp_path: Path) -> None:
    # The screen parses around root markers only, so the damage is where a root record would be.
    broken = b'{"userIdentity":{"type":"Root"'
    path = write_lines(tmp_path / "events.jsonl", [root_login_record(), broken, iam_user_record(1)])

    [chunk] = _read(files.build({"paths": [str(path)]}), str(path))

    assert chunk.files_rejected == 0
    assert [problem.name for problem in chunk.problems] == [str(path)]
    assert "line 2" in chunk.problems[0].reason
    assert len(chunk.records) == 1


def test_a_file_unit_is_one_chunk_positioned_at_its_name(tmp_path: Path) -> None:
    path = write_delivery(tmp_path / "upload.json.gz", [root_login_record()])
    source = files.build({"paths": [str(path)]})

    [chunk] = _read(source, str(path))

    assert chunk.position == "upload.json.gz"
    assert len(chunk.records) == 1
    assert _read(source, str(path), chunk.position) == []


def test_a_missing_path_is_reported_not_raised(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")

    [chunk] = _read(files.build({"paths": [missing]}), missing)

    assert chunk.position == ""
    assert chunk.files_rejected == 1
    assert chunk.problems[0].name == missing


def test_units_are_the_configured_paths_without_repeats(tmp_path: Path) -> None:
    source = files.build({"paths": ["/b", "/a", "/b"]})

    assert source.units() == ["/b", "/a"]


@pytest.mark.parametrize("config", [{}, {"paths": []}, {"paths": [""]}, {"paths": [1]}])
def test_it_refuses_a_config_without_paths(config: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        files.build(config)


def test_cloudtrail_digest_folders_are_skipped_at_any_depth(folder: Path) -> None:
    digest = folder / "AWSLogs" / "123456789012" / "CloudTrail-Digest" / "us-east-1"
    digest.mkdir(parents=True)
    (digest / "digest.json.gz").write_bytes(gzip.compress(b'{"awsAccountId": "123456789012"}'))
    source = files.build({"paths": [str(folder)]})

    chunks = _read(source, str(folder))

    assert [chunk.position for chunk in chunks] == ["a/10.json", "a/2.json.gz", "a-b.jsonl", "c/no-extension"]
    assert sum(chunk.files_rejected for chunk in chunks) == 0


def test_a_symbolic_link_to_a_folder_is_skipped_not_followed(folder: Path) -> None:
    (folder / "c" / "loop").symlink_to(folder, target_is_directory=True)
    source = files.build({"paths": [str(folder)]})

    chunks = _read(source, str(folder))

    assert [chunk.position for chunk in chunks] == ["a/10.json", "a/2.json.gz", "a-b.jsonl", "c/no-extension"]


def test_chunks_are_named_by_the_files_they_came_from(folder: Path) -> None:
    chunks = _read(files.build({"paths": [str(folder)]}), str(folder))

    assert [chunk.name for chunk in chunks] == [str(folder / chunk.position) for chunk in chunks]
