"""`gst train NAME --config run.toml`: train a registered objective, with flags for common options.

``NAME`` is looked up in the objective registry (``gst plugins list --kind
objective``), so a plugin's objective trains exactly like the built-in ``gan``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from gst_core.apply.compiled import said_in_one_line
from gst_core.checkpoint import CheckpointError, load_checkpoint
from gst_core.cli.threads import add_threads_option
from gst_core.config import load_toml
from gst_core.errors import GstError, NonFiniteLossError, TrainingSetupError
from gst_core.kinds import registry
from gst_core.training.build import build_trainer
from gst_core.training.resume import ResumeSettingsWarning, check_optimizer_classes
from gst_core.training.stop_signals import EXIT_CODES, stop_on_signals

# flag destination → [train] option
_FLAGS = {
    "steps": "steps",
    "batch_size": "batch_size",
    "ema_decay": "ema_decay",
    "seed": "seed",
    "device": "device",
    "run_dir": "run_dir",
    "sample_every": "sample_every",
    "checkpoint_every": "checkpoint_every",
    "log_every": "log_every",
    "num_workers": "num_workers",
    "amp": "amp",
    "compile": "compile",
    "tensorboard": "tensorboard",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a registered objective (gan, or a plugin's) from a TOML config",
        add_help=False,
        description="Train from a config; flags override its [train] options. A run folder "
        "gets PNG grids (samples/), metrics.jsonl and checkpoints/last.pt. On several GPUs or "
        "machines: torchrun --nproc_per_node N -m gst_core.cli train NAME --config run.toml "
        "([train] batch_size is then the global batch; rank 0 writes).",
    )
    parser.add_argument(
        "-h",
        "--help",
        action=_HelpWithObjectiveFlags,
        help="show this help (after NAME: also the flags that objective adds) and exit",
    )
    parser.add_argument(
        "objective",
        help="the objective to train: gan, or any in `gst plugins list --kind objective`",
    )
    parser.add_argument("--config", "-c", type=Path, help="TOML file (see examples/gan.toml)")
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="a folder of training data, read by the objective's own folder dataset: paired "
        "(A/ + B/ or AB images) for pix2pix, unpaired (trainA/, trainB/) for cyclegan, content "
        "photos for fast_style/gan_style, images for gan",
    )
    parser.add_argument(
        "--set",
        action="append",
        type=_setting,
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="set any config option (repeatable; VALUE is read as TOML, else as text), "
        "e.g. --set objective.style_weight=1e6 --set data.image_size=128",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        metavar="CHECKPOINT",
        help="continue from a checkpoint file or run folder (default: the run folder's "
        "checkpoints/last.pt); without --config, the config saved in the checkpoint is used",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start a fresh run in a run folder that is not empty: the old folder is moved "
        "aside to RUN.previous-DATE-TIME (nothing is deleted)",
    )
    parser.add_argument("--steps", type=int, help="total steps (a resumed run continues to this)")
    parser.add_argument(
        "--epochs",
        type=int,
        help="the run's length in passes over the data instead of steps ([train] epochs)",
    )
    parser.add_argument(
        "--load-size",
        type=int,
        metavar="PIXELS",
        help="image-to-image data: resize to this, then random-crop to --crop-size "
        "([data] load_size; the reference's --load_size, 286 for 256 crops)",
    )
    parser.add_argument(
        "--crop-size",
        type=int,
        metavar="PIXELS",
        help="the training images' size ([data] image_size; the reference's --crop_size)",
    )
    parser.add_argument("--batch-size", type=int)
    parser.add_argument(
        "--lr",
        action="append",
        type=_group_lr,
        metavar="[GROUP=]LR",
        help="learning rate of the optimiser GROUP (repeatable), or of every group; the "
        "objective names its groups (gan: generator, discriminator)",
    )
    parser.add_argument("--lr-g", type=float, help="same as --lr generator=LR")
    parser.add_argument("--lr-d", type=float, help="same as --lr discriminator=LR")
    parser.add_argument("--n-critic", type=int, help="discriminator steps per generator step")
    parser.add_argument("--ema-decay", type=float, help="generator EMA decay (0: off)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: auto)")
    parser.add_argument("--run-dir", help="folder for grids, metrics and checkpoints")
    parser.add_argument("--sample-every", type=int, help="steps between PNG grids")
    parser.add_argument("--checkpoint-every", type=int, help="steps between checkpoints")
    parser.add_argument("--log-every", type=int, help="steps between metrics lines")
    parser.add_argument("--num-workers", type=int, help="DataLoader workers for folder data")
    parser.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision (CUDA only; default: on with CUDA)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        default=None,
        help="run the networks through torch.compile (needs g++ on a CPU; the first steps "
        "compile for minutes; checkpoints are the same as without it)",
    )
    add_threads_option(parser)
    parser.add_argument(
        "--tensorboard",
        action="store_true",
        default=None,
        help="also log to TensorBoard (needs the tensorboard package)",
    )
    # Flags an objective declares (e.g. fast_style's --style) reach run() as args.extra.
    parser.set_defaults(func=run, takes_extra=True)


def _group_lr(text: str) -> tuple[str | None, float]:
    group, _, value = text.rpartition("=")
    try:
        return (group.strip() or None), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected GROUP=LR or LR (e.g. generator=2e-4), got {text!r}"
        ) from None


def _setting(text: str) -> tuple[list[str], Any]:
    import tomllib

    key, sep, value = text.partition("=")
    path = [part.strip() for part in key.split(".")]
    if not sep or len(path) < 2 or not all(path):
        raise argparse.ArgumentTypeError(
            f"expected SECTION.KEY=VALUE (e.g. objective.style_weight=1e6), got {text!r}"
        )
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value  # plain text, e.g. a path
    return path, parsed


def _apply_settings(
    config: dict[str, Any], settings: list[tuple[list[str], Any]]
) -> dict[str, Any]:
    """``config`` with each ``(path, value)`` set, copying the tables it changes."""
    config = dict(config)
    for path, value in settings:
        table = config
        for part in path[:-1]:
            child = table.get(part, {})
            if not isinstance(child, dict):
                raise TrainingSetupError(f"--set {'.'.join(path)}: {part} is a value, not a table")
            table[part] = table = dict(child)
        table[path[-1]] = value
    return config


def declared_options(name: str) -> dict[str, tuple]:
    """An objective's ``cli_options``: flag → (config key, help[, type])."""
    return dict(getattr(registry("objective").get(name), "cli_options", {}) or {})


def add_objective_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, declared: dict[str, tuple]
) -> None:
    """Add each declared flag; a third element types its value (``float``: ``--style-weight``),
    so ``1e10`` reaches the objective as a number, not as text."""
    for flag, (key, help_text, *kind) in declared.items():
        parser.add_argument(
            f"--{flag}", dest=key, metavar="VALUE", help=help_text, type=kind[0] if kind else None
        )


class _HelpWithObjectiveFlags(argparse.Action):
    """``gst train NAME --help``: the generic flags, then the flags NAME itself declares."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        name = getattr(namespace, "objective", None)
        if name:
            try:
                declared = declared_options(name)
            except GstError as exc:  # an unknown or broken objective: say so under the help
                parser.epilog = f"({exc})"
                declared = {}
            if declared:
                add_objective_flags(parser.add_argument_group(f"{name}'s own flags"), declared)
        parser.print_help()
        parser.exit()


def objective_options(name: str, extra: list[str]) -> list[tuple[list[str], Any]]:
    """Parse the flags an objective declares (``cli_options``: flag → (config key, help[, type])).

    ``gst train`` is generic: an objective that wants ``--style`` declares it, and
    the value lands in the config key it names, as ``--set`` would put it.
    """
    declared = declared_options(name)
    parser = argparse.ArgumentParser(prog=f"gst train {name}", add_help=False)
    add_objective_flags(parser, declared)
    found, unknown = parser.parse_known_args(extra)
    if unknown:
        flags = ", ".join(f"--{f}" for f in declared) or "none"
        raise TrainingSetupError(
            f"unrecognized argument(s) {' '.join(unknown)}; {name} adds these flags to "
            f"gst train: {flags} (and --set SECTION.KEY=VALUE sets any config option)"
        )
    return [(key.split("."), v) for key, v in vars(found).items() if v is not None]


def _check_length_options(train: Any, source: str) -> None:
    if isinstance(train, dict) and "steps" in train and train.get("epochs") is not None:
        raise TrainingSetupError(
            f"{source}: [train] gives both steps = {train['steps']} and epochs = "
            f"{train['epochs']}; give one (epochs: passes over the data)"
        )


def with_objective_defaults(
    config: dict[str, Any],
    objective_class: Any,
    data_root: str | None = None,
    *,
    given_steps: int | None = None,
) -> dict[str, Any]:
    """``config`` completed with what the objective declares for a run without a file.

    ``default_train``: ``[train]`` options of its recipe (the config's own win; a config
    or flag giving ``steps`` replaces a recipe given in ``epochs``). ``default_data``: the
    built-in data it trains on when ``[data]`` is missing. ``folder_data``: the dataset
    that reads a folder its way (``--data PATH``: paired for pix2pix, ...); the generic
    ``folder`` dataset with ``default_data``'s image size when it declares none.
    """
    default_train = dict(objective_class.default_train)
    own_train = dict(config.get("train", {}))
    if "steps" in own_train or given_steps is not None:
        default_train.pop("epochs", None)
    if default_train:
        config = {**config, "train": {**default_train, **own_train}}
    default_data = dict(objective_class.default_data)
    if data_root is not None:
        folder = getattr(objective_class, "folder_data", None)
        if folder is None:
            size = {k: v for k, v in default_data.items() if k == "image_size"}
            folder = {"name": "folder", **size}
        config = {**config, "data": {**folder, "root": data_root}}
    if "data" not in config and default_data:
        config = {**config, "data": default_data}
    return config


def _overrides(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    found = {
        opt: getattr(args, dest) for dest, opt in _FLAGS.items() if getattr(args, dest) is not None
    }
    if args.steps is not None:
        found["epochs"] = None  # --steps decides the length, whatever the config said
    elif args.epochs is not None:
        found["epochs"] = args.epochs
    train = config.get("train", {})
    optimizers = {k: dict(v) for k, v in train.get("optimizers", {}).items()}
    learning_rates = list(args.lr or [])
    learning_rates += [("generator", args.lr_g)] if args.lr_g is not None else []
    learning_rates += [("discriminator", args.lr_d)] if args.lr_d is not None else []
    for group, lr in learning_rates:
        if group is None:
            found["optimizer"] = {**train.get("optimizer", {}), "lr": lr}
            for settings in optimizers.values():
                settings.pop("lr", None)
        else:
            optimizers.setdefault(group, {})["lr"] = lr
    if optimizers:
        found["optimizers"] = optimizers
    return found


def run(args: argparse.Namespace) -> int:
    registry("objective").entry(args.objective)  # an unknown name fails here, with close matches
    config = load_toml(args.config) if args.config is not None else None
    checkpoint = None
    if args.resume is not None:
        target = args.resume
        if target == "auto":
            target = args.run_dir or (config or {}).get("train", {}).get("run_dir")
            if not target:
                raise TrainingSetupError(
                    "--resume without a path needs the run folder: pass --resume RUN_DIR, "
                    "--run-dir, or a config whose [train] sets run_dir"
                )
        checkpoint = load_checkpoint(target)
        # Before its saved config is read as this objective's: that would fail on internals.
        saved_by = checkpoint.get("objective")
        if saved_by and saved_by != args.objective:
            raise CheckpointError(
                f"{checkpoint['path']} was saved by the {saved_by!r} objective, not "
                f"{args.objective!r}; resume it with `gst train {saved_by} --resume {target}`"
            )
        if args.run_dir is None and Path(target).is_dir():
            args.run_dir = str(target)
    if config is not None:
        source = str(args.config)
    elif checkpoint is not None:
        config = dict(checkpoint["spec"])
        source = f"{checkpoint['path']} (saved config)"
        if args.run_dir is None and checkpoint["spec"].get("train", {}).get("run_dir"):
            args.run_dir = checkpoint["spec"]["train"]["run_dir"]
    else:
        # No file: the objective's defaults plus flags (fast_style runs with none at all).
        config, source = {}, "<command line>"
    settings = objective_options(args.objective, list(getattr(args, "extra", [])))
    # An objective may name the data it trains on when none is given (default_data), and
    # [train] options that suit it (default_train: the config's own values win).
    objective_class = registry("objective").get(args.objective)
    if args.config is not None:
        _check_length_options(config.get("train", {}), source)
    config = with_objective_defaults(config, objective_class, args.data, given_steps=args.steps)
    data_flags = [
        (["data", key], value)
        for key, value in (("load_size", args.load_size), ("image_size", args.crop_size))
        if value is not None
    ]
    config = _apply_settings(config, [*settings, *data_flags, *args.set])
    if args.n_critic is not None:
        config = {**config, "objective": {**config.get("objective", {}), "n_critic": args.n_critic}}
    overrides = _overrides(args, config)
    if not overrides.get("run_dir") and not config.get("train", {}).get("run_dir"):
        # Under torchrun the trainer gives every process rank 0's name for it.
        overrides["run_dir"] = str(
            Path("runs") / f"{args.objective}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
    if checkpoint is not None:
        _check_resume_fits(checkpoint, {**config.get("train", {}), **overrides})
    trainer = build_trainer(config, args.objective, source=source, overrides=overrides)
    run = trainer.dist
    say = print if run.is_main else _quiet
    processes = f" x {run.world_size} processes ({run.backend})" if run.enabled else ""
    where = f"{trainer.device}{processes}"
    say(f"gst: training {args.objective} on {where}; run folder {trainer.run_dir}")
    if checkpoint is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResumeSettingsWarning)
            trainer.resume(checkpoint)
        if run.is_main:
            for warning in caught:
                print(f"gst: warning: {warning.message}", file=sys.stderr)
        say(f"gst: resumed from {checkpoint['path']} at step {trainer.step}")
    try:
        with stop_on_signals(trainer, say) as received, said_in_one_line():
            trainer.fit(overwrite=args.overwrite)
    except GstError as exc:
        # A failure inside the loop may be this process's alone (its data); a non-finite loss
        # is agreed by every process, so rank 0 alone reports it.
        exc.rank_local = not isinstance(exc, NonFiniteLossError)
        raise
    if "signal" in received:
        name = signal.Signals(received["signal"]).name
        if trainer.checkpoint_path is not None:
            say(
                f"gst: stopped by {name} at step {trainer.step}; checkpoint "
                f"{trainer.checkpoint_path}; continue with: gst train {args.objective} "
                f"--resume {trainer.run_dir}",
                file=sys.stderr,
            )
        else:
            say(
                f"gst: stopped by {name} at step {trainer.step}; no run folder, so no "
                "checkpoint was written",
                file=sys.stderr,
            )
        return EXIT_CODES[received["signal"]]
    say(
        f"gst: done at step {trainer.step}; waited for data "
        f"{trainer.data_wait.share_in_all():.1%} of the time; checkpoint {trainer.checkpoint_path}"
    )
    return 0


def _check_resume_fits(checkpoint: dict[str, Any], train_options: dict[str, Any]) -> None:
    """Before anything is built: a resume that would do nothing, or switch optimiser class
    (whose state cannot carry over; building it first complained about ``betas``)."""
    where = checkpoint["path"]
    saved = checkpoint.get("train") or {}
    check_optimizer_classes(saved, train_options, list(checkpoint.get("optimizers", {})), where)
    step = int(checkpoint.get("step", 0))
    steps = train_options.get("steps", saved.get("steps"))
    if isinstance(steps, int) and not isinstance(steps, bool) and steps <= step:
        raise TrainingSetupError(
            f"{where} is at step {step} and this run stops at step {steps}, so there is "
            f"nothing to train (the checkpoint is left as it is); pass --steps N with N > "
            f"{step} to continue it"
        )


def _quiet(*args: Any, **kwargs: Any) -> None:
    """``print`` for processes other than rank 0: rank 0 speaks for the run."""
