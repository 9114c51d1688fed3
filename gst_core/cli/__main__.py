"""``python -m gst_core.cli``: the ``gst`` command (``torchrun ... -m gst_core.cli train``)."""

import sys

from gst_core.cli import main

sys.exit(main())
