"""The training loop shared by every objective.

Three lines of Python::

    objective = objectives.build("gan", generator=g, discriminator=d, loss=losses.build("hinge"))
    trainer = Trainer(objective, datasets.build("shapes", image_size=32), {"steps": 2000})
    trainer.fit()

The trainer owns what every training method needs: the data stream, the
optimisers, mixed precision (CUDA), the non-finite guard, EMA copies,
callbacks, checkpoints and exact resuming. What one step does is the
:class:`~gst_core.interfaces.Objective`'s business.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from gst_core.apply.compiled import compile_generator, is_compiled
from gst_core.atomic_file import atomic_write, remove_stale_temporaries
from gst_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gst_core.errors import NonFiniteLossError, TrainingSetupError
from gst_core.finite import nonfinite
from gst_core.interfaces import Objective, Preview
from gst_core.runtime.option_checks import check_option, resolve_device
from gst_core.runtime.output_paths import check_output_dir
from gst_core.training import distributed
from gst_core.training.batches import ResumableBatchSampler, check_batch_fits
from gst_core.training.callbacks import (
    Callback,
    ImageGridWriter,
    MetricsLogger,
    ProgressBar,
    TensorBoardLogger,
)
from gst_core.training.config import TrainConfig
from gst_core.training.data_health import DataHealth
from gst_core.training.data_wait import DataWaitClock
from gst_core.training.ema import make_ema
from gst_core.training.optimizer_impl import describe, implementation_kwargs, set_implementation
from gst_core.training.resume import (
    ResumeSettingsWarning,
    apply_optimizer_settings,
    changed_settings,
    check_optimizer_classes,
)
from gst_core.training.rng import capture_rng_state, restore_rng_state, seed_everything
from gst_core.training.run_folder import hold_run_folder
from gst_core.training.schedules import build_scheduler, fast_forward, warn_if_low_start

__all__ = ["Trainer"]


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


#: Optimiser options that are numbers in every torch.optim class that takes them.
_OPTIMIZER_NUMBERS = ("lr", "weight_decay", "momentum", "dampening", "eps", "alpha", "lr_decay")


def _check_optimizer_numbers(group: str, cls_name: str, spec: Mapping[str, Any]) -> None:
    """``weight_decay = "x"`` named as a string, not torch's ``'<=' not supported``."""
    where = f"[train.optimizer] for {group!r} ({cls_name})"
    for key in _OPTIMIZER_NUMBERS:
        if key in spec:
            check_option(spec[key], "a number", key, source=where)
    if "betas" in spec:
        betas = spec["betas"]
        check_option(
            list(betas) if isinstance(betas, tuple) else betas,
            "a list of numbers",
            "betas",
            source=where,
        )


def _ignore_sigint(worker_id: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _forever(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate ``iterable`` again and again. Unlike ``itertools.cycle`` this keeps no copy of
    the first pass, so memory stays flat and every pass gets a fresh order/augmentation."""
    while True:
        empty = True
        for item in iterable:
            empty = False
            yield item
        if empty:
            # Otherwise an empty iterable (or a one-shot iterator already used up) spins forever.
            raise TrainingSetupError(
                "the training data yielded no batches; pass a non-empty dataset or a "
                "re-iterable collection of batches (a generator or iterator runs out after "
                "one pass)"
            )


class Trainer:
    """Runs an :class:`Objective` on data for ``config.steps`` steps.

    ``data`` is a map-style dataset (shuffled in a resumable order) or any
    iterable of batches (cycled; a resumed run then restarts its order).
    ``spec`` is the config the run was built from (the TOML sections), recorded
    in checkpoints so ``gst sample`` and ``--resume`` can rebuild the networks.
    The trainer itself is the step context handed to the objective.

    ``callbacks`` come after the built-in ones (progress, metrics.jsonl, PNG grids,
    TensorBoard). FID/KID during training is a callback too: ``[train] fid_every`` &
    co. are read by :func:`~gst_core.training.build.build_trainer` (``gst train``),
    which passes ``MetricCallback.from_config(config)`` in; in Python, pass it yourself.
    """

    def __init__(
        self,
        objective: Objective,
        data: Dataset | Iterable[Any],
        config: TrainConfig | Mapping[str, Any] | None = None,
        *,
        callbacks: Sequence[Callback] = (),
        spec: Mapping[str, Any] | None = None,
    ) -> None:
        if config is None:
            config = TrainConfig()
        elif isinstance(config, Mapping):
            config = TrainConfig.from_mapping(config)
        config.validate()
        read = {option for cb in callbacks for option in cb.train_options}
        if config.fid_every and "fid_every" not in read:
            raise TrainingSetupError(
                f"[train] fid_every = {config.fid_every} asks for FID/KID during training, which "
                "a MetricCallback measures: build the trainer with build_trainer (as `gst train` "
                "does), or pass callbacks=[MetricCallback.from_config(config)]"
            )
        self.config = config
        self.objective = objective
        self.data = data
        self.spec = dict(spec or {})
        resolve_device(config.device, what="[train] device")  # a bad name: an error here
        # Under torchrun: join the process group; else rank 0 of 1 and nothing changes.
        self.distributed_options = distributed.DistributedOptions.from_mapping(config.distributed)
        self.dist = distributed.setup(self.distributed_options, config.device)
        self.device = self.dist.device(config.device)
        self.dist.local_batch(config.batch_size)  # a global batch that does not split: an error
        self.amp = bool(config.amp if config.amp is not None else self.device.type == "cuda")
        if self.amp and self.device.type != "cuda":
            raise TrainingSetupError("amp = true needs a CUDA device; set amp = false on CPU")
        self.step = 0  # completed steps
        self.batches = 0  # batches drawn from the data stream
        # Under torchrun every process names rank 0's folder (a default named after the clock
        # may differ by a second between processes); no-op for one process.
        run_dir = distributed.broadcast_object(config.run_dir)
        self.run_dir = Path(run_dir) if run_dir else None

        self.networks = objective.networks()
        for net in self.networks.values():
            net.to(self.device)
        #: What ``train_step`` is handed: the networks themselves here; a subclass or a
        #: launcher may put wrappers (DDP, ``torch.compile``) in their place.
        self.step_networks: dict[str, torch.nn.Module] = self.dist.wrap(
            self.networks, self.device, self.distributed_options
        )
        objective.check_data(data)
        # What is streamed: the data itself, or the objective's pairing of it with a second
        # source (style crops), read in the same workers.
        self.data = data = objective.training_data(data)
        if isinstance(data, Dataset) and hasattr(data, "__len__"):
            # Before fit() writes a run folder, not when the sampler starts; after
            # check_data, whose shape/class errors are the more useful ones.
            check_batch_fits(len(data), config.batch_size)
        #: Steps in one pass over the data (None for data without a length).
        self.steps_per_epoch = self._steps_per_epoch()
        if config.epochs is not None:
            if self.steps_per_epoch is None:
                raise TrainingSetupError(
                    f"[train] epochs = {config.epochs} needs data with a length (a dataset); "
                    "this data is an iterable of batches, so give steps instead"
                )
            config.steps = config.epochs * self.steps_per_epoch
        self.optimizers = self._build_optimizers()
        warn_if_low_start(
            config.lr_schedule,
            config.steps,
            steps_per_epoch=self.steps_per_epoch,
            epochs=config.epochs,
        )
        self.schedulers = {
            name: build_scheduler(
                opt,
                config.lr_schedule,
                config.steps,
                steps_per_epoch=self.steps_per_epoch,
                epochs=config.epochs,
            )
            for name, opt in self.optimizers.items()
        }
        self.scalers = (
            {name: torch.amp.GradScaler("cuda") for name in self.optimizers} if self.amp else {}
        )
        self.ema = (
            {n: make_ema(self.networks[n], config.ema_decay) for n in objective.ema_networks}
            if config.ema_decay
            else {}
        )
        # Only rank 0 writes and shows progress; a callback with ``all_ranks = True`` (one that
        # takes part in collectives, e.g. a metric split over processes) runs everywhere.
        self.callbacks = [
            cb
            for cb in [*self._default_callbacks(), *callbacks]
            if self.dist.is_main or cb.all_ranks
        ]
        self._stream: Iterator[Any] | None = None
        self._resumed = False  # set by load_state_dict: the run folder then holds this run
        self.data_health = DataHealth(data)
        self.data_wait = DataWaitClock()
        #: Set by a callback (time limit, early stopping) to end ``fit`` after the current step.
        self.should_stop = False

    # -- set-up ------------------------------------------------------------

    def _steps_per_epoch(self) -> int | None:
        """``len(data) // batch_size``: the sampler drops an epoch's last partial batch."""
        if isinstance(self.data, Dataset) and hasattr(self.data, "__len__"):
            return max(1, len(self.data) // self.config.batch_size)
        return None

    @property
    def epoch(self) -> int | None:
        """The epoch the next step belongs to, from 1 (None for data without a length)."""
        if self.steps_per_epoch is None:
            return None
        return self.step // self.steps_per_epoch + 1

    def _build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        groups = self.objective.optimizer_groups()
        unknown = set(self.config.optimizers) - set(groups)
        if unknown:
            raise TrainingSetupError(
                f"[train.optimizers] (or --lr GROUP=...) names {sorted(unknown)}, but the "
                f"{self.objective.name} objective's optimiser groups are {sorted(groups)}"
            )
        built = {}
        for name, nets in groups.items():
            spec = {**self.config.optimizer, **self.config.optimizers.get(name, {})}
            cls_name = spec.pop("name", "Adam")
            cls = getattr(torch.optim, str(cls_name), None)
            if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
                raise TrainingSetupError(
                    f"optimizer {cls_name!r} for {name!r} is not in torch.optim "
                    "(Adam, AdamW, SGD, RMSprop, ...)"
                )
            _check_optimizer_numbers(name, str(cls_name), spec)
            if "betas" in spec:
                spec["betas"] = tuple(spec["betas"])
            params = [p for n in nets for p in self.networks[n].parameters() if p.requires_grad]
            # Fused where torch has it (3x faster Adam on CPU); not part of the recorded spec.
            how = implementation_kwargs(cls, spec, self.device)
            try:
                built[name] = cls(params, **spec, **how)
            except (TypeError, ValueError) as exc:
                raise TrainingSetupError(
                    f"cannot build the {name!r} optimizer {cls_name}({spec}): {exc}"
                ) from exc
        return built

    def _default_callbacks(self) -> list[Callback]:
        c = self.config
        found: list[Callback] = [ProgressBar()] if c.progress else []
        if self.run_dir is not None:
            found.append(MetricsLogger(self.run_dir / "metrics.jsonl"))
            found.append(ImageGridWriter(self.run_dir / "samples", c.sample_every, c.sample_count))
            if c.tensorboard:
                found.append(TensorBoardLogger(self.run_dir / "tensorboard", c.sample_every))
        return found

    @property
    def checkpoint_path(self) -> Path | None:
        return self.run_dir / "checkpoints" / "last.pt" if self.run_dir else None

    # -- the step context lent to the objective ------------------------------

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.float16)

    def optimize(self, optimizer: str, loss: Tensor) -> None:
        # Agreed by every process, so all of them stop together instead of waiting for one.
        if not distributed.all_true(torch.isfinite(loss.detach()).all()):
            where = (
                f"the last good checkpoint, {self.checkpoint_path}, is untouched"
                if self.checkpoint_path is not None and self.checkpoint_path.exists()
                else "no checkpoint had been written yet"
            )
            raise NonFiniteLossError(
                f"the {optimizer!r} loss became {loss.detach().float().item()} at step "
                f"{self.step + 1}; training stopped before that update and {where}. Lower the "
                "learning rate, add a penalty (r1, gradient_penalty) or spectral_norm, or turn "
                "off mixed precision"
            )
        opt = self.optimizers[optimizer]
        opt.zero_grad(set_to_none=True)
        scaler = self.scalers.get(optimizer)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        self._check_finite_after_step(optimizer, loss)

    def _check_finite_after_step(self, optimizer: str, loss: Tensor) -> None:
        """A finite loss can still give non-finite weights (an absurd learning rate): stop
        before they reach a checkpoint or an EMA copy. One fused norm per step (finite.py)."""
        groups = self.optimizers[optimizer].param_groups
        params = enumerate(p for group in groups for p in group["params"])
        if not nonfinite((f"{optimizer}.{i}", p) for i, p in params):
            return
        where = (
            f"the last checkpoint, {self.checkpoint_path}, holds the weights before it"
            if self.checkpoint_path is not None and self.checkpoint_path.exists()
            else "no checkpoint had been written yet"
        )
        raise NonFiniteLossError(
            f"the {optimizer!r} weights became non-finite (NaN or infinity) after the update "
            f"at step {self.step + 1}, although its loss was {loss.detach().float().item():.4g}; "
            f"training stopped and {where}. Lower the learning rate, add a penalty "
            "(r1, gradient_penalty) or spectral_norm",
            step=self.step,
        )

    def next_batch(self) -> Any:
        # Under torchrun, random augmentation draws from a generator of its own per process
        # and batch, so the processes augment their shares differently.
        with distributed.data_rng(self.config.seed, self.batches):
            if self._stream is None:
                self._stream = self._make_stream()
            try:
                with self.data_wait.waiting():
                    batch = next(self._stream)
            except Exception:
                # A worker that gave up because too many files are unreadable: the dataset's
                # own message naming them, not the worker's traceback.
                self.data_health.check()
                raise
        self.batches += 1
        self.data_health.check()
        return _to_device(batch, self.device)

    def num_workers(self) -> int:
        """DataLoader workers for streamed data: ``[train] num_workers``, else min(4, cores)
        shared by the processes of this machine."""
        if self.config.num_workers is not None:
            return self.config.num_workers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, min(4, (cores or 1) // max(1, self.dist.world_size)))

    def _make_stream(self) -> Iterator[Any]:
        data, c = self.data, self.config
        if isinstance(data, Dataset) and hasattr(data, "__len__"):
            sampler = ResumableBatchSampler(
                len(data),
                c.batch_size,
                seed=c.seed,
                start=self.batches,
                rank=self.dist.rank,
                num_replicas=self.dist.world_size,
                keys=bool(getattr(data, "keyed_samples", False)),
            )
            streamed = bool(getattr(data, "streamed", False))
            if hasattr(data, "get_batch") and not streamed:
                # In-memory data: one indexing operation per batch beats collating
                # items one by one (and worker processes) by a wide margin.
                return (data.get_batch(indices) for indices in sampler)
            workers = self.num_workers() if streamed else (c.num_workers or 0)
            loader = DataLoader(
                data,
                batch_sampler=sampler,
                num_workers=workers,
                pin_memory=self.device.type == "cuda",
                persistent_workers=workers > 0,
                prefetch_factor=4 if workers else None,
                # Its own generator: creating the iterator draws the workers' base seed, which
                # must not move the global RNG (the latents) when a resumed run re-creates it.
                generator=torch.Generator().manual_seed(c.seed + self.batches),
                # Ctrl-C reaches the workers too; the main process decides (stop_signals.py),
                # a worker that died of it would break the step that finishes the run.
                worker_init_fn=_ignore_sigint,
            )
            return iter(loader)
        return _forever(data)

    # -- running ----------------------------------------------------------

    def resume(self, checkpoint: str | Path | Mapping[str, Any]) -> Trainer:
        """Continue from ``checkpoint``: a file, a run folder holding ``checkpoints/last.pt``, or
        a checkpoint already loaded with :func:`~gst_core.checkpoint.load_checkpoint` (``gst
        train --resume`` reads it once for its saved config). The one way a run resumes."""
        if not isinstance(checkpoint, Mapping):
            checkpoint = load_checkpoint(checkpoint, map_location=self.device)
        self.load_state_dict(checkpoint)
        return self

    def fit(
        self, resume: str | Path | Mapping[str, Any] | None = None, *, overwrite: bool = False
    ) -> Trainer:
        """Train until ``config.steps`` steps are done, first resuming from ``resume`` when it
        names a checkpoint (see :meth:`resume`).

        The run folder is locked while this runs (another process using it is refused). A
        fresh run (not resumed) refuses a folder that holds anything, unless ``overwrite``:
        the old folder is then moved aside (run_folder.py)."""
        if resume is not None:
            self.resume(resume)
        elif self.step == 0:
            seed_everything(self.config.seed)
        for net in self.networks.values():
            net.train()
        with contextlib.ExitStack() as held:
            if self.run_dir is not None and self.dist.is_main:
                self._check_run_folders()
                fresh = self.step == 0 and not self._resumed
                held.enter_context(hold_run_folder(self.run_dir, fresh=fresh, overwrite=overwrite))
                self._remove_stale_temporaries()
                self._write_run_config()
            self._fit_loop()
        return self

    def _fit_loop(self) -> None:
        error: BaseException | None = None
        try:
            # Inside the try: if one on_fit_start raises, the callbacks already started
            # (the progress bar) still get on_fit_end.
            if self.dist.is_main and self.config.progress:
                self.data_health.announce(self)
                print(f"gst: optimizers: {describe(self.optimizers)}", file=sys.stderr)
            for cb in self.callbacks:
                cb.on_fit_start(self)
            self.should_stop = False
            if self.config.compile:
                self._compile_networks()
            self.data_wait = DataWaitClock()  # set-up and on_fit_start are not step time
            while self.step < self.config.steps and not self.should_stop:
                self._run_step()
            self.save_checkpoint()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._end_callbacks(error)

    def _compile_networks(self) -> None:
        # Each forward in place, after the EMA copies were made (they stay eager): the
        # modules, their state_dict keys and so the checkpoints are those of an eager run.
        for net in self.networks.values():
            if not is_compiled(net):
                compile_generator(net)

    def _end_callbacks(self, error: BaseException | None) -> None:
        """Run every ``on_fit_end``, even when one raises. A training error is never masked by
        a callback's (that one is only warned about); otherwise the first callback error is
        raised once all have run."""
        first: Exception | None = None
        for cb in self.callbacks:
            try:
                cb.on_fit_end(self, error)
            except Exception as exc:
                if error is None and first is None:
                    first = exc
                else:
                    # Only one error can propagate; the others must not vanish silently.
                    warnings.warn(
                        f"{type(cb).__name__}.on_fit_end failed: {type(exc).__name__}: {exc}",
                        stacklevel=3,
                    )
        if first is not None:
            raise first

    def _run_step(self) -> None:
        batch = self.next_batch()
        # Under torchrun: a process stalled in its data loading is named after stall_timeout.
        distributed.check_in(self.step + 1)
        metrics = self.objective.train_step(self.step_networks, batch, self)
        self.step += 1
        for scheduler in self.schedulers.values():
            # The rate is a function of the run's step, whether or not this optimiser stepped
            # (a warm-up may leave one idle, where LambdaLR.step() would warn).
            fast_forward(scheduler, self.step)
        if self.ema and self.step > self.config.ema_start:
            for name, ema in self.ema.items():
                ema.update_parameters(self.networks[name])
        for cb in self.callbacks:
            cb.on_step_end(self, self.step, metrics)
        c = self.config
        if c.log_every and (self.step % c.log_every == 0 or self.step == c.steps):
            values = {k: float(v) for k, v in metrics.items()}
            # Is the step fed? (metrics.jsonl, TensorBoard, progress bar: data_wait.py)
            values["data_wait_share"] = self.data_wait.share()
            if self.data_health.count:  # once a file was found unreadable (metrics.jsonl)
                values["data_unreadable"] = float(self.data_health.count)
            values = distributed.mean_over_processes(values, self.device)
            for cb in self.callbacks:
                cb.on_log(self, self.step, values)
        if c.checkpoint_every and self.step % c.checkpoint_every == 0:
            self.save_checkpoint()
        if self.dist.enabled:
            # A callback on rank 0 (a time limit, early stopping) stops every process, not
            # just the one the others would then wait for.
            self.should_stop = not distributed.all_true(not self.should_stop, self.device)

    def preview(self, count: int = 64) -> Preview:
        """The objective's preview images, made with the EMA networks where there are some."""
        nets = dict(self.networks)
        for name, ema in self.ema.items():
            if int(ema.n_averaged) > 0:
                nets[name] = ema.module
        modes = {name: net.training for name, net in nets.items()}
        for net in nets.values():
            net.eval()
        try:
            return self.objective.preview(nets, count)
        finally:
            for name, net in nets.items():
                net.train(modes[name])

    # -- checkpoints --------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: weights, EMA, optimisers, scalers, RNG, config."""
        return {
            "objective": self.objective.name,
            "objective_config": self.objective.config(),
            "objective_state": self.objective.state_dict(),
            "network_specs": dict(self.objective.network_specs),
            "step": self.step,
            "batches": self.batches,
            "networks": {n: net.state_dict() for n, net in self.networks.items()},
            "ema": {n: ema.state_dict() for n, ema in self.ema.items()},
            "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
            "scalers": {n: s.state_dict() for n, s in self.scalers.items()},
            "rng": capture_rng_state(),
            "train": self.config.as_dict(),
            "spec": self.spec,
        }

    def save_checkpoint(self, path: str | Path | None = None) -> Path | None:
        """Write :meth:`state_dict` atomically (default: ``<run_dir>/checkpoints/last.pt``)."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None or not self.dist.is_main:
            return None
        save_checkpoint(self.state_dict(), path)
        for cb in self.callbacks:
            cb.on_checkpoint(self, self.step, path)
        return path

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a checkpoint, explaining any mismatch with the networks built now."""
        where = state.get("path", "the checkpoint")
        if "imported_from" in state:
            raise CheckpointError(
                f"{where} was made by gst import from {state['imported_from'].get('project')}'s "
                "weights: it holds generator weights only (no optimiser or discriminator "
                "state), so it cannot be resumed; apply it with gst translate / stylize --model"
            )
        if state.get("objective") != self.objective.name:
            raise CheckpointError(
                f"{where} was saved by the {state.get('objective')!r} objective, not "
                f"{self.objective.name!r}; resume it with `gst train {state.get('objective')}`"
            )
        check_optimizer_classes(
            state.get("train"), self.config.as_dict(), list(self.optimizers), where
        )
        saved = state["networks"]
        if set(saved) != set(self.networks):
            raise CheckpointError(
                f"{where} holds networks {sorted(saved)}, but this run has {sorted(self.networks)}"
            )
        for name, net in self.networks.items():
            try:
                net.load_state_dict(saved[name])
            except RuntimeError as exc:
                was = state.get("spec", {}).get(name)
                now = self.spec.get(name)
                detail = str(exc).split("\n", 1)[-1].strip().splitlines()[0]
                raise CheckpointError(
                    f"{where} does not fit this run's {name}: {detail}. The checkpoint was "
                    f"trained with {name} = {was!r}; this run builds {now!r}. Resume with the "
                    "same architecture settings, or start a new run folder"
                ) from exc
        if set(state["ema"]) != set(self.ema):
            raise CheckpointError(
                f"{where} has EMA copies of {sorted(state['ema']) or 'nothing'} but this run "
                f"keeps {sorted(self.ema) or 'none'}; set ema_decay as in the original run"
            )
        for name, ema in self.ema.items():
            ema.load_state_dict(state["ema"][name])
        for name, opt in self.optimizers.items():
            try:
                opt.load_state_dict(state["optimizers"][name])
            except (KeyError, ValueError) as exc:
                raise CheckpointError(
                    f"{where}: the {name!r} optimizer state does not fit ({exc}); resume with "
                    "the same optimizer settings"
                ) from exc
            set_implementation(opt)  # the checkpoint's groups say how the saving run updated
            for group in opt.param_groups:
                # Saved before lr schedules (gst 0.1): the saved rate was the constant base.
                group.setdefault("initial_lr", group["lr"])
        for name, scheduler in self.schedulers.items():
            if name in state.get("schedulers", {}):
                scheduler.load_state_dict(state["schedulers"][name])
            else:  # a checkpoint from before lr schedules: it ran at a constant rate
                fast_forward(scheduler, int(state["step"]))
        apply_optimizer_settings(self.optimizers, state.get("train"), self.config.as_dict())
        for scheduler in self.schedulers.values():
            # A learning rate changed on resume is the new base the schedule scales (the
            # scheduler's saved state would otherwise put the old one back at its next step).
            scheduler.base_lrs = [g["initial_lr"] for g in scheduler.optimizer.param_groups]
            fast_forward(scheduler, scheduler.last_epoch)
        for name, scaler in self.scalers.items():
            if name in state["scalers"]:
                scaler.load_state_dict(state["scalers"][name])
        self.objective.load_state_dict(state.get("objective_state", {}))
        self.step = int(state["step"])
        self.batches = int(state["batches"])
        self._resumed = True
        self._stream = None
        restore_rng_state(state["rng"])
        changes = changed_settings(state.get("spec", {}), self.spec)
        if changes:
            warnings.warn(
                f"resuming {where} with changed settings: {'; '.join(changes)}",
                ResumeSettingsWarning,
                stacklevel=2,
            )

    def _check_run_folders(self) -> None:
        """Every folder the run writes, checked before the first step rather than at the
        first checkpoint (a file in the way, no write permission)."""
        assert self.run_dir is not None
        check_output_dir(self.run_dir, what="run folder")
        for sub in ("checkpoints", "samples"):
            check_output_dir(self.run_dir / sub, what=f"{sub} folder")

    def _remove_stale_temporaries(self) -> None:
        """A kill during a checkpoint or grid write leaves its temporary file behind."""
        assert self.run_dir is not None
        for folder in (self.run_dir, self.run_dir / "checkpoints", self.run_dir / "samples"):
            remove_stale_temporaries(folder)

    def _write_run_config(self) -> None:
        assert self.run_dir is not None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "objective": self.objective.name,
            **self.objective.config(),
            "train": self.config.as_dict(),
            "spec": self.spec,
        }
        with atomic_write(self.run_dir / "config.json") as f:
            f.write((json.dumps(record, indent=2, default=str) + "\n").encode())
