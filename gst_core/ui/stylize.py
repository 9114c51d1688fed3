"""The Stylize tab's work: Gatys optimisation with live previews, or a trained model.

Several styles are mixed everywhere by weight, or given one region each by masks (one grey
image per style), for Gatys and AdaIN alike: ``gst stylize``'s ``--style-blend-weights`` and
``--mask``, checked here before any work (:func:`check_style_mix`).

:func:`gatys` is a generator of :class:`GatysUpdate`: the optimisation runs in a worker
thread and the generator passes on its progress, a preview every ``preview_every``
evaluations, and finally the result file. Closing the generator (the page's Stop) stops the
optimisation at its next evaluation; the last preview is what the page keeps.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from gst_core.errors import GstError, NonFiniteLossError
from gst_core.images import save_image, tensor_to_pil
from gst_core.ui.uploads import check_uploads, read_upload
from gst_core.ui.workspace import Workspace

__all__ = ["GatysSettings", "GatysUpdate", "check_style_mix", "gatys", "stylize_with_model"]

PRESERVE = ("luminance", "histogram")


@dataclass
class GatysSettings:
    """The options the page offers; None weights take the extractor's defaults."""

    size: int = 256
    steps: int = 100
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    preserve_color: str | None = None
    weights: str | None = None  # VGG weights file; None: auto (VGG19 if found, else offline)
    preview_every: int = 10
    seed: int = 0
    device: str = "cpu"
    style_blend_weights: Sequence[float] | None = None  # one per style; None: equal


@dataclass
class GatysUpdate:
    """Where the optimisation is: ``preview`` when a new one is due, ``result`` at the end."""

    step: int
    total: int
    preview: Image.Image | None = None
    result: Path | None = None

    @property
    def size_text(self) -> str:
        return "" if self.result is None else _size_text(self.result)


class _Stopped(Exception):
    """Raised in the optimisation's callback once the consumer has gone."""


def _size_text(path: Path) -> str:
    with Image.open(path) as image:
        return f"{image.width}×{image.height}"


def _check_size(size: object, what: str = "size") -> int:
    if isinstance(size, float) and size.is_integer():
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or size < 16:
        raise GstError(f"{what} must be a whole number of at least 16 pixels, got {size!r}")
    return size


def _preserve(value: str | None) -> str | None:
    if value in (None, "", "off"):
        return None
    if value not in PRESERVE:
        raise GstError(f"colour preservation must be off, luminance or histogram, got {value!r}")
    return value


def check_style_mix(
    weights: Sequence[float] | None,
    masks: Sequence[str | Path] | None,
    count: int,
    content: torch.Tensor,
) -> tuple[list[float] | None, list[torch.Tensor] | None]:
    """The mixing weights and the masks (read) for ``count`` styles, or the message saying
    what is wrong: a count that is not one per style, weights below 0 or summing to 0, a mask
    without the content's aspect ratio, or both at once (they are two ways of combining)."""
    from gst_core.pipelines.masked_style import check_masks

    weights = None if weights is None or len(weights) == 0 else [float(w) for w in weights]
    mask_paths = check_uploads(masks, "masks", required=False)
    if weights is not None and mask_paths:
        raise GstError(
            "style mix weights blend the styles everywhere, masks give each style its own "
            "region; use one or the other"
        )
    if weights is not None:
        if len(weights) != count:
            raise GstError(
                f"{len(weights)} style mix weight(s) for {count} style image(s); give one "
                "weight per style, in the same order"
            )
        if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
            raise GstError(
                f"style mix weights must be 0 or more with a positive sum, got {weights}"
            )
    if not mask_paths:
        return weights, None
    if len(mask_paths) != count:
        raise GstError(
            f"{len(mask_paths)} mask(s) for {count} style image(s); give one mask per style, "
            "in the same order"
        )
    read = [read_upload(p) for p in mask_paths]  # full size, as `gst stylize --mask` reads them
    try:
        check_masks(read, count, content.shape[-2:])
    except GstError as exc:  # "mask 2 is ...": the user knows it by its file name
        message = str(exc)
        for i, path in enumerate(mask_paths, 1):
            message = message.replace(f"mask {i} ", f"mask {i} ({path.name}) ", 1)
        raise GstError(message) from None
    return weights, read


def gatys(
    workspace: Workspace,
    content: str | Path | None,
    styles: Sequence[str | Path] | None,
    settings: GatysSettings,
    *,
    masks: Sequence[str | Path] | None = None,
    poll: float = 0.25,
) -> Iterator[GatysUpdate]:
    """Stylize the uploaded ``content`` with the ``styles`` (Gatys et al.); see the module.

    ``masks``: uploaded grey images, one per style, giving each style its region.
    An update comes at least every ``poll`` seconds, so that a consumer can stop between
    them; all inputs and options are checked before the worker starts.
    """
    from gst_core.kinds import feature_extractors
    from gst_core.pipelines import StyleTransfer, StylizeOptions

    size = _check_size(settings.size)
    (content_path,) = check_uploads(content, "a content image")
    style_paths = check_uploads(styles, "one or more style images")
    every = settings.preview_every
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise GstError(f"preview every must be a whole number of at least 1, got {every!r}")
    if isinstance(settings.steps, float) and settings.steps.is_integer():
        settings.steps = int(settings.steps)
    content_image = read_upload(content_path, size)
    blend, mask_images = check_style_mix(
        settings.style_blend_weights, masks, len(style_paths), content_image
    )
    options = StylizeOptions(
        steps=settings.steps,
        content_weight=settings.content_weight,
        style_weight=settings.style_weight,
        tv_weight=settings.tv_weight,
        preserve_color=_preserve(settings.preserve_color),
        seed=settings.seed,
        device=settings.device,
        progress=False,
        style_blend_weights=blend,
    )
    weights = settings.weights or None
    if weights is not None and not Path(weights).expanduser().is_file():
        raise GstError(f"VGG weights file {weights!r} does not exist; leave it empty for auto")
    style_images = [read_upload(p, size) for p in style_paths]
    extractor = feature_extractors.build({"name": "auto", "weights": weights, "quiet": True})
    transfer = StyleTransfer(extractor, options=options)
    output = workspace.job_folder("stylize") / f"{content_path.stem}-stylized.png"

    events: queue.Queue[tuple[str, object]] = queue.Queue()
    stop = threading.Event()
    done = {"step": 0}

    def callback(step: int, image: torch.Tensor) -> None:
        if stop.is_set():
            raise _Stopped
        done["step"] = step
        if step % every == 0:
            events.put(("preview", (step, tensor_to_pil(image.clamp(0, 1).cpu()))))

    def work() -> None:
        try:
            events.put(
                (
                    "done",
                    transfer.run(content_image, style_images, masks=mask_images, callback=callback),
                )
            )
        except _Stopped:
            events.put(("stopped", None))
        except BaseException as exc:  # handed to the consumer, raised there
            events.put(("error", exc))

    total = options.steps * options.scales
    worker = threading.Thread(target=work, name="gst-ui-gatys", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, payload = events.get(timeout=poll)
            except queue.Empty:
                yield GatysUpdate(done["step"], total)
                continue
            if kind == "preview":
                step, preview = payload  # type: ignore[misc]
                yield GatysUpdate(step, total, preview=preview)
            elif kind == "error":
                if isinstance(payload, NonFiniteLossError) and payload.image is not None:
                    save_image(payload.image, output)
                    yield GatysUpdate(done["step"], total, result=output)
                raise payload  # type: ignore[misc]
            elif kind == "done":
                save_image(payload, output)  # type: ignore[arg-type]
                yield GatysUpdate(done["step"], total, result=output)
                return
            else:
                return
    finally:
        stop.set()  # the consumer stopped (or an error): the worker ends at its next step


def stylize_with_model(
    workspace: Workspace,
    model: str | os.PathLike[str] | None,
    content: str | Path | None,
    styles: Sequence[str | Path] | None = None,
    *,
    adain: bool = False,
    alpha: float = 1.0,
    style_blend_weights: Sequence[float] | None = None,
    masks: Sequence[str | Path] | None = None,
    size: int | None = None,
    preserve_color: str | None = None,
    device: str | torch.device = "cpu",
) -> Path:
    """One forward pass: a fast_style/gan_style model (its style is built in), or with
    ``adain`` an AdaIN model and any ``styles``, mixed by ``style_blend_weights`` or given
    a region each by ``masks`` (uploaded grey images, one per style). Returns the result
    file."""
    from gst_core.apply.adain_model import adain_stylize, is_adain_checkpoint

    if not model or not str(model).strip():
        raise GstError("choose a model: a run folder, model folder or checkpoint file")
    model = Path(str(model).strip()).expanduser()
    if not model.exists():
        raise GstError(
            f"model {str(model)!r} does not exist; give a run folder, model folder or checkpoint"
        )
    if size is not None:
        size = _check_size(size)
    (content_path,) = check_uploads(content, "a content image")
    preserve = _preserve(preserve_color)
    output = workspace.job_folder("stylize") / f"{content_path.stem}-stylized.png"
    is_adain = is_adain_checkpoint(model)
    if adain != is_adain:
        raise GstError(
            f"{model} is an AdaIN model: choose the AdaIN method"
            if is_adain
            else f"{model} is not an AdaIN model (train one with `gst train adain`); for a "
            "fast_style/gan_style model choose the trained-model method"
        )
    image = read_upload(content_path, size)
    if adain:
        style_paths = check_uploads(styles, "one or more style images")
        style_images = [read_upload(p, size) for p in style_paths]
        blend, mask_images = check_style_mix(style_blend_weights, masks, len(style_paths), image)
        result = adain_stylize(
            model,
            image,
            style_images,
            alpha=alpha,
            weights=blend,
            masks=mask_images,
            preserve_color=preserve,
            device=device,
        )
    else:
        if (style_blend_weights is not None and len(style_blend_weights)) or masks:
            raise GstError(
                "style mix weights and masks combine several styles, for Gatys and AdaIN; a "
                "trained model's style is its own"
            )
        if preserve is not None:
            raise GstError(
                "colour preservation applies to Gatys and AdaIN; a trained model's colours are "
                "its own"
            )
        from gst_core.apply.tiling import Tiling, apply_tiled
        from gst_core.apply.translate import load_translator

        generator = load_translator(model, "a2b", device=device)
        with torch.no_grad():
            (result,) = apply_tiled(generator, image.to(device), Tiling())
        result = result.unsqueeze(0)
    save_image(result.cpu(), output)
    return output
