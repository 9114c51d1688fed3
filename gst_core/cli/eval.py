"""`gst eval fid|kid|prdc REAL FAKE`: FID, KID, or precision/recall/density/coverage.

Each side is a folder of images (any size and format Pillow reads, searched
recursively) or a GAN checkpoint (a ``.pt`` file or a run folder holding
``checkpoints/last.pt``), from which ``-n`` samples are drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from gst_core.apply.model_folder import is_model_folder
from gst_core.apply.network_source import open_networks
from gst_core.atomic_file import atomic_write
from gst_core.cli.threads import add_threads_option
from gst_core.metrics import (
    MetricError,
    describe_extractor,
    folder_features,
    frechet_distance,
    generator_features,
    kernel_distance,
    resolve_extractor,
)
from gst_core.metrics.extract import FeatureSet
from gst_core.metrics.modes import expected_modes, mode_coverage, real_modes
from gst_core.metrics.prdc import prdc
from gst_core.runtime.option_checks import resolve_device
from gst_core.runtime.output_paths import check_output_file

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="FID, KID or precision/recall between two folders of images or GAN checkpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "metric",
        choices=["fid", "kid", "prdc", "warp"],
        help="fid, kid, prdc (precision/recall: quality and coverage apart; density/coverage), "
        "or warp (a video's warping error)",
    )
    parser.add_argument(
        "real", help="folder of real images, or a checkpoint / run folder (warp: OUT.mp4)"
    )
    parser.add_argument(
        "fake",
        nargs="?",
        help="folder of generated images, or a checkpoint / run folder / model folder",
    )
    parser.add_argument(
        "--reference",
        metavar="IN.mp4",
        help="warp: the input video the output was made from (its flow is used)",
    )
    parser.add_argument(
        "-n", "--count", type=int, default=10000, help="samples drawn from a checkpoint"
    )
    parser.add_argument(
        "--extractor",
        default="fid_auto",
        help="feature_extractor to measure with: fid_auto (inception when its weights are "
        "found, else random_pool), inception, random_pool, or any installed plugin",
    )
    parser.add_argument(
        "--weights", type=Path, help="pytorch-fid's pt_inception-2015-12-05-*.pth for inception"
    )
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--subsets", type=int, default=100, help="KID: number of subsets")
    parser.add_argument("--subset-size", type=int, default=1000, help="KID: samples per subset")
    parser.add_argument("--k", type=int, default=5, help="prdc: the k of the k-NN balls")
    parser.add_argument("--seed", type=int, default=0, help="sampling and KID-subset seed")
    parser.add_argument("--no-ema", action="store_true", help="checkpoints: the raw generator")
    add_threads_option(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def _checkpoint_of(path: Path) -> Path | None:
    """The checkpoint ``path`` names (a file, a run folder's last.pt, a model folder), or
    ``None`` for a folder of images."""
    if path.is_file() or is_model_folder(path):
        return path
    last = path / "checkpoints" / "last.pt"
    return last if last.is_file() else None


def _check_exists(args: argparse.Namespace, which: str) -> None:
    path = Path(getattr(args, which)).expanduser()
    if not path.exists():
        raise MetricError(
            f"{which} {str(path)!r} does not exist; give a folder of images or a checkpoint"
        )


def _side(args: argparse.Namespace, which: str, extractor: Any) -> FeatureSet:
    path = Path(getattr(args, which)).expanduser()
    checkpoint = _checkpoint_of(path)
    progress = not args.no_progress
    if checkpoint is None:
        return folder_features(path, extractor, batch_size=args.batch_size, progress=progress)
    generator = open_networks(checkpoint, device=args.device).load(
        "generator", ema=not args.no_ema, device=args.device
    )
    which_net = "raw generator" if args.no_ema else "generator (EMA when saved)"
    return generator_features(
        generator,
        args.count,
        extractor,
        batch_size=args.batch_size,
        seed=args.seed,
        source=f"{args.count} samples of the {which_net} in {checkpoint}",
        progress=progress,
    )


def run(args: argparse.Namespace) -> int:
    if args.metric == "warp":
        from gst_core.cli.eval_warp import run_warp

        return run_warp(args)
    if args.fake is None:
        raise MetricError(f"gst eval {args.metric} compares two sides: give REAL and FAKE")
    if args.count < 2:
        raise MetricError(f"-n must be at least 2, got {args.count}")
    if args.metric == "prdc" and args.k < 1:
        raise MetricError(f"--k must be at least 1, got {args.k}")
    if args.batch_size < 1:
        raise MetricError(f"--batch-size must be at least 1, got {args.batch_size}")
    for which in ("real", "fake"):  # both, before reading either (a folder takes minutes)
        _check_exists(args, which)
    args.device = str(resolve_device(args.device))  # before any work (was an AssertionError)
    if args.json is not None:  # checked before the long feature extraction, not after it
        args.json = check_output_file(args.json, overwrite=args.overwrite, what="--json output")
    extractor, name = resolve_extractor(args.extractor, weights=args.weights)
    extractor.to(args.device)
    resize = describe_extractor(extractor)
    print(f"gst eval: features from {name!r}; images prepared by {resize}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        real = _side(args, "real", extractor)
        fake = _side(args, "fake", extractor)
        if args.metric == "fid":
            value = frechet_distance(real.features, fake.features)
            result: dict[str, Any] = {"metric": "fid", "value": value}
            line = f"FID {value:.6g}"
        elif args.metric == "prdc":
            measured = prdc(real.features, fake.features, k=args.k)
            # Modes reached (metrics/modes.py), read against a batch drawn like the reals.
            clusters = real_modes(real.features, k=args.k)
            reached = mode_coverage(clusters, fake.features)
            expected = expected_modes(
                clusters.shares, int(fake.features.shape[0]), clusters.min_share
            )
            result = {
                "metric": "prdc",
                **measured.as_dict(),
                "modes": reached["modes"],
                "expected_modes": expected,
                "mode_peak": reached["peak"],
                "mode_clusters": clusters.count,
                "modes_separated": clusters.separated,
            }
            kind = "separate modes" if clusters.separated else "k-means bins"
            line = (
                f"precision {measured.precision:.4f}  recall {measured.recall:.4f}  "
                f"density {measured.density:.4f}  coverage {measured.coverage:.4f}  "
                f"(k={measured.k}; {measured.real_count} real, {measured.fake_count} fake)\n"
                f"modes {reached['modes']:.4f}: {reached['reached']} of the real data's "
                f"{clusters.count} {kind} reached (a real batch this size: {expected:.4f}); "
                f"peak {reached['peak']:.3g}"
            )
        else:
            mean, std = kernel_distance(
                real.features,
                fake.features,
                subsets=args.subsets,
                subset_size=args.subset_size,
                seed=args.seed,
            )
            result = {
                "metric": "kid",
                "value": mean,
                "std": std,
                "subsets": args.subsets,
                "subset_size": min(args.subset_size, real.count, fake.count),
            }
            line = f"KID {mean:.6g} ± {std:.3g}"
    for warning in caught:  # one line each, not Python's two-line warning format
        print(f"gst: warning: {warning.message}", file=sys.stderr)
    _warn_if_too_few(args.metric, real, fake)
    comparable = bool(extractor.comparable)
    result.update(
        extractor=name,
        feature_dim=int(real.features.shape[1]),
        comparable_with_published=comparable,
        resize=resize,
        real=real.summary(),
        fake=fake.summary(),
    )
    print(f"real: {real.count} images from {real.source}" + _skipped(real))
    print(f"fake: {fake.count} images from {fake.source}" + _skipped(fake))
    print(line)
    if args.json is not None:
        with atomic_write(args.json) as f:
            f.write((json.dumps(result, indent=2) + "\n").encode())
        print(f"gst eval: wrote {args.json}")
    return 0


def _warn_if_too_few(metric: str, real: FeatureSet, fake: FeatureSet) -> None:
    """FID's covariances need more samples than feature dimensions; below that the number
    is mostly the singular covariances' doing, and nothing else says so."""
    count, dim = min(real.count, fake.count), int(real.features.shape[1])
    if metric == "fid" and count <= dim:
        print(
            f"gst: warning: FID from {count} images of {dim}-dimensional features: with no "
            "more images than dimensions the covariances are singular and the value says "
            f"little; use well over {dim} images per side (10000 is usual)",
            file=sys.stderr,
        )


def _skipped(side: FeatureSet) -> str:
    return f" ({len(side.skipped)} unreadable files skipped)" if side.skipped else ""
