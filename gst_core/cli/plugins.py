"""`gst plugins list|check`: what is installed, and whether it loads."""

from __future__ import annotations

import argparse
import json
import sys

from gst_core import plugin_report
from gst_core.cli.table import format_table
from gst_core.kinds import KINDS, registry

HEADERS = ("kind", "name", "distribution", "version", "status", "target")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="list and check installed components")
    verbs = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = verbs.add_parser("list", help="list every registered component")
    listing.add_argument("--kind", help=f"only this kind ({', '.join(KINDS)})")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument(
        "--no-load",
        action="store_true",
        help="read metadata only; skip the load check (which runs in a child process)",
    )
    listing.set_defaults(func=run_list)

    checking = verbs.add_parser(
        "check", help="import every component; exit 1 if any fails, printing each cause"
    )
    checking.add_argument("--kind", help=f"only this kind ({', '.join(KINDS)})")
    checking.set_defaults(func=run_check)


def _kind(args: argparse.Namespace) -> str | None:
    return registry(args.kind).kind if args.kind else None


def run_list(args: argparse.Namespace) -> int:
    kind = _kind(args)
    rows = plugin_report.rows(kind)
    if args.no_load:
        for row in rows:
            if row.status == "not loaded":
                row.status = "not checked"
    else:
        try:
            probed = plugin_report.probe_in_subprocess(kind)
        except plugin_report.ProbeError as exc:
            # The metadata listing is still right; only the load status is unknown.
            print(f"gst: warning: {exc}", file=sys.stderr)
            probed = {}
            for row in rows:
                if row.status == "not loaded":
                    row.status = "unknown"
        for row in rows:
            found = probed.get((row.kind, row.name, row.target))
            if found is not None:
                row.status, row.error = found["status"], found["error"]
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        return 0
    if not rows:
        print("no components installed")
        return 0
    print(format_table(HEADERS, [[getattr(r, h) for h in HEADERS] for r in rows]))
    broken = [r for r in rows if r.status in ("broken", "conflict")]
    if broken:
        print(f"\n{len(broken)} component(s) cannot be used; `gst plugins check` shows why.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    rows = plugin_report.check(_kind(args))
    failed = [r for r in rows if r.status != "ok"]
    for r in rows:
        mark = "ok  " if r.status == "ok" else "FAIL"
        print(f"{mark} {r.kind} {r.name} ({r.distribution} {r.version}, {r.target})")
        if r.status != "ok":
            print(f"     {r.error}")
    print(f"\n{len(rows) - len(failed)} loaded, {len(failed)} failed")
    return 1 if failed else 0
