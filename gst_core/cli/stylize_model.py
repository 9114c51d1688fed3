"""`gst stylize --model CHECKPOINT IMAGE... -o OUTDIR`: one forward pass per image.

The checkpoint's generator must be an image-to-image one (``fast_style``,
``gan_style``, pix2pix, CycleGAN); a GAN's latent generator is refused with a
pointer to ``gst sample``. Every output path is checked before any work, an
input is never overwritten, and images of the same size go through the
network together (``--batch-size`` at a time).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch

from gst_core.apply.compiled import compile_generator, said_in_one_line
from gst_core.apply.tiling import apply_tiled
from gst_core.apply.translate import load_translator, plan_outputs
from gst_core.apply.video import apply_to_video, is_video
from gst_core.cli.tiling_options import tiling_from_args
from gst_core.errors import GstError
from gst_core.images import load_image, save_image
from gst_core.runtime.option_checks import check_option, resolve_device
from gst_core.runtime.output_paths import check_output_file, writable_image_suffixes

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    with said_in_one_line():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    inputs = [p for p in (args.content, *args.styles) if p is not None]
    if not inputs:
        raise GstError("give the images to stylize: gst stylize --model CKPT IMAGE... -o OUTDIR")
    if args.output is None:
        raise GstError("give an output folder: gst stylize --model CKPT IMAGE... -o OUTDIR")
    if args.batch_size is not None:
        check_option(args.batch_size, "an integer", "--batch-size", source="gst stylize", minimum=1)
    # Checked here: an unusable device used to surface as "the checkpoint is corrupt".
    device = resolve_device(args.device or "auto")
    missing = [p for p in inputs if not Path(p).exists()]
    if missing:
        raise GstError(f"input image(s) not found: {', '.join(missing)}")
    if any(is_video(p) for p in inputs):
        return _run_video(args, inputs)
    sources, outputs = _plan(inputs, args.output, args.overwrite)
    tiling = tiling_from_args(args, progress=not args.quiet)
    generator = _compiled_if_asked(load_translator(args.model, "a2b", device=device), args)
    images = [load_image(p, args.size) for p in sources]
    by_size: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, image in enumerate(images):
        by_size[tuple(image.shape[-2:])].append(i)
    batch = max(1, args.batch_size or 8)
    for indices in by_size.values():
        for start in range(0, len(indices), batch):
            chunk = indices[start : start + batch]
            x = torch.cat([images[i] for i in chunk]).to(device)
            for i, result in zip(chunk, apply_tiled(generator, x, tiling), strict=True):
                outputs[i].parent.mkdir(parents=True, exist_ok=True)
                save_image(result.unsqueeze(0).cpu(), outputs[i])
    if not args.quiet:
        print(f"gst: wrote {len(sources)} image(s) to {args.output}", file=sys.stderr)
    return 0


def _compiled_if_asked(generator: torch.nn.Module, args: argparse.Namespace) -> torch.nn.Module:
    """``--compile``: the generator's forward through torch.compile (a warning where it cannot
    be, now or at the first image)."""
    return compile_generator(generator) if getattr(args, "compile", False) else generator


def _plan(inputs: list[str], output: str, overwrite: bool) -> tuple[list[Path], list[Path]]:
    """Input files and their outputs, all checked before any work.

    One input file and an output with an image suffix (``-o one.png``) writes that file;
    otherwise ``-o`` is a folder and files or folders of images go into it as
    ``gst translate`` does (one PNG each, a folder's subfolders kept).
    """
    single = len(inputs) == 1 and Path(inputs[0]).is_file()
    target = Path(output).expanduser()
    if single and not target.is_dir() and target.suffix.lower() in writable_image_suffixes():
        checked = check_output_file(target, inputs=inputs, overwrite=overwrite, image=True)
        return [Path(inputs[0])], [checked]
    if not single and not target.is_dir() and target.suffix.lower() in writable_image_suffixes():
        raise GstError(
            f"-o {output!r} names one image, but the inputs are {len(inputs)} files or a "
            "folder; give one input image for -o FILE, or an output folder (-o out/)"
        )
    planned = plan_outputs(inputs, output, overwrite=overwrite)
    return [s for s, _ in planned], [t for _, t in planned]


def _run_video(args: argparse.Namespace, inputs: list[str]) -> int:
    """``gst stylize --model CKPT clip.mp4 -o out.mp4``: every frame through the network."""
    if len(inputs) != 1:
        raise GstError("stylize one video at a time: gst stylize --model CKPT clip.mp4 -o out.mp4")
    tiling = tiling_from_args(args, progress=False)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    generator = _compiled_if_asked(load_translator(args.model, "a2b", device=device), args)
    written = apply_to_video(
        generator,
        inputs[0],
        args.output,
        batch=max(1, args.batch_size or 4),
        tiling=tiling,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(f"gst: wrote {written}", file=sys.stderr)
    return 0
