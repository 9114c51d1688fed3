import sys

from gst_core.cli import main

sys.exit(main())
