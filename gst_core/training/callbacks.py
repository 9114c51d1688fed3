"""Things that happen around training steps: progress, metrics, image grids, TensorBoard.

A callback overrides any of the hooks below. ``on_log`` receives plain
floats every ``log_every`` steps; ``on_step_end`` runs every step with the
raw (tensor) metrics and should stay cheap.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from torch import Tensor
from tqdm.auto import tqdm

from gst_core.atomic_file import atomic_write
from gst_core.images import make_grid, save_image
from gst_core.interfaces import Preview

__all__ = [
    "Callback",
    "ImageGridWriter",
    "MetricsLogger",
    "ProgressBar",
    "TensorBoardLogger",
    "tensorboard_available",
]


class Trainer(Protocol):
    """What a callback may read from the run it watches (the trainer honours this; callbacks
    do not import the trainer, so either can change without the other)."""

    step: int
    run_dir: Path | None
    should_stop: bool

    @property
    def config(self) -> Any: ...  # a TrainConfig: steps, sample_every, ...

    def preview(self, count: int = 64) -> Preview: ...

    def save_checkpoint(self, path: str | Path | None = None) -> Path | None: ...


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_step_end(self, trainer: Trainer, step: int, metrics: Mapping[str, Tensor]) -> None: ...

    def on_log(self, trainer: Trainer, step: int, metrics: Mapping[str, float]) -> None: ...

    def on_checkpoint(self, trainer: Trainer, step: int, path: Path) -> None: ...

    def on_fit_end(self, trainer: Trainer, error: BaseException | None) -> None: ...


def _epoch_text(trainer: Trainer) -> str | None:
    """``epoch 3/200``, for data with a length (what pix2pix/CycleGAN users read)."""
    per_epoch = getattr(trainer, "steps_per_epoch", None)
    if not per_epoch:
        return None
    current = min(trainer.step, trainer.config.steps - 1) // per_epoch + 1
    return f"epoch {current}/{-(-trainer.config.steps // per_epoch)}"


class ProgressBar(Callback):
    """A tqdm bar over the steps, with the latest metrics after it."""

    def __init__(self, **tqdm_kwargs: Any) -> None:
        self.kwargs = tqdm_kwargs
        self.bar: tqdm | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(
            total=trainer.config.steps,
            initial=trainer.step,
            unit="step",
            dynamic_ncols=True,
            desc=_epoch_text(trainer),
            **self.kwargs,
        )

    def on_step_end(self, trainer: Trainer, step: int, metrics: Mapping[str, Tensor]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self._show_epoch(trainer)

    def _show_epoch(self, trainer: Trainer) -> None:
        text = _epoch_text(trainer)
        if self.bar is not None and text:
            self.bar.set_description_str(text, refresh=False)

    def on_log(self, trainer: Trainer, step: int, metrics: Mapping[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()}, refresh=False)

    def on_fit_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class MetricsLogger(Callback):
    """Appends one JSON object per log step to ``metrics.jsonl``: step, wall time, metrics."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.started = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.perf_counter()
        self._truncate_to(trainer.step)

    def _truncate_to(self, step: int) -> None:
        """Drop the lines after ``step``: a run killed after its last checkpoint logged steps
        that the resumed run does again, and a half-written last line."""
        if not self.path.is_file():
            return
        lines = self.path.read_text().splitlines(keepends=True)
        kept = [line for line in lines if _logged_step(line) <= step]
        if len(kept) != len(lines):
            with atomic_write(self.path) as f:
                f.write("".join(kept).encode())

    def on_log(self, trainer: Trainer, step: int, metrics: Mapping[str, float]) -> None:
        record = {"step": step, "seconds": round(time.perf_counter() - self.started, 3), **metrics}
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")

    def on_fit_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if error is not None:
            with self.path.open("a") as f:
                f.write(json.dumps({"step": trainer.step, "error": str(error)}) + "\n")


def _logged_step(line: str) -> float:
    """The step of a metrics line; infinity for a line that is not a complete record."""
    try:
        record = json.loads(line)
    except ValueError:
        return float("inf")
    return record.get("step", float("inf")) if isinstance(record, dict) else float("inf")


class ImageGridWriter(Callback):
    """Saves the objective's preview as a PNG grid every ``every`` steps and at the end."""

    def __init__(self, folder: str | Path, every: int, count: int = 64) -> None:
        self.folder = Path(folder)
        self.every = every
        self.count = count
        self.last: Path | None = None

    def write(self, trainer: Trainer, step: int) -> Path:
        images, nrow = trainer.preview(self.count)
        grid = make_grid((images.float().cpu() + 1) / 2, nrow=nrow)
        self.last = save_image(grid, self.folder / f"step_{step:07d}.png")
        return self.last

    def on_step_end(self, trainer: Trainer, step: int, metrics: Mapping[str, Tensor]) -> None:
        if self.every and step % self.every == 0:
            self.write(trainer, step)

    def on_fit_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if error is None and (
            self.last is None or not self.last.name.endswith(f"{trainer.step:07d}.png")
        ):
            self.write(trainer, trainer.step)


def tensorboard_available() -> bool:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


class TensorBoardLogger(Callback):
    """Scalars and preview grids for TensorBoard (needs the ``tensorboard`` package)."""

    def __init__(self, log_dir: str | Path, image_every: int = 0, count: int = 64) -> None:
        self.log_dir = Path(log_dir)
        self.image_every = image_every
        self.count = count
        self.writer: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            warnings.warn(
                "TensorBoard logging was asked for but the tensorboard package is not "
                "installed (pip install tensorboard); continuing without it",
                stacklevel=2,
            )
            return
        self.writer = SummaryWriter(str(self.log_dir))

    def on_log(self, trainer: Trainer, step: int, metrics: Mapping[str, float]) -> None:
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar(key, value, step)

    def on_step_end(self, trainer: Trainer, step: int, metrics: Mapping[str, Tensor]) -> None:
        if self.writer is not None and self.image_every and step % self.image_every == 0:
            images, nrow = trainer.preview(self.count)
            self.writer.add_image("samples", make_grid((images.float().cpu() + 1) / 2, nrow), step)

    def on_fit_end(self, trainer: Trainer, error: BaseException | None) -> None:
        if self.writer is not None:
            self.writer.close()
