"""`gst plugins list|check`: what is installed, and whether it loads."""

from __future__ import annotations

import argparse
import json
import sys

from gst_core.cli import plugin_report
from gst_core.cli.table import format_table
from gst_core.kinds import KINDS, registry
from gst_core.runtime.option_checks import check_option

HEADERS = ("kind", "name", "distribution", "version", "status", "target")
TIMEOUT_ARGS = ("--timeout",)
TIMEOUT_OPTIONS = {
    "type": float,
    "default": plugin_report.DEFAULT_TIMEOUT,
    "metavar": "SECONDS",
    "help": "how long one component may take to import in the load check before it is "
    f"reported as hanging (default {plugin_report.DEFAULT_TIMEOUT:g})",
}


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
    listing.add_argument(*TIMEOUT_ARGS, **TIMEOUT_OPTIONS)
    listing.set_defaults(func=run_list)

    showing = verbs.add_parser(
        "show", help="one component: its signature and defaults, docstring and distribution"
    )
    showing.add_argument("name", help="a component name, e.g. dcgan, fast_style, hinge")
    showing.add_argument("--kind", help=f"only this kind ({', '.join(KINDS)})")
    showing.set_defaults(func=run_show)

    checking = verbs.add_parser(
        "check", help="import every component; exit 1 if any fails, printing each cause"
    )
    checking.add_argument("--kind", help=f"only this kind ({', '.join(KINDS)})")
    checking.add_argument(*TIMEOUT_ARGS, **TIMEOUT_OPTIONS)
    checking.set_defaults(func=run_check)


def _kind(args: argparse.Namespace) -> str | None:
    return registry(args.kind).kind if args.kind else None


def _with_load_status(kind: str | None, timeout: float) -> list[plugin_report.ComponentRow]:
    """The metadata rows, with each component's load status from the child-process check."""
    rows = plugin_report.rows(kind)
    try:
        probed = plugin_report.probe_in_subprocess(kind, timeout=timeout)
    except plugin_report.ProbeError as exc:
        # The metadata listing is still right; only the load status is unknown.
        print(f"gst: warning: {exc}", file=sys.stderr)
        probed = {}
        for row in rows:
            if row.status == "not loaded":
                row.status = "unknown"
    for row in rows:
        found = probed.get((row.kind, row.name))
        if found is not None:
            row.status, row.error = found["status"], found["error"]
    return rows


def run_list(args: argparse.Namespace) -> int:
    kind = _kind(args)
    if args.no_load:
        rows = plugin_report.rows(kind)
        for row in rows:
            if row.status == "not loaded":
                row.status = "not checked"
    else:
        rows = _with_load_status(kind, _timeout(args))
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


def run_show(args: argparse.Namespace) -> int:
    from gst_core.cli.plugin_show import describe, find

    texts = [describe(kind, args.name) for kind, _ in find(args.name, args.kind)]
    print("\n\n".join(texts))
    return 0


def run_check(args: argparse.Namespace) -> int:
    rows = _with_load_status(_kind(args), _timeout(args))
    failed = [r for r in rows if r.status != "ok"]
    for r in rows:
        mark = "ok  " if r.status == "ok" else "FAIL"
        print(f"{mark} {r.kind} {r.name} ({r.distribution} {r.version}, {r.target})")
        if r.status != "ok":
            print(f"     {r.error}")
    print(f"\n{len(rows) - len(failed)} loaded, {len(failed)} failed")
    return 1 if failed else 0


def _timeout(args: argparse.Namespace) -> float:
    return check_option(args.timeout, "a number", "--timeout", source="gst plugins", minimum=0.1)
