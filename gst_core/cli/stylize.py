"""`gst stylize CONTENT STYLE [STYLE ...] -o OUT.png`: Gatys style transfer.

Settings come from, lowest to highest precedence: the built-in defaults, the
``--config`` TOML file (``[feature_extractor]``, ``[loss.content]``,
``[loss.style]``, ``[loss.tv]`` and ``[stylize]`` for the options, see
examples/stylize.toml), then the flags given on the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gst_core.cli.threads import add_threads_option
from gst_core.cli.tiling_options import add_tiling_arguments
from gst_core.errors import GstError, NonFiniteLossError, SpecError
from gst_core.images import check_pixel_count, load_image, save_image
from gst_core.perceptual import check_feature_loss
from gst_core.pipelines import StyleTransfer, StylizeOptions
from gst_core.runtime.option_checks import OptionError, check_option
from gst_core.runtime.output_paths import OutputPathError, check_output_file

# Demo settings: the built-in sample images at 256 px finish in about a minute on a
# 2-core CPU with the offline extractor (see docs/style_transfer.md for the timings).
DEMO_SIZE = 256
DEMO_STEPS = 100
DEFAULT_SIZE = 512  # neural-style's default image size
# [stylize] keys that are not StylizeOptions fields.
FILE_KEYS = ("content", "styles", "output", "size", "demo")
LOSS_LABELS = {"content": "content", "style": "style", "tv": "tv", "total_variation": "tv"}


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "stylize",
        help="neural style transfer (Gatys et al.) of a content image in the style of others",
        description=(
            "Optimise an image so its content matches CONTENT and its style (Gram matrices) "
            "matches STYLE(s). Without images, or with --demo, built-in samples are used."
        ),
    )
    p.add_argument("content", nargs="?", help="content image")
    p.add_argument("styles", nargs="*", metavar="style", help="style image(s)")
    p.add_argument("-o", "--output", help="output PNG/JPEG (default: stylized.png)")
    p.add_argument("--demo", action="store_true", help="stylize the built-in sample images")
    p.add_argument("--config", help="TOML file with components and [stylize] options")
    g = p.add_argument_group(
        "trained network (one forward pass per image; positional arguments are the images)"
    )
    g.add_argument(
        "--model",
        metavar="CHECKPOINT",
        help="a fast_style/gan_style (or any image-to-image) checkpoint, run folder or model "
        "folder (gst publish); -o is then a folder",
    )
    g.add_argument(
        "--batch-size",
        type=int,
        help="same-size images per forward pass (8; also with an adain --model)",
    )
    g.add_argument(
        "--compile",
        action="store_true",
        help="with --model: run the network through torch.compile (needs g++ on a CPU; "
        "eager, with a warning, where it cannot)",
    )
    g.add_argument(
        "--style",
        dest="adain_styles",
        nargs="+",
        metavar="STYLE",
        help="with an adain --model: the style image(s), any (docs/adain.md)",
    )
    g.add_argument("--alpha", type=float, help="adain: content-style trade-off 0..1 (1)")
    g.add_argument(
        "--mask",
        dest="masks",
        action="append",
        metavar="MASK.png",
        help="one grey/binary mask per style (Gatys or adain): each region gets its style",
    )
    add_tiling_arguments(g)
    g = p.add_argument_group("size and optimisation")
    g.add_argument(
        "--size",
        type=int,
        help=f"longer side of the output (default {DEFAULT_SIZE}; --demo {DEMO_SIZE})",
    )
    g.add_argument("--steps", type=int, help="steps per scale (L-BFGS: function evaluations)")
    g.add_argument("--optimizer", choices=("lbfgs", "adam"))
    g.add_argument(
        "--tol",
        dest="tolerance",
        type=float,
        help="stop once the best loss of the last --window evaluations improves by less than "
        "this fraction (default 1e-3; 0: run every step)",
    )
    g.add_argument("--window", type=int, help="evaluations the --tol test looks back (20)")
    g.add_argument(
        "--line-search",
        choices=("strong_wolfe", "none"),
        help="L-BFGS line search (default strong_wolfe; none: the PyTorch tutorial's)",
    )
    g.add_argument("--lr", type=float, help="learning rate (default 1 for L-BFGS, 0.02 Adam)")
    g.add_argument("--scales", type=int, help="coarse-to-fine levels (each doubles the size)")
    g.add_argument("--init", choices=("content", "noise", "style"))
    g.add_argument("--seed", type=int)
    add_threads_option(g)
    g.add_argument("--device", help="cpu, cuda, cuda:1, ...")
    g = p.add_argument_group("losses")
    g.add_argument("--content-weight", type=float)
    g.add_argument("--style-weight", type=float)
    g.add_argument("--tv-weight", type=float, help="total-variation weight (smoothness)")
    g.add_argument("--content-layers", type=_names, help="e.g. relu4_2")
    g.add_argument("--style-layers", type=_names, help="e.g. relu1_1,relu2_1,relu3_1")
    g.add_argument("--style-layer-weights", type=_floats, help="one per style layer")
    g.add_argument("--style-blend-weights", type=_floats, help="one per style image")
    g.add_argument("--style-scale", type=float, help="style size relative to the content")
    g.add_argument(
        "--preserve-color",
        choices=("luminance", "histogram"),
        help="keep the content's colours: luminance-only transfer or histogram matching",
    )
    g = p.add_argument_group("feature extractor")
    g.add_argument(
        "--extractor",
        help="registered extractor (default: auto, which is vgg19 when weights are "
        "configured, else random_multiscale)",
    )
    g.add_argument(
        "--weights",
        help="VGG weights: torchvision state dict (.pth) or .safetensors "
        "(default: $GST_VGG_WEIGHTS, then torchvision's cache)",
    )
    g = p.add_argument_group("output")
    g.add_argument("--save-every", type=int, help="also write OUT_<step>.png every N steps")
    g.add_argument(
        "--strip",
        metavar="PATH",
        help="also write content | style(s) | output side by side, at the output's height",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output images (never an input)",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.model is not None:
        from gst_core.cli.stylize_adain import run_if_adain
        from gst_core.cli.stylize_model import run as run_model

        if run_if_adain(args):
            return 0

        return run_model(args)
    from gst_core.cli.stylize_adain import reject_adain_flags

    reject_adain_flags(args, gatys=True)
    given = [o for o in ("tile", "overlap", "max_memory") if getattr(args, o) is not None]
    if given:
        raise GstError(
            f"--{given[0].replace('_', '-')} applies to a trained network (--model CHECKPOINT); "
            "Gatys optimisation works on the whole image"
        )
    config = _load_config(args.config)
    settings: dict[str, Any] = dict(config.get("stylize", {}))
    unknown = [k for k in settings if k not in FILE_KEYS and k not in _option_names()]
    if unknown:
        raise SpecError(
            f"{args.config}: [stylize] has unknown key(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted((*FILE_KEYS, *_option_names())))}"
        )
    _check_file_keys(settings, args.config)
    demo = (
        args.demo
        or settings.get("demo", False)
        or (args.content is None and "content" not in settings)
    )
    flags = {k: v for k, v in vars(args).items() if v is not None}
    options = {k: settings[k] for k in _option_names() if k in settings}
    options.update({k: flags[k] for k in _option_names() if k in flags})
    if demo:
        options.setdefault("steps", DEMO_STEPS)
    options["progress"] = not args.quiet
    # `is not None`, not `or`: an explicit 0 or "" must reach the checks below, not
    # silently become the default.
    output = _first(flags.get("output"), settings.get("output"), "stylized.png")
    if not isinstance(output, str) or not output.strip():
        raise GstError(f"--output must be a file name, got {output!r}")
    inputs = [] if demo else _input_paths(args, settings)
    output = check_output_file(output, inputs=inputs, overwrite=args.overwrite, image=True)
    strip = None
    if args.strip is not None:
        if Path(args.strip).expanduser().resolve() == output:
            raise OutputPathError(f"--strip {args.strip!r} is the output image; name another")
        strip = check_output_file(
            args.strip, inputs=inputs, overwrite=args.overwrite, image=True, what="--strip"
        )
    if options.get("save_every"):
        options["save_path"] = output
        _check_intermediates(output, args.overwrite)
    size = _first(flags.get("size"), settings.get("size"), DEMO_SIZE if demo else DEFAULT_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 16:
        raise GstError(f"--size must be an integer of at least 16 pixels, got {size!r}")

    content, styles = _images(args, settings, demo, size)
    masks = _masks(args.masks, len(styles), content)
    extractor, content_loss, style_loss, tv_loss = _components(args, config)
    check_feature_loss("content", content_loss)
    check_feature_loss("style", style_loss)
    if args.content_layers:
        content_loss.set_layers(args.content_layers)
    if args.style_layers or args.style_layer_weights:
        layers = args.style_layers or style_loss.layers or tuple(extractor.default_style_layers)
        style_loss.set_layers(layers, args.style_layer_weights)
    opts = StylizeOptions.from_mapping(options, source="stylize options")
    transfer = StyleTransfer(extractor, content_loss, style_loss, tv_loss, options=opts)
    try:
        image = transfer.run(content, styles, masks=masks)
    except NonFiniteLossError as exc:
        save_image(exc.image, output)
        raise GstError(f"{exc} The last good image is in {output}.") from exc
    save_image(image, output)
    print(f"wrote {output} ({image.shape[-1]}×{image.shape[-2]})", file=sys.stderr)
    if strip is not None:
        from gst_core.cli.strip import side_by_side

        save_image(side_by_side([content, *styles, image], image.shape[-2]), strip)
        print(f"wrote {strip} (content | style | output)", file=sys.stderr)
    return 0


def _check_file_keys(settings: dict[str, Any], source: str | None) -> None:
    """[stylize]'s file options, typed: a string `styles` would be read letter by letter."""
    where = f"{source}: [stylize]"
    check_option(settings.get("content"), "a string", "content", source=where, optional=True)
    if isinstance(settings.get("styles"), str):
        raise OptionError(
            f'{where}: styles must be a list of file names, e.g. styles = ["{settings["styles"]}"]'
        )
    check_option(
        settings.get("styles"), "a list of file names", "styles", source=where, optional=True
    )
    check_option(settings.get("output"), "a string", "output", source=where, optional=True)
    check_option(settings.get("size"), "an integer", "size", source=where, optional=True)
    check_option(settings.get("demo"), "true or false", "demo", source=where, optional=True)


def _input_paths(args: argparse.Namespace, settings: dict[str, Any]) -> list[str]:
    content = args.content or settings.get("content")
    styles = args.styles or settings.get("styles", [])
    return [p for p in [content, *styles, *(args.masks or [])] if isinstance(p, str)]


def _masks(paths: list[str] | None, count: int, content: Any) -> list[Any] | None:
    """The --mask images, read and checked (count, format, aspect ratio) before any work."""
    if not paths:
        return None
    from gst_core.pipelines.masked_style import check_masks

    if len(paths) != count:
        raise GstError(
            f"{len(paths)} --mask for {count} style image(s); give one mask per style, "
            "in the same order"
        )
    masks = [load_image(p) for p in paths]
    check_masks(masks, count, content.shape[-2:])
    return masks


def _check_intermediates(output: Path, overwrite: bool) -> None:
    """--save-every writes <stem>_<step><suffix> beside the output: never over old ones silently."""
    existing = sorted(output.parent.glob(f"{output.stem}_[0-9][0-9][0-9][0-9][0-9]{output.suffix}"))
    if existing and not overwrite:
        raise OutputPathError(
            f"--save-every would overwrite {len(existing)} existing intermediate image(s) such "
            f"as {str(existing[0])!r}; pass --overwrite to replace them, or choose another "
            "output name"
        )


def _first(*values: Any) -> Any:
    """The first value that is not None."""
    return next(v for v in values if v is not None)


def _option_names() -> list[str]:
    from dataclasses import fields

    return [f.name for f in fields(StylizeOptions) if f.name not in ("save_path", "progress")]


def _load_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    from gst_core.config import load_toml

    return load_toml(path)


def _images(args: argparse.Namespace, settings: dict[str, Any], demo: bool, size: int):
    if demo:
        from gst_core.kinds import registry

        # The registered sample images: item 0 the content, item 1 the style, in [-1, 1].
        check_pixel_count((size, size), f"the demo images at --size {size}")
        samples = registry("dataset").build("style_samples", size=size)
        content, style = ((samples[i][0].unsqueeze(0) + 1) / 2 for i in (0, 1))
        return content, [style]
    content_path = args.content or settings.get("content")
    style_paths = args.styles or list(settings.get("styles", []))
    if not style_paths:
        raise GstError(
            "give at least one style image: gst stylize CONTENT STYLE [STYLE ...] -o OUT.png "
            "(or --demo for the built-in samples)"
        )
    content = load_image(content_path, size)
    # Styles are loaded at the content's size; the pipeline rescales them per style_scale.
    return content, [load_image(p, size) for p in style_paths]


def _components(args: argparse.Namespace, config: dict[str, Any]):
    from gst_core.config import build_components, single
    from gst_core.kinds import feature_extractors
    from gst_core.perceptual import default_losses

    source = args.config or "<config>"
    from_toml = config.get("feature_extractor")
    if (args.extractor or args.weights) and isinstance(from_toml, dict):
        # The flags win, and the TOML's extractor is not even built: its weights path may
        # not exist on this machine (issue 20). Its other options still apply when the
        # flags keep its network.
        config = {k: v for k, v in config.items() if k != "feature_extractor"}
    built = build_components(config, source=source) if config else {}
    if args.extractor or args.weights:
        spec = dict(from_toml) if isinstance(from_toml, dict) else {}
        if args.extractor and args.extractor != spec.get("name"):
            spec = {}  # another network: the TOML's options were for the one it names
        spec["name"] = args.extractor or spec.get("name", "auto")
        if args.weights:
            spec["weights"] = args.weights
        extractor = feature_extractors.build(spec)
    elif "feature_extractor" in built:
        extractor = single(built, "feature_extractor", source=source)
    else:
        extractor = feature_extractors.build("auto")
    parts: dict[str, Any] = {}
    for label, loss in built.get("loss", {}).items():
        if label not in LOSS_LABELS:
            raise SpecError(
                f"{source}: [loss.{label}] is not a style-transfer loss label; use "
                "[loss.content], [loss.style] and [loss.tv]"
                + (" (sub-tables, not a single [loss] table)" if label == "loss" else "")
            )
        parts[LOSS_LABELS[label]] = loss
    defaults = default_losses()
    return (
        extractor,
        parts.get("content") or defaults["content"],
        parts.get("style") or defaults["style"],
        parts.get("tv") or defaults["tv"],
    )
