"""FID/KID during training: measured every N steps against a held-out real set.

::

    held_out = ProceduralShapes(image_size=32, per_class=100, seed=1)
    Trainer(objective, data, {"steps": 3000, "run_dir": "runs/x"},
            callbacks=[MetricCallback(held_out, every=500, metrics=("fid", "kid"))]).fit()

Every ``every`` steps (and at the last step) the callback draws ``count``
samples from the generator (its EMA copy once that has been updated), always
from the same latents so that successive values differ by the model, not by
the draw, and measures them against the real set's features, computed once
at the start. The values:

* go to ``<run_dir>/metrics.jsonl`` as their own line ``{"step", "fid", "kid", "kid_std"}``;
* appear in the progress bar after the losses;
* go to TensorBoard (``metrics/fid``, ...) when a :class:`TensorBoardLogger` is running;
* keep ``<run_dir>/checkpoints/best.pt``: the checkpoint with the lowest
  ``best_metric`` so far, written atomically, with ``best.json`` beside it
  (so a resumed run only replaces it with a better one).

The real set is a folder of images, a map-style dataset whose items are an
image in ``[-1, 1]`` or ``(image, label)`` (the GAN datasets), or a tensor of
images in ``[-1, 1]``. Measuring costs ``count`` generator and extractor
forward passes; on a CPU keep ``count`` to a few hundred and ``every`` large.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from gst_core.atomic_file import atomic_write
from gst_core.metrics.errors import MetricError
from gst_core.metrics.extract import (
    folder_features,
    generated_batches,
    images_features,
    resolve_extractor,
)
from gst_core.metrics.frechet import FeatureStats, frechet_distance
from gst_core.metrics.kernel import SmallSampleWarning, kernel_distance
from gst_core.training.callbacks import Callback, ProgressBar, TensorBoardLogger, TrainerView

if TYPE_CHECKING:
    from gst_core.interfaces import FeatureExtractor

__all__ = ["MetricCallback"]

METRICS = ("fid", "kid")


def _real_batches(real: Any, batch_size: int) -> tuple[Iterator[Tensor], int]:
    """Batches in [0, 1] from a tensor or dataset of [-1, 1] images."""
    if isinstance(real, Tensor):
        images = real
        n = len(images)
        return (((images[i : i + batch_size].float() + 1) / 2) for i in range(0, n, batch_size)), n
    if not hasattr(real, "__len__") or not hasattr(real, "__getitem__"):
        raise MetricError(
            f"the real set must be a folder, a tensor of images or a map-style dataset, "
            f"got {type(real).__name__}"
        )
    n = len(real)

    def batches() -> Iterator[Tensor]:
        for start in range(0, n, batch_size):
            indices = list(range(start, min(start + batch_size, n)))
            if hasattr(real, "get_batch"):
                batch = real.get_batch(indices)
            else:
                items = [real[i] for i in indices]
                batch = torch.stack([i[0] if isinstance(i, tuple | list) else i for i in items])
            if isinstance(batch, tuple | list):
                batch = batch[0]
            yield (batch.float() + 1) / 2

    return batches(), n


class MetricCallback(Callback):
    """FID and/or KID of the generator against ``real`` every ``every`` steps.

    Args:
        real: held-out real images (folder, dataset or tensor; see the module docstring).
        every: steps between measurements (the last step is always measured).
        metrics: any of ``"fid"``, ``"kid"``.
        count: generated samples per measurement.
        extractor: a ``feature_extractor`` name (``"fid_auto"``: inception when its weights
            are found, else ``random_pool``) or a built extractor.
        best_metric: the metric ``checkpoints/best.pt`` minimises (``None``: keep no best).
        network: the generator's name in the objective's networks.
        batch_size, seed: sampling batch size and latent seed.
        kid_subsets, kid_subset_size: as :func:`~gst_core.metrics.kernel_distance`.
        weights: weights file for the extractor (inception).
    """

    def __init__(
        self,
        real: str | Path | Any,
        every: int = 1000,
        *,
        metrics: Sequence[str] = ("fid",),
        count: int = 1000,
        extractor: str | FeatureExtractor = "fid_auto",
        best_metric: str | None = "fid",
        network: str = "generator",
        batch_size: int = 100,
        seed: int = 0,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        weights: str | Path | None = None,
    ) -> None:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown or not metrics:
            raise MetricError(f"metrics must be some of {list(METRICS)}, got {list(metrics)}")
        if best_metric is not None and best_metric not in metrics:
            raise MetricError(
                f"best_metric {best_metric!r} is not measured; choose one of {list(metrics)} "
                "or None"
            )
        if every < 1 or count < 2:
            raise MetricError(f"every must be >= 1 and count >= 2, got {every} and {count}")
        self.real = real
        self.every = every
        self.metrics = tuple(metrics)
        self.count = count
        self.extractor_spec = extractor
        self.best_metric = best_metric
        self.network = network
        self.batch_size = batch_size
        self.seed = seed
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.weights = weights
        self.extractor: FeatureExtractor | None = None
        self.real_features: Tensor | None = None
        self.real_stats: FeatureStats | None = None
        self.latest: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self.best: dict[str, Any] | None = None

    #: ``[train]`` options read by :meth:`from_config`, with their defaults.
    OPTIONS: dict[str, Any] = {
        "fid_every": 0,  # steps between measurements; 0: no metrics during training
        "fid_real": None,  # held-out real images: a folder
        "fid_metrics": ["fid"],  # any of "fid", "kid"
        "fid_count": 1000,  # generated samples per measurement
        "fid_extractor": "fid_auto",  # a feature_extractor name
        "best_metric": "fid",  # what checkpoints/best.pt minimises; "" for none
    }

    train_options = tuple(OPTIONS)

    @classmethod
    def from_config(cls, config: Any) -> MetricCallback | None:
        """The callback a run's ``[train]`` options ask for (``None`` when ``fid_every`` is 0).

        ``config`` is a :class:`~gst_core.training.config.TrainConfig` (or any object or
        mapping) with the :attr:`OPTIONS` fields.
        """

        def get(name: str) -> Any:
            if isinstance(config, Mapping):
                return config.get(name, cls.OPTIONS[name])
            return getattr(config, name, cls.OPTIONS[name])

        every = get("fid_every")
        if not every:
            return None
        if not get("fid_real"):
            raise MetricError(
                f"[train] fid_every = {every} needs fid_real, a folder of held-out real images "
                "to measure against"
            )
        return cls(
            get("fid_real"),
            every=int(every),
            metrics=tuple(get("fid_metrics")),
            count=int(get("fid_count")),
            extractor=get("fid_extractor"),
            best_metric=get("best_metric") or None,
        )

    # -- set-up ------------------------------------------------------------

    def on_fit_start(self, trainer: TrainerView) -> None:
        if self.network not in trainer.networks:
            raise MetricError(
                f"MetricCallback measures the network {self.network!r}, but this objective's "
                f"networks are {sorted(trainer.networks)}; pass network=..."
            )
        if self.extractor is None:
            self.extractor, _ = resolve_extractor(self.extractor_spec, weights=self.weights)
            self.extractor.to(trainer.device)
        if self.real_features is None:
            if isinstance(self.real, str | Path):
                features = folder_features(
                    self.real, self.extractor, batch_size=self.batch_size, progress=False
                ).features
            else:
                batches, n = _real_batches(self.real, self.batch_size)
                features = images_features(
                    batches, self.extractor, total=n, desc="real", progress=False
                )
            if features.shape[0] < 2:
                raise MetricError("the held-out real set needs at least 2 images")
            self.real_features = features
            self.real_stats = FeatureStats().update(features)
        if "kid" in self.metrics:
            available = min(self.count, self.real_features.shape[0])
            if available < self.kid_subset_size:
                # Said once here rather than at every measurement.
                warnings.warn(
                    f"KID subset_size={self.kid_subset_size} but each measurement has "
                    f"{self.count} generated and {self.real_features.shape[0]} real samples; "
                    f"using subsets of {available}",
                    SmallSampleWarning,
                    stacklevel=2,
                )
                self.kid_subset_size = available
        best_json = self._best_json(trainer)
        if best_json is not None and best_json.is_file() and self.best is None:
            saved = json.loads(best_json.read_text())
            if saved.get("metric") == self.best_metric:
                self.best = saved

    # -- measuring ----------------------------------------------------------

    def _generator(self, trainer: TrainerView) -> torch.nn.Module:
        ema = trainer.ema.get(self.network)
        if ema is not None and int(ema.n_averaged) > 0:
            return ema.module
        return trainer.networks[self.network]

    def measure(self, trainer: TrainerView) -> dict[str, float]:
        """FID/KID of the generator now (see the module docstring)."""
        assert self.extractor is not None and self.real_features is not None
        generator = self._generator(trainer)
        was_training = generator.training
        generator.eval()
        try:
            fake = images_features(
                generated_batches(
                    generator,  # type: ignore[arg-type]
                    self.count,
                    batch_size=self.batch_size,
                    seed=self.seed,
                ),
                self.extractor,
                total=self.count,
                progress=False,
            )
        finally:
            generator.train(was_training)
        values: dict[str, float] = {}
        if "fid" in self.metrics:
            values["fid"] = frechet_distance(self.real_stats, fake)
        if "kid" in self.metrics:
            mean, std = kernel_distance(
                self.real_features,
                fake,
                subsets=self.kid_subsets,
                subset_size=self.kid_subset_size,
                seed=self.seed,
            )
            values["kid"], values["kid_std"] = mean, std
        return values

    def on_step_end(self, trainer: TrainerView, step: int, metrics: Mapping[str, Tensor]) -> None:
        if step % self.every and step != trainer.config.steps:
            return
        values = self.measure(trainer)
        self.latest = values
        self.history.append({"step": step, **values})
        if trainer.run_dir is not None:
            path = trainer.run_dir / "metrics.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as f:
                f.write(json.dumps({"step": step, **values}) + "\n")
        for cb in trainer.callbacks:
            if isinstance(cb, TensorBoardLogger) and cb.writer is not None:
                for key, value in values.items():
                    cb.writer.add_scalar(f"metrics/{key}", value, step)
            if isinstance(cb, ProgressBar) and cb.bar is not None:
                cb.bar.set_postfix(self._postfix({}), refresh=False)
        if self.best_metric is not None:
            self._keep_best(trainer, step, values[self.best_metric])

    def on_log(self, trainer: TrainerView, step: int, metrics: Mapping[str, float]) -> None:
        # The progress bar's own on_log has just replaced its postfix with the losses.
        if not self.latest:
            return
        for cb in trainer.callbacks:
            if isinstance(cb, ProgressBar) and cb.bar is not None:
                cb.bar.set_postfix(self._postfix(metrics), refresh=False)

    def _postfix(self, losses: Mapping[str, float]) -> dict[str, str]:
        shown = {k: f"{v:.3g}" for k, v in losses.items()}
        shown.update({k: f"{v:.4g}" for k, v in self.latest.items() if k != "kid_std"})
        return shown

    # -- the best checkpoint -----------------------------------------------

    def _best_json(self, trainer: TrainerView) -> Path | None:
        return trainer.run_dir / "checkpoints" / "best.json" if trainer.run_dir else None

    def _keep_best(self, trainer: TrainerView, step: int, value: float) -> None:
        if not math.isfinite(value):
            return
        if self.best is not None and value >= float(self.best["value"]):
            return
        self.best = {"metric": self.best_metric, "value": value, "step": step}
        best_json = self._best_json(trainer)
        if best_json is None:
            return
        trainer.save_checkpoint(best_json.with_name("best.pt"))
        with atomic_write(best_json) as f:
            f.write((json.dumps(self.best) + "\n").encode())
