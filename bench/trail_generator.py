"""A synthetic organization trail, laid out as CloudTrail delivers it, for the ingestion benchmark.

Built from the real records in ``../shared/fixtures/cloudtrail/logs`` with fresh ids and times, and one
root record (from ``../shared/fixtures/cloudtrail/events``) every K records; written once and cached
(the manifest is written last, so a half-written trail is made again).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "cloudtrail"
FORMAT_VERSION = 1  # bump when the generated data changes shape, to invalidate caches
ORG_ID = "o-a1b2c3d4e5"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")
# Delivery files cover about five minutes each.
FILE_SPAN = timedelta(minutes=5)


# --- generation -----------------------------------------------------------------------------------

_SLOT = re.compile(r"@@(EID|TIME|ACCT|REGION|RID)@@")


def _template(record: dict[str, Any]) -> list[str]:
    """A record serialised once, split around the slots filled per copy (fast: no json.dumps per record)."""
    record = json.loads(json.dumps(record))
    account = str(record.get("recipientAccountId") or record.get("userIdentity", {}).get("accountId") or "")
    record["eventID"] = "@@EID@@"
    record["eventTime"] = "@@TIME@@"
    record["awsRegion"] = "@@REGION@@"
    record["recipientAccountId"] = "@@ACCT@@"
    if "requestID" in record:
        record["requestID"] = "@@RID@@"
    # CloudTrail's own serialiser is compact.
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    if re.fullmatch(r"\d{12}", account):
        text = text.replace(account, "@@ACCT@@")  # ARNs, accountId, hostnames: one account throughout
    return _SLOT.split(text)


def _render(parts: list[str], values: dict[str, str]) -> str:
    # _SLOT.split alternates literal text and slot names.
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


def _load_templates() -> tuple[list[list[str]], list[list[str]]]:
    background: list[list[str]] = []
    for log in sorted((FIXTURES / "logs").glob("*.json")):
        background += [_template(record) for record in json.loads(log.read_text())["Records"]]
    root: list[list[str]] = []
    for case in sorted((FIXTURES / "events").glob("*.json")):
        data = json.loads(case.read_text())
        if data["label"].get("is_root"):
            root.append(_template(data["event"]))
    if not background or not root:
        raise SystemExit(f"no CloudTrail fixtures under {FIXTURES}")
    return background, root


@dataclass
class Trail:
    """A generated trail: its files and what is in them."""

    directory: Path
    files: list[Path]
    records: int
    root_records: int
    bytes_compressed: int
    bytes_uncompressed: int


def _event_id(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-a{value[17:20]}-{value[20:]}"


def generate(directory: Path, *, records: int, files: int, root_every: int, seed: int = 7) -> Trail:
    """Write the trail under ``directory`` unless a complete one is there already (manifest last)."""
    manifest = directory / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == FORMAT_VERSION:
            return Trail(
                directory,
                [directory / name for name in data["files"]],
                data["records"],
                data["root_records"],
                data["bytes_compressed"],
                data["bytes_uncompressed"],
            )
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    rng = random.Random(seed)
    background, root = _load_templates()
    accounts = [f"{rng.randrange(10**11, 10**12):012d}" for _ in range(12)]
    start = datetime(2025, 3, 1, tzinfo=UTC)
    per_file, extra = divmod(records, files)
    written: list[Path] = []
    total = root_count = size_in = size_out = 0
    started = time.perf_counter()
    for index in range(files):
        count = per_file + (1 if index < extra else 0)
        account = accounts[index % len(accounts)]
        region = REGIONS[(index // len(accounts)) % len(REGIONS)]
        # Files of one account/region follow each other in time, as deliveries do.
        delivered = start + FILE_SPAN * (index // (len(accounts) * len(REGIONS)))
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        name = f"{account}_CloudTrail_{region}_{stamp}_{rng.getrandbits(64):016X}.json.gz"
        path = (
            directory
            / "AWSLogs"
            / ORG_ID
            / account
            / "CloudTrail"
            / region
            / delivered.strftime("%Y/%m/%d")
            / name
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        order = rng.sample(range(len(background)), len(background))
        body: list[str] = []
        for offset in range(count):
            number = total + offset
            if root_every and number % root_every == root_every // 2:
                parts = root[root_count % len(root)]
                root_count += 1
            else:
                parts = background[order[offset % len(order)]]
            moment = delivered - FILE_SPAN + FILE_SPAN * offset / max(count, 1)
            body.append(
                _render(
                    parts,
                    {
                        "EID": _event_id(rng),
                        "TIME": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "ACCT": account,
                        "REGION": region,
                        "RID": f"{rng.getrandbits(64):016X}",
                    },
                )
            )
        total += count
        data = ('{"Records":[' + ",".join(body) + "]}").encode()
        # Level 6, gzip framing: what Java's GZIPOutputStream (CloudTrail's writer) uses by default.
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        packed = packer.compress(data) + packer.flush()
        path.write_bytes(packed)
        written.append(path)
        size_in += len(packed)
        size_out += len(data)
        if index % 50 == 49:
            print(f"  generated {index + 1}/{files} files, {total:,} records", file=sys.stderr, flush=True)
    manifest.write_text(
        json.dumps(
            {
                "version": FORMAT_VERSION,
                "files": [str(path.relative_to(directory)) for path in written],
                "records": total,
                "root_records": root_count,
                "bytes_compressed": size_in,
                "bytes_uncompressed": size_out,
                "generated_in_seconds": round(time.perf_counter() - started, 1),
            }
        )
    )
    return Trail(directory, written, total, root_count, size_in, size_out)
