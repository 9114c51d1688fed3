"""The Hugging Face Hub, through ``huggingface_hub`` (the ``hub`` extra): push and fetch folders.

``huggingface_hub`` itself honours ``HF_HUB_OFFLINE``, ``HF_HOME`` and its
local cache; gst only turns its failures into one-line messages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gst_core.errors import GstError

__all__ = ["HubError", "download", "push", "require_hub"]

_EXTRA = "the Hugging Face Hub needs the hub extra: pip install 'gst-toolkit[hub]'"


class HubError(GstError, RuntimeError):
    """The Hub could not be reached, the repo is unknown, or huggingface_hub is missing."""


def require_hub() -> Any:
    try:
        import huggingface_hub
    except ImportError as exc:
        raise HubError(_EXTRA) from exc
    return huggingface_hub


def download(repo_id: str, *, revision: str | None = None) -> Path:
    """The local folder of ``repo_id`` (downloaded, or from the cache when offline)."""
    hub = require_hub()
    try:
        return Path(hub.snapshot_download(repo_id, revision=revision))
    except Exception as exc:  # offline without a cached copy, unknown repo, network down
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        hint = (
            "HF_HUB_OFFLINE is set and it is not in the local cache: download it once online"
            if offline
            else "check the name and your connection (or set HF_HUB_OFFLINE=1 to use the cache)"
        )
        raise HubError(
            f"{repo_id!r} is no local path, and fetching it from the Hugging Face Hub failed "
            f"({type(exc).__name__}); {hint}"
        ) from exc


def push(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False) -> str:
    """Upload a model folder to the Hub repo ``repo_id`` (created if needed); its URL."""
    hub = require_hub()
    api = hub.HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id)
    except Exception as exc:  # no token, no network, no permission
        raise HubError(
            f"could not push {str(folder)!r} to {repo_id!r} ({type(exc).__name__}: {exc}); "
            "log in with `huggingface-cli login` and check the repo name; the folder is kept"
        ) from exc
    return f"https://huggingface.co/{repo_id}"
