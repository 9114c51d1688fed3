"""The ``gst`` console script: ``gst_core.cli.main`` behind a guard for Ctrl-C in the imports.

Importing gst_core loads torch (seconds on a cold disk); a Ctrl-C then would end in a
KeyboardInterrupt traceback from the console-script wrapper, before gst_core.cli.main can
catch anything. This module imports nothing heavy, so it can: one line, exit status 130.
It sits outside gst_core because importing any gst_core module runs gst_core/__init__.py.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from gst_core.cli import main as gst_main
    except KeyboardInterrupt:
        print("gst: interrupted", file=sys.stderr)
        return 130
    return gst_main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
