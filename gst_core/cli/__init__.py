"""The `gst` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``add_parser(subparsers)``,
which sets ``func=run`` where ``run(args) -> int`` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from gst_core.errors import GstError
from gst_core.training import distributed

# Modules under gst_core.cli, one per subcommand, in the order `gst --help` lists them.
SUBCOMMANDS = [
    "plugins",
    "bench",
    "stylize",
    "train",
    "sample",
    "translate",
    "export",
    "import_model",
    "eval",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gst",
        description="GANs and neural style transfer from registered, pluggable parts.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"gst_core.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # A subcommand that sets takes_extra (train) gets the flags it does not know as
    # args.extra, to hand to a plugin (an objective's own flags); the others reject them.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        python_format, warnings.formatwarning = warnings.formatwarning, _format_warning
        try:
            return int(args.func(args) or 0)
        finally:
            warnings.formatwarning = python_format  # main() may be called from Python too
    except GstError as exc:
        # Our own errors already say what to do; a traceback would bury that. Under torchrun
        # an error every process meets is shown once, by rank 0.
        if distributed.should_report(exc):
            print(f"gst: error{distributed.rank_tag()}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gst: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not distributed.peer_failed(exc):
            raise
        print(
            f"gst: stopped{distributed.rank_tag()}: another process of this run failed "
            "(its message is above)",
            file=sys.stderr,
        )
        return 1
    finally:
        # Leaving the process group lets the other processes fail fast instead of waiting.
        distributed.teardown()


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """A warning as one line a user reads (``gst: warning: ...``), not Python's file, line
    number and source line: the message already says what happened and what to do."""
    return f"gst: warning{distributed.rank_tag()}: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
