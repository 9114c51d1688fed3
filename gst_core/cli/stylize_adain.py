"""`gst stylize --model ADAIN_RUN CONTENT... --style STYLE [STYLE ...] -o OUTDIR`.

Arbitrary style transfer with a trained ``adain`` model: ``--alpha``,
``--style-blend-weights``, ``--preserve-color`` and ``--mask`` (one per style).
Every path is checked before any work; an input is never overwritten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor

from gst_core.errors import GstError
from gst_core.runtime.option_checks import check_option

__all__ = ["reject_adain_flags", "run_if_adain", "same_size_batches"]


def reject_adain_flags(args: argparse.Namespace, *, gatys: bool = False) -> None:
    """--style/--alpha/--mask without an adain --model: say what they need.

    ``gatys``: the optimisation path, which takes ``--mask`` (one per style) itself.
    """
    flags = [("--style", args.adain_styles), ("--alpha", args.alpha)]
    if not gatys:
        flags.append(("--mask", args.masks))
    given = [f for f, v in flags if v]
    if given:
        raise GstError(
            f"{', '.join(given)} need(s) an adain model: gst stylize --model RUN CONTENT... "
            "--style STYLE (train one with `gst train adain`)"
        )


def same_size_batches(
    paths: list[str], size: int | None, batch: int
) -> Iterator[list[tuple[int, Tensor]]]:
    """``(index, image)`` lists of at most ``batch`` same-size images, read at ``size``.

    Images are grouped by size as they are read; a group is yielded once full, and
    the rest at the end, so at most one partial group per size is held.
    """
    from gst_core.images import load_image

    pending: dict[tuple[int, int], list[tuple[int, Tensor]]] = {}
    for i, path in enumerate(paths):
        image = load_image(path, size)
        group = pending.setdefault(tuple(image.shape[-2:]), [])
        group.append((i, image))
        if len(group) == batch:
            yield pending.pop(tuple(image.shape[-2:]))
    yield from pending.values()


def run_if_adain(args: argparse.Namespace) -> bool:
    """Stylise with an adain --model and return True; False for any other checkpoint."""
    from gst_core.apply.adain_model import adain_stylize, is_adain_checkpoint, load_adain
    from gst_core.images import save_image
    from gst_core.runtime.output_paths import check_output_dir, check_output_file

    if not is_adain_checkpoint(args.model):
        reject_adain_flags(args)
        return False
    contents = [p for p in (args.content, *args.styles) if p is not None]
    styles = list(args.adain_styles or [])
    if not contents or not styles:
        raise GstError(
            "an adain model needs content and style images: gst stylize --model RUN "
            "CONTENT... --style STYLE [STYLE ...] -o OUTDIR"
        )
    if args.output is None:
        raise GstError("give an output folder: -o OUTDIR")
    masks = list(args.masks or [])
    inputs = [*contents, *styles, *masks]
    missing = [p for p in inputs if not Path(p).is_file()]
    if missing:
        raise GstError(f"input image(s) not found: {', '.join(missing)}")
    if masks and len(masks) != len(styles):
        raise GstError(f"{len(masks)} --mask for {len(styles)} --style; give one mask per style")
    if args.style_blend_weights and len(args.style_blend_weights) != len(styles):
        raise GstError(
            f"--style-blend-weights has {len(args.style_blend_weights)} weight(s) for "
            f"{len(styles)} style(s); give one per style"
        )
    alpha = 1.0 if args.alpha is None else args.alpha
    if not 0.0 <= alpha <= 1.0:
        raise GstError(f"--alpha must be between 0 and 1, got {alpha}")
    out_dir = check_output_dir(args.output, inputs=inputs)
    names = [Path(p).stem + ".png" for p in contents]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise GstError(f"several contents would be written as {', '.join(clashes)}")
    outputs = [
        check_output_file(out_dir / n, inputs=inputs, overwrite=args.overwrite, image=True)
        for n in names
    ]
    if args.batch_size is not None:
        check_option(args.batch_size, "an integer", "--batch-size", source="gst stylize", minimum=1)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = load_adain(args.model, device=device)
    out_dir.mkdir(parents=True, exist_ok=True)
    for chunk in same_size_batches(contents, args.size, args.batch_size or 8):
        images = adain_stylize(
            model,
            torch.cat([image for _, image in chunk]),
            styles,
            alpha=alpha,
            weights=args.style_blend_weights,
            masks=masks or None,
            preserve_color=args.preserve_color,
            size=args.size,
            device=device,
        )
        for (i, _), image in zip(chunk, images.split(1), strict=True):
            save_image(image.cpu(), outputs[i])
    if not args.quiet:
        print(f"gst: wrote {len(contents)} image(s) to {args.output}", file=sys.stderr)
    return True
