"""Apply a trained image-to-image generator to image files: ``gst translate`` in Python.

Three lines::

    from gst_core.apply.translate import translate
    written = translate("runs/pix2pix-shapes", ["photo.jpg", "more_photos/"], "out/")
    print(written)

Any size and aspect ratio: each image is reflect-padded to what the network
needs and cropped back (:func:`gst_core.apply.apply_generator.apply_image_generator`),
never resized unless ``size`` asks; an image too big for the memory budget goes through in
overlapping tiles (:mod:`gst_core.apply.tiling`), and a video file frame by frame
(:mod:`gst_core.apply.video`). Outputs are PNG files named after their
inputs (a folder's subfolders are kept); every output path is checked before
the first image is translated, and an input is never overwritten.
Unreadable files are skipped and counted.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from gst_core.apply.compiled import compile_generator
from gst_core.apply.network_source import NetworkSource, open_networks
from gst_core.apply.tiling import Tiling, apply_tiled, choose_tile
from gst_core.apply.video import apply_to_video, is_video
from gst_core.errors import GstError
from gst_core.images import (
    ImageReadError,
    ImageTooLargeError,
    find_images,
    load_image_array,
    save_image,
)
from gst_core.runtime.output_paths import check_output_dir, check_output_file

__all__ = [
    "TranslateError",
    "TranslateResult",
    "direction_notice",
    "load_translator",
    "plan_outputs",
    "translate",
]

#: Direction → the network names that translate that way, by convention of the
#: image-to-image objectives: CycleGAN's ``g_ab``/``g_ba``, pix2pix's ``generator``.
DIRECTIONS: dict[str, tuple[str, ...]] = {"a2b": ("g_ab", "generator"), "b2a": ("g_ba",)}


class TranslateError(GstError, ValueError):
    """Bad input to ``gst translate``: no images, a generator of the wrong kind, ..."""


@dataclass
class TranslateResult:
    """What :func:`translate` wrote, and which inputs it could not read."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)

    def __iter__(self):  # so `for path in translate(...)` reads naturally
        return iter(self.written)

    def __len__(self) -> int:
        return len(self.written)


def load_translator(
    checkpoint: str | os.PathLike[str] | Mapping[str, Any],
    direction: str = "a2b",
    *,
    ema: bool = True,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """The image-to-image generator of a checkpoint, run folder or model folder (``gst
    publish``) that translates in ``direction``, in eval mode: ``generator`` (pix2pix,
    fast_style, gan_style; A → B only) or CycleGAN's ``g_ab`` / ``g_ba``. Shared by
    ``gst translate``, ``gst stylize --model`` and ``gst export``."""
    if direction not in DIRECTIONS:
        raise TranslateError(f"direction must be a2b or b2a, got {direction!r}")
    source = open_networks(checkpoint, device=device)
    networks, where = source.names, source.where
    found = [n for n in DIRECTIONS[direction] if n in networks]
    if not found:
        if direction == "b2a" and "generator" in networks:
            raise TranslateError(
                f"{where} ({source.objective}) translates one way only (A → B); for B → A "
                'train pix2pix with [data] direction = "b2a", or train cyclegan'
            )
        raise TranslateError(
            f"{where} has no image-to-image generator for {direction} (it holds "
            f"{', '.join(sorted(networks)) or 'no networks'}); use a checkpoint of an "
            "image-to-image method (pix2pix, cyclegan, fast_style, gan_style)"
        )
    generator = source.load(found[0], ema=ema, device=device)
    if generator.input_kind != "image":
        raise TranslateError(
            f"{where}: its {found[0]} makes images from noise (a gan run); draw from it with "
            "`gst sample`; images go through image-to-image checkpoints (pix2pix, cyclegan, "
            "fast_style, gan_style)"
        )
    return generator


def direction_notice(
    source: Mapping[str, Any] | NetworkSource,
    direction: str | None,
    *,
    switch: str = "pass --direction b2a",
) -> str | None:
    """What a command should say when it picked a two-way (CycleGAN) model's direction itself:
    A → B is the default, and B → A exists too. None when nothing needs saying. ``source`` is
    a loaded checkpoint or an :func:`open_networks` source (checkpoint, run or model folder);
    ``switch`` says how to ask for B → A where the user is (a flag, a control on a page)."""
    if isinstance(source, Mapping):
        networks, where = set(source.get("networks", {})), source.get("path", "the checkpoint")
    else:
        networks, where = set(source.names), source.where
    if direction is not None or not {"g_ab", "g_ba"} <= networks:
        return None
    return (
        f"{where} translates both ways; using A → B (g_ab), the default: {switch} for B → A (g_ba)"
    )


def _collect(inputs: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, Path]]:
    """``(file, output name relative to the output folder)`` for every input image."""
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            if (path / "checkpoints").is_dir() or (path / "config.json").is_file():
                # A second run folder among the images (a shell glob matching two runs) would
                # otherwise be read as a folder of images: its preview grids.
                raise TranslateError(
                    f"input {str(path)!r} is a gst run or model folder, not a folder of images; "
                    "give one model (gst translate RUN ..., gst stylize --model RUN ...) and "
                    "images or image folders after it"
                )
            images = find_images(path)
            if not images:
                raise TranslateError(
                    f"the folder {str(path)!r} holds no images (PNG, JPEG, ...) to translate"
                )
            found += [(f, f.relative_to(path).with_suffix(".png")) for f in images]
        elif path.is_file():
            found.append((path, Path(path.stem + ".png")))
        else:
            raise TranslateError(
                f"input {str(item)!r} does not exist (give image files or folders)"
            )
    if not found:
        raise TranslateError("no input images given; pass image files or folders")
    return found


def plan_outputs(
    inputs: Iterable[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> list[tuple[Path, Path]]:
    """``(input file, output file)`` pairs, every output checked before any work."""
    inputs = list(inputs)
    pairs = _collect(inputs)
    sources = [Path(i).expanduser() for i in inputs] + [f for f, _ in pairs]
    out_dir = check_output_dir(output_dir, inputs=[s for s in sources if s.is_dir()])
    planned: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for source, name in pairs:
        target = out_dir / name
        if target in seen:
            raise TranslateError(
                f"{str(seen[target])!r} and {str(source)!r} would both be written to "
                f"{str(target)!r}; rename one or translate them into different folders"
            )
        seen[target] = source
        check_output_file(target, inputs=sources, overwrite=overwrite, image=True)
        planned.append((source, target))
    return planned


def _same_size_batches(planned: list[tuple[Path, Path]], batch_size: int) -> list[list[int]]:
    """Indices into ``planned`` in batches of at most ``batch_size`` files of one pixel size,
    read from the headers only (no decoding); a file whose header is unreadable goes alone
    (its read error is reported when it is loaded)."""
    groups: dict[object, list[int]] = {}
    for i, (source, _) in enumerate(planned):
        try:
            with Image.open(source) as image:
                key: object = image.size
        except (OSError, ValueError, Image.DecompressionBombError):
            key = ("unreadable", i)
        groups.setdefault(key, []).append(i)
    return [
        indices[start : start + batch_size]
        for indices in groups.values()
        for start in range(0, len(indices), batch_size)
    ]


def translate(
    generator: nn.Module | str | os.PathLike[str],
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    direction: str = "a2b",
    size: int | None = None,
    overwrite: bool = False,
    ema: bool = True,
    device: str | torch.device = "cpu",
    progress: bool = True,
    tile: int | None = None,
    overlap: int | None = None,
    max_memory: int | str | None = None,
    batch_size: int = 8,
    compile: bool = False,
) -> TranslateResult:
    """Translate image files (or folders of them) into ``output_dir``, one PNG each.

    ``generator`` is a checkpoint (file or run folder) or an image generator
    module. ``size`` scales each image's longer side to that many pixels first
    (default: the image's own size). ``tile``/``overlap``/``max_memory``: see
    :class:`gst_core.apply.tiling.Tiling` (default: tile only an image that does not fit the
    memory budget). A video file (``clip.mp4``) is translated frame by frame into the video
    file ``output_dir`` names (:func:`gst_core.apply.video.apply_to_video`). Images of the
    same size go through the network ``batch_size`` at a time (the outputs equal one-by-one
    ones to float rounding: the generators are in eval mode). Returns the files written and
    those skipped. ``compile=True`` runs the network through ``torch.compile``
    (:func:`gst_core.apply.compiled.compile_generator`; eager, with a warning, where it
    cannot be compiled).
    """
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise TranslateError(f"size must be a positive integer, got {size!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise TranslateError(f"batch_size must be a positive integer, got {batch_size!r}")
    tiling = Tiling(tile, overlap, max_memory, progress=progress)
    inputs = list(inputs)
    video = any(is_video(i) and not Path(i).is_dir() for i in inputs)
    if video and len(inputs) != 1:
        raise TranslateError("translate one video at a time: gst translate RUN clip.mp4 -o out.mp4")
    planned = [] if video else plan_outputs(inputs, output_dir, overwrite=overwrite)
    if not isinstance(generator, nn.Module):
        generator = load_translator(generator, direction, ema=ema, device=device)
    elif getattr(generator, "input_kind", "image") != "image":  # any nn.Module may be given
        raise TranslateError(f"{type(generator).__name__} is not an image-to-image generator")
    generator.eval()
    if compile:
        compile_generator(generator)
    if video:
        out = apply_to_video(
            generator, inputs[0], output_dir, tiling=tiling, overwrite=overwrite, progress=progress
        )
        return TranslateResult(written=[out])
    try:
        device = next(generator.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    result = TranslateResult()
    written: dict[int, Path] = {}
    bar = tqdm(total=len(planned), desc="translate", unit="image", disable=not progress)
    for chunk in _same_size_batches(planned, batch_size):
        loaded: list[tuple[int, np.ndarray]] = []
        for i in chunk:
            try:
                loaded.append((i, load_image_array(planned[i][0], size)))
            except ImageTooLargeError as exc:
                # The file is readable; the size asked for is not possible.
                raise TranslateError(f"size {size} is too large: {exc}") from exc
            except ImageReadError:
                result.skipped.append(planned[i][0])
                bar.update(1)
        # One pass per shape: files of one header size can still differ once decoded (EXIF
        # rotation, a resize's rounding).
        by_shape: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for item in loaded:
            by_shape.setdefault(item[1].shape, []).append(item)
        groups = []
        for group in by_shape.values():
            h, w, c = group[0][1].shape
            # A batch that would need tiles (where a single image would not) goes one by one:
            # tiling changes instance-norm outputs (statistics from a thumbnail).
            one_pass = choose_tile(generator, (len(group), c, h, w), device, tiling) is None
            groups += [group] if one_pass or len(group) == 1 else [[item] for item in group]
        for group in groups:
            outputs = apply_tiled(generator, np.stack([image for _, image in group]), tiling)
            for (i, _), out in zip(group, outputs, strict=True):
                target = planned[i][1]
                target.parent.mkdir(parents=True, exist_ok=True)
                written[i] = save_image(out, target)
            bar.update(len(group))
    bar.close()
    result.written = [written[i] for i in sorted(written)]  # in the order of the inputs
    if result.skipped:
        first = ", ".join(p.name for p in result.skipped[:3])
        warnings.warn(
            f"skipped {len(result.skipped)} unreadable image(s) of {len(planned)}: {first}"
            f"{', ...' if len(result.skipped) > 3 else ''}",
            stacklevel=2,
        )
        if not result.written:
            raise TranslateError(
                f"none of the {len(planned)} input file(s) could be read as an image "
                f"(first: {result.skipped[0]})"
            )
    return result
