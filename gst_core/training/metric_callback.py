"""FID/KID/PRDC and a mode-collapse watch during training, every N steps, on held-out reals.

::

    held_out = ProceduralShapes(image_size=32, per_class=100, seed=1)
    Trainer(objective, data, {"steps": 3000, "run_dir": "runs/x"},
            callbacks=[MetricCallback(held_out, every=500, metrics=("fid", "kid"))]).fit()

Every ``every`` steps (and at the last step) the callback draws ``count``
samples from the generator (its EMA copy once that has been updated), always
from the same latents so that successive values differ by the model, not by
the draw, and measures them against the real set's features, computed once
at the start. The values:

* go to ``<run_dir>/metrics.jsonl`` as their own line ``{"step", "fid", "kid", "kid_std",
  "precision", "recall", "density", "coverage", "spread", "collapse"}``;
* appear in the progress bar after the losses;
* go to TensorBoard (``metrics/fid``, ...) when a :class:`TensorBoardLogger` is running;
* keep ``<run_dir>/checkpoints/best.pt``: the checkpoint with the lowest
  ``best_metric`` so far, written atomically, with ``best.json`` beside it
  (so a resumed run only replaces it with a better one).

**Mode collapse.** Every measurement also records ``spread``: the mean distance of the
generated samples to their centroid in feature space, as a share of the real set's, and
with ``"prdc"`` ``modes`` and ``mode_peak`` (:mod:`gst_core.metrics.modes`): the real
features are split into modes once (the data's separate components where it falls apart
into them, else ``√(N/2)`` k-means bins; ``mode_clusters`` asks for that many k-means
clusters), and ``modes`` is the share of them the samples reach (inside a real k-NN ball,
with at least a tenth of the samples a real batch puts there); ``mode_peak`` is the top
mode's sample share over its real share. The callback warns in one line naming the
step and what to try, and records ``"collapse": true``, when

* ``spread`` stays below ``collapse_spread`` (default 0.5) at two measurements in a row
  without widening (the samples bunch up), or
* fewer modes are reached than a batch of as many samples drawn like the reals reaches
  (:func:`~gst_core.metrics.modes.expected_modes`) at two measurements in a row: modes
  are missing, lost or never reached. With ``collapse_modes = "auto"`` (the default), where
  the modes are the data's separate components: fewer than a real batch reaches but 1
  time in 100 (one mode short, when a real batch reaches them all); where they are
  k-means bins: under 0.65 of a real batch's share (bins at a mode's edge go
  unreached when a generator fills its modes tightly, so a few missing bins are not a
  lost mode); a number sets that share for both; or
* a class of a conditional generator is not covered at all.

Counting clusters rather than covered points, because coverage also falls when a
generator fills each mode more tightly than the data (its tails' reals are not covered)
without dropping any: on the ring benchmark, runs with all 8 modes ended at coverage
0.45-0.66. Two coverage rules remain as options, off by default: ``collapse_coverage``
(coverage below that share of its best so far, twice running) and ``collapse_floor``
(precision at least 0.5 but coverage below that share of a matching generator's,
:func:`~gst_core.metrics.prdc.expected_coverage`, twice running). Measure as many
samples as there are held-out reals (the references assume the count measured).

No warning is given in the first ``collapse_warmup`` steps (default: a tenth of the run),
while the generator is still near its initial, narrow output. A conditional generator
also gets per-class recall (``recall_class_<k>``), so a class it dropped is named.

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
from typing import TYPE_CHECKING, Any, Literal

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
from gst_core.metrics.modes import (
    RealModes,
    chance_of_at_most,
    mode_coverage,
    reach_probabilities,
    real_modes,
)
from gst_core.metrics.prdc import (
    expected_coverage,
    feature_spread,
    per_class_recall,
    prdc,
)
from gst_core.training.callbacks import Callback, ProgressBar, TensorBoardLogger, TrainerView

if TYPE_CHECKING:
    from gst_core.interfaces import FeatureExtractor

__all__ = ["MetricCallback"]

METRICS = ("fid", "kid", "prdc")
# The "auto" mode rule on k-means bins: on the ring benchmark, runs reaching all 8 modes
# left up to 27% of the 22 bins unreached (their modes filled tighter than the data).
AUTO_BIN_SHARE = 0.65
# The "auto" rule on separate modes: fewer reached than a real batch reaches this rarely.
AUTO_MODE_CHANCE = 0.01

COLLAPSE_ADVICE = (
    "try a hinge or wasserstein loss with gradient_penalty, [objective] instance_noise = 0.1, "
    "or minibatch_std = true on the discriminator (docs/gan.md, 'Mode collapse')"
)


class CollapseWarning(UserWarning):
    """The generator's samples are contracting in feature space (see MetricCallback)."""


def _real_labels(real: Any) -> Tensor | None:
    """The class of every item of a labelled map-style dataset, else ``None``."""
    if isinstance(real, Tensor | str | Path) or not int(getattr(real, "num_classes", 0) or 0):
        return None
    labels = []
    for i in range(len(real)):
        item = real[i]
        if not isinstance(item, tuple | list) or len(item) != 2:
            return None
        labels.append(int(item[1]))
    return torch.tensor(labels)


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
        metrics: any of ``"fid"``, ``"kid"``, ``"prdc"`` (precision, recall, density, coverage).
        count: generated samples per measurement.
        extractor: a ``feature_extractor`` name (``"fid_auto"``: inception when its weights
            are found, else ``random_pool``) or a built extractor.
        best_metric: the metric ``checkpoints/best.pt`` minimises (``None``: keep no best).
        network: the generator's name in the objective's networks.
        batch_size, seed: sampling batch size and latent seed.
        kid_subsets, kid_subset_size: as :func:`~gst_core.metrics.kernel_distance`.
        weights: weights file for the extractor (inception).
        prdc_k: the k of the k-NN balls of precision/recall/density/coverage.
        collapse_spread: warn when the samples' spread falls below this share of the reals'.
        collapse_coverage: warn when coverage stays below this share of its best so far
            (with ``"prdc"``; see the module docstring).
        collapse_floor: warn when coverage stays below this share of a matching
            generator's while precision is at least 0.5.
        collapse_modes: warn when fewer modes are reached than a real batch reaches
            (``"auto"``: fewer separate modes than a real batch reaches but 1 time in 100,
            under 0.65 of its share of k-means bins; a number: under that share of it
            for both; ``None``: off).
        mode_clusters: split the reals into this many k-means clusters (``None``: their
            separate components when they have them, else ``√(N/2)`` bins).
        collapse_warmup: steps before any collapse warning (``None``: a tenth of the run).
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
        prdc_k: int = 5,
        collapse_spread: float = 0.5,
        collapse_coverage: float | None = None,
        collapse_floor: float | None = None,
        collapse_modes: float | Literal["auto"] | None = "auto",
        mode_clusters: int | None = None,
        collapse_warmup: int | None = None,
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
        if "prdc" in metrics and count <= prdc_k:
            raise MetricError(f"prdc with k={prdc_k} needs count > {prdc_k}, got {count}")
        if best_metric in ("prdc",):
            raise MetricError("best_metric must be fid or kid (prdc is four numbers)")
        if not 0 < collapse_spread < 1:
            raise MetricError(f"collapse_spread must be in (0, 1), got {collapse_spread!r}")
        if collapse_coverage is not None and not 0 < collapse_coverage < 1:
            raise MetricError(f"collapse_coverage must be in (0, 1), got {collapse_coverage!r}")
        if collapse_floor is not None and not 0 < collapse_floor < 1:
            raise MetricError(f"collapse_floor must be in (0, 1) or None, got {collapse_floor!r}")
        if collapse_modes not in (None, "auto") and not (
            isinstance(collapse_modes, float | int) and 0 < collapse_modes < 1
        ):
            raise MetricError(
                f'collapse_modes must be in (0, 1), "auto" or None, got {collapse_modes!r}'
            )
        if mode_clusters is not None and (not isinstance(mode_clusters, int) or mode_clusters < 2):
            raise MetricError(
                f"mode_clusters must be an integer >= 2 or None, got {mode_clusters!r}"
            )
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
        self.prdc_k = prdc_k
        self.collapse_spread = collapse_spread
        self.collapse_coverage = collapse_coverage
        self.collapse_floor = collapse_floor
        self.collapse_modes = collapse_modes
        self.mode_clusters = mode_clusters
        self.collapse_warmup = collapse_warmup
        self.real_clusters: RealModes | None = None
        self.mode_reach: list[float] | None = None  # each mode's chance for a real batch
        self.mode_counts: list[int] | None = None  # the last measurement's samples per mode
        self.modes_were_low = False
        self.real_labels: Tensor | None = None
        self.real_spread = 0.0
        self.best_coverage = 0.0
        self.coverage_was_low = False
        self.matched_coverage: float | None = None  # set from the sample counts at the start
        self.coverage_was_under_floor = False
        self.previous_spread: float | None = None
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
        "fid_metrics": ["fid"],  # any of "fid", "kid", "prdc"
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
            self.real_spread = feature_spread(features)
            if not isinstance(self.real, str | Path):
                self.real_labels = _real_labels(self.real)
        if "prdc" in self.metrics:
            n_real = self.real_features.shape[0]
            self.matched_coverage = expected_coverage(n_real, self.count, self.prdc_k)
            if self.real_clusters is None:
                self.real_clusters = real_modes(
                    self.real_features, self.prdc_k, clusters=self.mode_clusters
                )
            self.mode_reach = reach_probabilities(
                self.real_clusters.shares, self.count, self.real_clusters.min_share
            )
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
        self._replay_watch(trainer)

    def _replay_watch(self, trainer: TrainerView) -> None:
        """A resumed run's collapse watch as it stood at the checkpoint: the measurements
        metrics.jsonl holds up to the resumed step are fed through the watch again (without
        warning), so its best coverage and twice-running flags carry over the restart."""
        path = trainer.run_dir / "metrics.jsonl" if trainer.run_dir is not None else None
        if not trainer.step or path is None or not path.is_file():
            return
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill: the measurement after it is not lost
            step = record.get("step") if isinstance(record, dict) else None
            if isinstance(step, int) and step <= trainer.step and "spread" in record:
                self._collapsing(trainer, 0, record)  # step 0: inside any warm-up, no verdict

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
        if "prdc" in self.metrics:
            values.update(
                {
                    k: v
                    for k, v in prdc(self.real_features, fake, self.prdc_k).as_dict().items()
                    if k in ("precision", "recall", "density", "coverage")
                }
            )
            if self.real_clusters is not None:
                reach = mode_coverage(self.real_clusters, fake)
                values["modes"], values["mode_peak"] = reach["modes"], reach["peak"]
                self.mode_counts = reach["counts"]  # samples per mode, for a closer look
            classes = int(getattr(generator, "num_classes", 0) or 0)
            if classes and self.real_labels is not None:
                # generated_batches draws the classes in turn: sample i has class i % classes.
                fake_labels = torch.arange(fake.shape[0]) % classes
                for c, r in per_class_recall(
                    self.real_features, self.real_labels, fake, fake_labels, self.prdc_k
                ).items():
                    values[f"recall_class_{c}"] = r
        values["spread"] = feature_spread(fake) / self.real_spread if self.real_spread else 1.0
        return values

    def _collapsing(self, trainer: TrainerView, step: int, values: Mapping[str, float]) -> str:
        """Why the generator looks collapsed now (empty: it does not)."""
        warmup = self.collapse_warmup
        if warmup is None:
            warmup = trainer.config.steps // 10
        reasons = []
        spread, previous = values["spread"], self.previous_spread
        self.previous_spread = spread
        # Narrow at two measurements in a row and not widening: a generator still spreading
        # out from its narrow initial output (it widens fast) is not collapsing.
        if previous is not None and max(spread, previous) < self.collapse_spread:
            if spread <= previous * 1.05:
                reasons.append(
                    f"its samples spread {spread:.2f}x as widely as the real images in feature "
                    f"space, down from {previous:.2f}x (threshold {self.collapse_spread})"
                    if spread < previous
                    else f"its samples spread only {spread:.2f}x as widely as the real images "
                    f"in feature space (threshold {self.collapse_spread})"
                )
        coverage = values.get("coverage")
        if coverage is not None:
            # Low against the best before this measurement, twice running: a lasting loss.
            low = (
                self.collapse_coverage is not None
                and coverage < self.collapse_coverage * self.best_coverage
            )
            if low and self.coverage_was_low:
                reasons.append(
                    f"coverage of the held-out data fell to {coverage:.2f} from its best "
                    f"{self.best_coverage:.2f} (below {self.collapse_coverage} of it twice "
                    "running): it dropped modes it covered before"
                )
            self.coverage_was_low = low
            self.best_coverage = max(self.best_coverage, coverage)
            matched = self.matched_coverage
            under = (
                matched is not None
                and self.collapse_floor is not None
                and values.get("precision", 0.0) >= 0.5
                and coverage < self.collapse_floor * matched
            )
            if under and self.coverage_was_under_floor:
                reasons.append(
                    f"its samples look real (precision {values['precision']:.2f}) but cover "
                    f"only {coverage:.2f} of the held-out data, under {self.collapse_floor} of "
                    f"the {matched:.2f} a generator matching the data covers (twice running)"
                )
            self.coverage_was_under_floor = under
        modes, matched_modes = values.get("modes"), self.matched_modes
        if modes is not None and matched_modes and self.collapse_modes is not None:
            # Modes of the real data the samples reach, against a real batch's share:
            # counts modes, not how widely each is filled (which moves coverage).
            low = self._modes_low(modes, matched_modes)
            if low and self.modes_were_low:
                reasons.append(self._modes_reason(modes, matched_modes))
            self.modes_were_low = low
        dropped = [
            k.removeprefix("recall_class_")
            for k, v in values.items()
            if k.startswith("recall_class_") and v == 0.0
        ]
        if dropped:
            reasons.append(f"no sample covers class(es) {', '.join(dropped)}")
        return "; ".join(reasons) if step > warmup else ""

    @property
    def matched_modes(self) -> float | None:
        """``modes`` of a real batch of ``count`` samples, on average (``expected_modes``)."""
        return sum(self.mode_reach) / len(self.mode_reach) if self.mode_reach else None

    def _modes_low(self, modes: float, matched: float) -> bool:
        clusters = self.real_clusters
        if self.collapse_modes == "auto":
            if clusters is not None and clusters.separated and self.mode_reach:
                # Fewer modes than a real batch of this size would reach, at the 1% level:
                # one mode short when a real batch reaches all of them.
                reached = round(modes * clusters.count)
                return chance_of_at_most(self.mode_reach, reached) < AUTO_MODE_CHANCE
            return modes < AUTO_BIN_SHARE * matched
        return modes < float(self.collapse_modes) * matched  # type: ignore[arg-type]

    def _modes_reason(self, modes: float, matched: float) -> str:
        clusters = self.real_clusters
        if clusters is None:
            return (
                f"its samples reach only {modes:.2f} of the real data's modes, where a batch "
                f"of real images reaches {matched:.2f} (twice running): modes are missing"
            )
        count, kind = clusters.count, "separate modes" if clusters.separated else "clusters"
        return (
            f"its samples reach only {round(modes * count)} of the real data's {count} {kind}, "
            f"where a batch of real images reaches {matched * count:.1f} (twice running): "
            "modes are missing"
        )

    def on_step_end(self, trainer: TrainerView, step: int, metrics: Mapping[str, Tensor]) -> None:
        if step % self.every and step != trainer.config.steps:
            return
        values = self.measure(trainer)
        why = self._collapsing(trainer, step, values)
        values["collapse"] = bool(why)
        if why:
            warnings.warn(
                f"step {step}: the generator may be collapsing: {why}; {COLLAPSE_ADVICE}",
                CollapseWarning,
                stacklevel=2,
            )
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
                    cb.writer.add_scalar(f"metrics/{key}", float(value), step)
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
        hidden = ("kid_std", "density", "collapse", "spread", "mode_peak")
        shown.update(
            {
                k: f"{v:.4g}"
                for k, v in self.latest.items()
                if k not in hidden and not k.startswith("recall_class_")
            }
        )
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
