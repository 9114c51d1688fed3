"""The Translate tab's work: uploaded images through a pix2pix/CycleGAN (or any
image-to-image) run folder, model folder or checkpoint, via :func:`gst_core.apply.translate`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gst_core.apply.network_source import open_networks
from gst_core.apply.translate import DIRECTIONS, direction_notice, translate
from gst_core.errors import GstError
from gst_core.ui.uploads import check_uploads
from gst_core.ui.workspace import Workspace

__all__ = ["Translated", "model_path", "translate_uploads"]

#: How the page asks for B → A (the Direction control), in the notice `gst translate` prints.
SWITCH = "choose B → A under Direction"


@dataclass
class Translated:
    """The PNGs written, and what the page should say about the direction (or None)."""

    written: list[Path] = field(default_factory=list)
    notice: str | None = None

    def __iter__(self) -> Iterator[Path]:
        return iter(self.written)

    def __len__(self) -> int:
        return len(self.written)

    def __getitem__(self, index: int) -> Path:
        return self.written[index]


def model_path(model: str | os.PathLike[str] | None, what: str = "a model") -> Path:
    """The model field's value as an existing path, or a message saying what to give."""
    if model is None or not str(model).strip():
        raise GstError(f"choose {what}: a run folder, model folder or checkpoint file")
    path = Path(str(model).strip()).expanduser()
    if not path.exists():
        raise GstError(
            f"{str(path)!r} does not exist; give a run folder, model folder or checkpoint file"
        )
    return path


def translate_uploads(
    workspace: Workspace,
    model: str | os.PathLike[str] | None,
    images: Sequence[str | Path] | None,
    *,
    direction: str = "a2b",
    size: int | None = None,
    device: str | torch.device = "cpu",
) -> Translated:
    """Every uploaded image translated (any size, tiled when big); the PNGs written.

    A two-way (CycleGAN) model run A → B comes with the notice ``gst translate`` prints when
    it picks that default: the page's Direction starts at A → B, so the user may not have
    chosen it."""
    path = model_path(model)
    if direction not in DIRECTIONS:
        raise GstError(f"direction must be a2b or b2a, got {direction!r}")
    if isinstance(size, float) and size.is_integer():
        size = int(size)
    sources = check_uploads(images, "one or more images to translate")
    names = [p.stem for p in sources]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GstError(f"several uploads are named {', '.join(repeated)}; rename one")
    source = open_networks(path, device=device)  # read once; a model folder is rebuilt from it
    notice = direction_notice(source, None if direction == "a2b" else direction, switch=SWITCH)
    result = translate(
        source.state if source.state is not None else path,
        sources,
        workspace.job_folder("translate"),
        direction=direction,
        size=size,
        device=device,
        progress=False,
    )
    return Translated(list(result.written), notice)
