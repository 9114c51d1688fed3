"""Features for FID/KID: choosing the extractor, reading images, drawing samples.

Any registered ``feature_extractor`` can measure. Its features are pooled
vectors: the ``"pool"`` output ``(B, D)`` of a pooled extractor
(``inception``, ``random_pool``), else the deepest tap in ``layers``,
spatially averaged. Images reach it as RGB in ``[0, 1]`` at the extractor's
``input_size`` (resized with bilinear interpolation, one image at a time, so
any mix of sizes can be batched; an extractor without ``input_size`` gets
224×224). Generated images are mapped from ``[-1, 1]`` to ``[0, 1]`` and
rounded to 8 bits, as if saved as PNG, so that a folder of saved samples and
the generator itself give the same features.

The default extractor (the registered ``fid_auto``) is the FID InceptionV3
when its weights file is on this machine, else the offline ``random_pool``,
announced in one line as not comparable with published values.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from gst_core.images import ImageReadError, find_images, image_suffixes, open_image, pil_to_tensor
from gst_core.interfaces import FeatureExtractor, ImageGenerator
from gst_core.kinds import feature_extractors
from gst_core.metrics.errors import MetricError

__all__ = [
    "DEFAULT_EXTRACTOR",
    "DEFAULT_INPUT_SIZE",
    "FeatureSet",
    "NOT_COMPARABLE",
    "describe_extractor",
    "folder_features",
    "generator_features",
    "image_files",
    "images_features",
    "pooled_features",
    "resolve_extractor",
]

DEFAULT_INPUT_SIZE = (224, 224)
#: The registered extractor FID/KID use when none is named.
DEFAULT_EXTRACTOR = "fid_auto"
NOT_COMPARABLE = (
    "values from {name!r} are NOT comparable with published FID/KID (those use the FID "
    "InceptionV3); for comparable numbers get pytorch-fid's pt_inception-2015-12-05-6726825d.pth "
    "and pass --weights PATH or set GST_INCEPTION_WEIGHTS"
)


def resolve_extractor(
    name: str | FeatureExtractor | None = DEFAULT_EXTRACTOR,
    *,
    weights: str | os.PathLike[str] | None = None,
    announce: Callable[[str], None] | None = print,
) -> tuple[FeatureExtractor, str]:
    """The extractor to measure with, and its name.

    Any registered ``feature_extractor`` name (``None``: :data:`DEFAULT_EXTRACTOR`,
    ``fid_auto``: the FID InceptionV3 when its weights are found, else
    ``random_pool``); ``weights`` is passed to it when given. Extractors whose
    values are not comparable with published ones are announced through
    ``announce`` (one line; ``None`` for silence).
    """
    if isinstance(name, FeatureExtractor):
        return name.eval(), type(name).__name__
    name = name or DEFAULT_EXTRACTOR
    kwargs: dict[str, Any] = {"weights": weights} if weights is not None else {}
    extractor = feature_extractors.build(name, **kwargs)
    if announce is not None and not extractor.comparable:
        shown = name if type(extractor).__name__ in name else f"{name} ({type(extractor).__name__})"
        announce(f"gst: note: {NOT_COMPARABLE.format(name=shown)}")
    return extractor.eval(), name


def input_size(extractor: FeatureExtractor) -> tuple[int, int]:
    size = extractor.input_size
    return tuple(size) if size else DEFAULT_INPUT_SIZE  # type: ignore[return-value]


def describe_extractor(extractor: FeatureExtractor) -> str:
    """How images are prepared for ``extractor``, in words."""
    method = extractor.resize_method
    if method:
        return str(method)
    h, w = input_size(extractor)
    return f"bilinear resize to {h}x{w} (torch interpolate, align_corners=False)"


def pooled_features(extractor: FeatureExtractor, images: Tensor) -> Tensor:
    """``(B, D)`` float64 CPU features of ``images`` (RGB ``[0, 1]``)."""
    with torch.no_grad():
        out = extractor(images)
    if "pool" in out:
        features = out["pool"]
    else:
        layers = tuple(extractor.layers or out)
        features = out[layers[-1]]
    if features.ndim == 4:
        features = features.mean((2, 3))
    return features.flatten(1).to("cpu", torch.float64)


def _resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(images.shape[-2:]) == size:
        return images
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)


@dataclass
class FeatureSet:
    """Features ``(N, D)`` float64 and where they came from."""

    features: Tensor
    source: str
    skipped: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.features.shape[0])

    def summary(self) -> dict[str, Any]:
        record: dict[str, Any] = {"source": self.source, "count": self.count}
        if self.skipped:
            record["skipped"] = len(self.skipped)
        return record


def _device_of(extractor: FeatureExtractor) -> torch.device:
    for tensor in (*extractor.parameters(), *extractor.buffers()):
        return tensor.device
    return torch.device("cpu")


def images_features(
    batches: Iterable[Tensor],
    extractor: FeatureExtractor,
    *,
    total: int | None = None,
    desc: str = "features",
    progress: bool = True,
) -> Tensor:
    """Features of image batches (RGB ``[0, 1]``, any size, 1 or 3 channels)."""
    size, device = input_size(extractor), _device_of(extractor)
    parts: list[Tensor] = []
    with tqdm(total=total, desc=desc, unit="img", disable=not progress, leave=False) as bar:
        for batch in batches:
            if batch.shape[1] == 1:
                batch = batch.expand(-1, 3, -1, -1)
            parts.append(pooled_features(extractor, _resize(batch.to(device).float(), size)))
            bar.update(batch.shape[0])
    if not parts:
        raise MetricError(f"{desc}: no images to measure")
    return torch.cat(parts)


def image_files(folder: str | Path) -> list[Path]:
    """Image files under ``folder`` (recursively, by suffix), sorted; hidden files skipped."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise MetricError(
            f"{str(root)!r} is not a folder of images (nor a checkpoint file); check the path"
        )
    files = find_images(root)
    if not files:
        suffixes = image_suffixes()
        raise MetricError(
            f"no image files in {str(root)!r} (looked for {', '.join(sorted(suffixes)[:6])}, "
            "... in it and its subfolders)"
        )
    return files


def folder_features(
    folder: str | Path,
    extractor: FeatureExtractor,
    *,
    batch_size: int = 50,
    limit: int | None = None,
    progress: bool = True,
) -> FeatureSet:
    """Features of every readable image under ``folder``; unreadable files are skipped and
    counted (with a warning naming the first few)."""
    files = image_files(folder)
    if limit is not None:
        files = files[:limit]
    size = input_size(extractor)
    skipped: list[str] = []

    def batches() -> Iterator[Tensor]:
        batch: list[Tensor] = []
        for path in files:
            try:
                tensor = pil_to_tensor(open_image(path))
            except ImageReadError:  # unreadable, damaged or a decompression bomb
                skipped.append(str(path))
                continue
            batch.append(_resize(tensor, size))
            if len(batch) == batch_size:
                yield torch.cat(batch)
                batch = []
        if batch:
            yield torch.cat(batch)

    try:
        features = images_features(
            batches(), extractor, total=len(files), desc=str(folder), progress=progress
        )
    except MetricError:
        raise MetricError(
            f"none of the {len(files)} image files in {str(folder)!r} could be read "
            f"(first: {skipped[0]!r})"
        ) from None
    if skipped:
        warnings.warn(
            f"{len(skipped)} of {len(files)} files in {str(folder)!r} are not readable images "
            f"and were skipped: {', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''}",
            stacklevel=2,
        )
    return FeatureSet(features, str(folder), skipped)


def generated_batches(
    generator: ImageGenerator, count: int, *, batch_size: int = 50, seed: int = 0
) -> Iterator[Tensor]:
    """``count`` samples of a latent generator as RGB ``[0, 1]``, rounded to 8 bits.

    A class-conditional generator draws the classes in turn (``i % num_classes``),
    so every class is equally represented.
    """
    if generator.input_kind != "latent":
        raise MetricError(
            "sampling for FID/KID needs a noise-to-image generator; for an image-to-image "
            "model, save its outputs to a folder and measure the folder"
        )
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    classes = int(generator.num_classes)
    done = 0
    while done < count:
        n = min(batch_size, count - done)
        labels = (torch.arange(done, done + n, device=device) % classes) if classes else None
        with torch.no_grad():
            images = generator(generator.sample_latent(n, generator=rng), labels)
        done += n
        yield ((images.float() + 1) / 2).clamp(0, 1).mul(255).round().div(255)


def generator_features(
    generator: ImageGenerator,
    count: int,
    extractor: FeatureExtractor,
    *,
    batch_size: int = 50,
    seed: int = 0,
    source: str = "generator",
    progress: bool = True,
) -> FeatureSet:
    """Features of ``count`` generated samples (see :func:`generated_batches`)."""
    if count < 2:
        raise MetricError(f"FID/KID need at least 2 samples, got -n {count}")
    was_training = generator.training
    generator.eval()
    try:
        features = images_features(
            generated_batches(generator, count, batch_size=batch_size, seed=seed),
            extractor,
            total=count,
            desc=source,
            progress=progress,
        )
    finally:
        generator.train(was_training)
    return FeatureSet(features, source)
