"""`gst ui [--host 127.0.0.1] [--port N] [--share]`: the local web app (the ``ui`` extra)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from gst_core.cli.threads import add_threads_option
from gst_core.errors import GstError
from gst_core.runtime.option_checks import check_option, resolve_device

MISSING = "gst ui needs Gradio, which is not installed: pip install 'gst-toolkit[ui]'"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="a local web app: stylize, translate, sample and watch runs in the browser",
        description="Serve a web page (Gradio) with the Stylize, Translate, Sample and Runs "
        "tabs. Uploads and results live in a temporary folder, removed on exit; download what "
        "you keep. Needs the ui extra: pip install 'gst-toolkit[ui]'.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: the network)",
    )
    parser.add_argument("--port", type=int, help="port (default: Gradio's, 7860 or the next free)")
    parser.add_argument(
        "--share", action="store_true", help="also ask Gradio for a public link (off by default)"
    )
    parser.add_argument(
        "--runs", default="runs", metavar="ROOT", help="folder of run folders (default: runs)"
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default auto)")
    add_threads_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("gradio") is None:
        raise GstError(MISSING)
    check_option(args.port, "an integer", "--port", source="gst ui", minimum=1, optional=True)
    if args.port is not None and args.port > 65535:
        raise GstError(f"--port must be at most 65535, got {args.port}")
    device = str(resolve_device(args.device))
    from gst_core.ui.workspace import Workspace

    workspace = Workspace()
    # Gradio keeps uploads where this says, read when it is imported: in the workspace too.
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.uploads)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no network at run time
    try:
        from gst_core.ui.app import launch

        print(f"gst: ui on {device}; uploads and results in {workspace.root}", file=sys.stderr)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"gst: warning: listening on {args.host}: anyone who can reach this machine "
                "can use the page (and its --runs folder)",
                file=sys.stderr,
            )
        launch(
            workspace,
            host=args.host,
            port=args.port,
            share=args.share,
            runs_root=args.runs,
            device=device,
        )
    finally:
        workspace.remove()
    return 0
