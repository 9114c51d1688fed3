"""The web app's scratch space: one temporary folder for every upload and result.

Nothing the app does writes anywhere else; a user keeps a result by downloading it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

__all__ = ["Workspace"]


class Workspace:
    """A temporary folder (``root``, made when None) with a fresh subfolder per job."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gst-ui-") if root is None else root)
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def uploads(self) -> Path:
        """Where the web framework keeps uploaded files (``GRADIO_TEMP_DIR``)."""
        return self.root / "uploads"

    def job_folder(self, label: str) -> Path:
        """A new, empty folder for one job's results: two jobs never share file names."""
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.root))

    def contains(self, path: str | Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
