"""A small command line over the REST API, for operators (issue 14, item 5): list findings, export a
report, request access, show a request's status.

    export BREAKGLASS_URL=https://portal.example.com BREAKGLASS_TOKEN=bgp_...
    python -m api.cli findings [--severity critical] [--status open] [--account 123456789012]
    python -m api.cli export findings --format csv --output findings.csv [--since 2026-01-01]
    python -m api.cli request --account 123456789012 --task close_account --minutes 60 \\
        --justification "..." [--ticket CHG-1]
    python -m api.cli status BG-260501-0001      # or the request's uuid

Standard library only (no Django, nothing to install beside Python): it runs on an operator's laptop
as well as on the server. The token comes from the environment, never from an argument, so it stays
out of shell history and process lists. Errors are the API's problem details, printed as one line;
the exit status is 0 on success, 1 when the API refused, 2 for a usage mistake.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any, TextIO

USER_AGENT = "breakglass-cli/1"
TIMEOUT_SECONDS = 60


class ApiError(Exception):
    """The API refused; the message is its problem details' title and detail."""


class Client:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.token = token

    def _open(self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (http(s) only, main)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)  # noqa: S310
        except urllib.error.HTTPError as error:
            raise ApiError(_problem(error)) from None
        except urllib.error.URLError as error:
            raise ApiError(f"cannot reach {self.base}: {error.reason}") from None

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        with self._open(method, path, **kwargs) as answer:
            return json.loads(answer.read() or b"null")

    def download(self, path: str, query: dict[str, str], target: TextIO | Any) -> int:
        with self._open("GET", path, query=query) as answer:
            before = target.tell() if hasattr(target, "tell") else 0
            shutil.copyfileobj(answer, target)
            return int(target.tell() - before) if hasattr(target, "tell") else 0


def _problem(error: urllib.error.HTTPError) -> str:
    try:
        problem = json.loads(error.read() or b"{}")
    except ValueError:
        problem = {}
    text = " — ".join(str(part) for part in (problem.get("title"), problem.get("detail")) if part)
    fields = problem.get("errors") or {}
    if fields:
        text += (
            " ("
            + "; ".join(f"{name or 'form'}: {' '.join(map(str, msgs))}" for name, msgs in fields.items())
            + ")"
        )
    return f"HTTP {error.code}: {text or error.reason}"


def _table(rows: list[list[str]], out: TextIO) -> None:
    if not rows:
        return
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
        )


def cmd_findings(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    query = {
        name: value for name in ("severity", "status", "account", "kind") if (value := getattr(args, name))
    }
    query["limit"] = str(args.limit)
    page = client.json("GET", "/findings", query=query)
    rows = [["CODE", "SEVERITY", "STATUS", "ACCOUNT", "LAST SEEN", "KIND"]]
    rows += [
        [f["code"], f["severity"], f["status"], f["aws_account_id"], str(f["last_seen"])[:19], f["kind"]]
        for f in page["items"]
    ]
    _table(rows, out)
    more = " (more: raise --limit or narrow the filters)" if page.get("next") is not None else ""
    out.write(f"{len(page['items'])} findings{more}\n")


def cmd_export(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    query = {name: value for name in ("since", "until", "account") if (value := getattr(args, name))}
    with open(args.output, "wb") as target:
        written = client.download(f"/reports/{args.report}/{args.format}", query, target)
    out.write(f"{args.report} report ({args.format}) written to {args.output}, {written:,} bytes\n")


def cmd_request(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    body = {
        "account_id": "".join(ch for ch in args.account if ch.isdigit()),
        "root_task": args.task,
        "justification": args.justification,
        "duration_minutes": args.minutes,
        "ticket_reference": args.ticket,
        "other_task": args.other_task,
    }
    created = client.json("POST", "/requests", body=body)
    out.write(f"{created['code']} filed: {created['status']} ({created['uuid']})\n")
    out.write(
        "Approvers are notified; check out and reveal happen in the browser with a fresh second factor.\n"
    )


def cmd_status(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    found = _find_request(client, args.request)
    out.write(
        f"{found['code']}  {found['status']}  account {found['account']['account_id']}"
        f"  approvals {found['approvals']}  requested by {found['requester']}\n"
    )


def _find_request(client: Client, wanted: str) -> Any:
    if len(wanted) == 36 and wanted.count("-") == 4:
        return client.json("GET", f"/requests/{wanted}")
    cursor: str | None = ""
    while cursor is not None:
        page = client.json("GET", "/requests", query={"limit": "200", "cursor": cursor})
        for item in page["items"]:
            if item["code"].lower() == wanted.lower():
                return item
        cursor = page.get("next")
    raise ApiError(f"no request {wanted} that you may open")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m api.cli", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    findings = commands.add_parser("findings", help="list findings (the findings page's filters)")
    for name in ("severity", "status", "account", "kind"):
        findings.add_argument(f"--{name}", default="")
    findings.add_argument("--limit", type=int, default=50)
    export = commands.add_parser("export", help="export a report to a file")
    export.add_argument("report", help="sessions, activity, findings, access, ledger, posture, ...")
    export.add_argument("--format", choices=("csv", "json", "pdf"), default="csv")
    export.add_argument("--output", required=True)
    for name in ("since", "until", "account"):
        export.add_argument(f"--{name}", default="")
    request = commands.add_parser("request", help="file a break-glass request")
    request.add_argument("--account", required=True, help="12-digit id (dashes allowed)")
    request.add_argument("--task", required=True, help="a root task code, e.g. close_account")
    request.add_argument("--justification", required=True)
    request.add_argument("--minutes", type=int, default=60)
    request.add_argument("--ticket", default="")
    request.add_argument("--other-task", default="")
    status = commands.add_parser("status", help="show a request's status (BG-code or uuid)")
    status.add_argument("request")
    return top


COMMANDS = {"findings": cmd_findings, "export": cmd_export, "request": cmd_request, "status": cmd_status}


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = parser().parse_args(argv)
    base, token = os.environ.get("BREAKGLASS_URL", ""), os.environ.get("BREAKGLASS_TOKEN", "")
    if not base.startswith(("https://", "http://")) or not token:
        err.write("set BREAKGLASS_URL (https://...) and BREAKGLASS_TOKEN (an API token, bgp_...)\n")
        return 2
    try:
        COMMANDS[args.command](Client(base, token), args, out)
    except ApiError as error:
        err.write(f"{error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
