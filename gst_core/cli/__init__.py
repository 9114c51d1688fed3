"""The `gst` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``add_parser(subparsers)``,
which sets ``func=run`` where ``run(args) -> int`` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from gst_core.cli.threads import apply_threads
from gst_core.errors import GstError
from gst_core.training import distributed
from gst_core.training.stop_signals import Terminated, raise_terminated

# Modules under gst_core.cli, one per subcommand, in the order `gst --help` lists them.
SUBCOMMANDS = [
    "plugins",
    "bench",
    "stylize",
    "train",
    "sample",
    "translate",
    "export",
    "publish",
    "import_model",
    "eval",
    "ui",
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
    # SIGTERM (SLURM, Kubernetes) ends any command as Ctrl-C does, with a line and no
    # traceback; `gst train` replaces this with a stop that writes a checkpoint.
    previous_term = _handle_sigterm()
    try:
        python_format, warnings.formatwarning = warnings.formatwarning, _format_warning
        try:
            apply_threads(args)
            status = int(args.func(args) or 0)
            sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
            return status
        finally:
            warnings.formatwarning = python_format  # main() may be called from Python too
    except GstError as exc:
        # Our own errors already say what to do; a traceback would bury that. Under torchrun
        # an error every process meets is shown once, by rank 0.
        if distributed.should_report(exc):
            print(f"gst: error{distributed.rank_tag()}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `gst plugins list | head -2`: the reader has all it wanted. Point stdout at devnull
        # so that Python's own flush at exit does not raise again (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Terminated:
        print("gst: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("gst: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if distributed.timed_out(exc):
            print(
                f"gst: error{distributed.rank_tag()}: a collective operation timed out waiting "
                f"for another process of this run ({str(exc).splitlines()[0][:200]}); look "
                "at the process that stopped, or raise [train.distributed] timeout",
                file=sys.stderr,
            )
            return 1
        if not distributed.peer_failed(exc):
            raise
        print(
            f"gst: stopped{distributed.rank_tag()}: another process of this run failed "
            "(its message is above)",
            file=sys.stderr,
        )
        return 1
    finally:
        if previous_term is not _NOT_INSTALLED:
            signal.signal(signal.SIGTERM, previous_term)
        # Leaving the process group lets the other processes fail fast instead of waiting.
        distributed.teardown()


_NOT_INSTALLED = object()


def _handle_sigterm() -> object:
    """Install the SIGTERM handler (main thread only); the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return _NOT_INSTALLED
    return signal.signal(signal.SIGTERM, raise_terminated)


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """A warning as one line a user reads (``gst: warning: ...``), not Python's file, line
    number and source line: the message already says what happened and what to do."""
    return f"gst: warning{distributed.rank_tag()}: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
