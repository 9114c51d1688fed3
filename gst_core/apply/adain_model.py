"""Stylise with a trained AdaIN model: any style image, never seen in training.

Three lines::

    from gst_core.apply.adain_model import adain_stylize
    from gst_core.images import save_image
    save_image(adain_stylize("runs/adain-...", "photo.jpg", ["style.jpg"], alpha=0.8), "out.png")

:class:`AdaINModel` is the encoder + AdaIN + decoder as one module
(``forward(content, style, alpha)``, images in ``[0, 1]``; what ``gst export``
writes to ONNX). :func:`adain_stylize` adds several styles (interpolated by
weight, or one per mask region), colour preservation and any image size: the
content is reflect-padded to a multiple of 8 for the encoder's three poolings
and cropped back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gst_core.apply.apply_generator import pad_to_multiple
from gst_core.apply.model_folder import CONFIG_FILE, is_hub_name, is_model_folder, load_pretrained
from gst_core.checkpoint import load_checkpoint, load_network
from gst_core.errors import GstError
from gst_core.feature_stats import adain, blend_adain, mean_std
from gst_core.images import load_image

__all__ = [
    "AdaINModel",
    "adain_stylize",
    "encoder_for_folder",
    "is_adain_checkpoint",
    "load_adain",
]

ImageLike = str | os.PathLike[str] | Tensor


class AdaINModel(nn.Module):
    """A frozen ``encoder`` (returning its AdaIN tap) and a trained ``decoder``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, tap: str) -> None:
        super().__init__()
        self.encoder, self.decoder, self.tap = encoder, decoder, tap
        self.requires_grad_(False)
        self.eval()

    def encode(self, images: Tensor) -> Tensor:
        return self.encoder(images)[self.tap]

    def forward(self, content: Tensor, style: Tensor, alpha: Tensor | float = 1.0) -> Tensor:
        """``content`` ``(N, 3, H, W)`` in the style of ``style`` ``(N or 1, 3, H', W')``."""
        x = self.encode(content)
        t = adain(x, *mean_std(self.encode(style)))
        return self.decoder(alpha * t + (1 - alpha) * x).clamp(0, 1)


def is_adain_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (a checkpoint, run folder, model folder or Hub name ``user/repo``)
    holds an AdaIN model; False if unreadable."""
    if is_hub_name(path):
        from gst_core.apply.hub import download

        try:  # cached by huggingface_hub: loading it afterwards does not fetch it again
            path = download(str(path))
        except GstError:
            return False  # the command's own loading says why
    if is_model_folder(path):
        try:  # the objective only; load_pretrained checks the folder when it is loaded
            config = json.loads((Path(path).expanduser() / CONFIG_FILE).read_text())
        except (ValueError, OSError, UnicodeDecodeError):
            return False
        return isinstance(config, dict) and config.get("objective") == "adain"
    try:
        return load_checkpoint(path).get("objective") == "adain"
    except GstError:
        return False


def _tap(options: Mapping[str, Any]) -> str:
    return options.get("layers", ["relu4_1"])[-1]


def encoder_for_folder(state: Mapping[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    """An adain checkpoint's encoder and its spec for a model folder.

    The folder holds the encoder's weights itself, so it works without the file the
    run read them from (vgg_normalised.pth, vgg19.pth); the spec builds the same layout
    with ``weights = "random"``, which the folder's weights then replace."""
    from gst_core.kinds import feature_extractors

    options = state.get("objective_config", {})
    tap = _tap(options)
    encoder = feature_extractors.build({**options["encoder"], "layers": [tap]})
    spec = {"kind": "feature_extractor", **options["encoder"], "weights": "random"}
    return encoder, {**spec, "layers": [tap]}


def load_adain(
    checkpoint: str | os.PathLike[str] | Mapping[str, Any], *, device: str | torch.device = "cpu"
) -> AdaINModel:
    """The AdaIN model of an ``adain`` checkpoint (file, run folder or model folder)."""
    from gst_core.kinds import feature_extractors

    if not isinstance(checkpoint, Mapping) and (
        is_model_folder(checkpoint) or is_hub_name(checkpoint)
    ):
        return _from_folder(checkpoint, device)
    state = (
        checkpoint
        if isinstance(checkpoint, Mapping)
        else load_checkpoint(checkpoint, map_location=device)
    )
    if state.get("objective") != "adain":
        raise GstError(
            f"{state.get('path', 'the checkpoint')} is a {state.get('objective')!r} run, not "
            "adain; --style works with `gst train adain` models"
        )
    options = state.get("objective_config", {})
    tap = _tap(options)
    encoder = feature_extractors.build({**options["encoder"], "layers": [tap]})
    decoder = load_network(state, "decoder", device=device)
    return AdaINModel(encoder, decoder, tap).to(device)


def _from_folder(folder: str | os.PathLike[str], device: str | torch.device) -> AdaINModel:
    from gst_core.kinds import feature_extractors

    nets = load_pretrained(folder, device=device)
    if nets.config.get("objective") != "adain" or "decoder" not in nets:
        raise GstError(
            f"{nets.where} is a {nets.config.get('objective')!r} model folder, not adain; "
            "--style works with AdaIN models (gst train adain, gst import --from adain)"
        )
    options = nets.config.get("objective_config", {})
    tap = _tap(options)
    encoder = nets.get("encoder")
    if encoder is None:  # a folder published before encoders were stored in it
        encoder = feature_extractors.build({**options["encoder"], "layers": [tap]})
    return AdaINModel(encoder, nets["decoder"], tap).to(device)


def _image(item: ImageLike, size: int | None) -> Tensor:
    if isinstance(item, Tensor):
        return item if item.dim() == 4 else item.unsqueeze(0)
    if not Path(item).is_file():
        raise GstError(f"image {str(item)!r} does not exist")
    return load_image(item, size)


@torch.no_grad()
def adain_stylize(
    model: AdaINModel | str | os.PathLike[str],
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    *,
    alpha: float = 1.0,
    weights: Sequence[float] | None = None,
    masks: Sequence[ImageLike] | None = None,
    preserve_color: str | None = None,
    size: int | None = None,
    style_size: int | None = None,
    device: str | torch.device = "cpu",
) -> Tensor:
    """``content`` stylised with ``styles``; a ``(B, 3, H, W)`` image in ``[0, 1]``.

    ``content`` is a file or a tensor ``(3, H, W)`` or ``(B, 3, H, W)``: a batch of
    same-size images goes through the network in one pass (``gst stylize --model
    --batch-size``); each gets what it would get alone.

    ``weights`` interpolate several styles; ``masks`` (grey images, one per style,
    resized to the content) give each region its own style instead;
    ``preserve_color``: ``"histogram"`` recolours the styles with the content's colour
    statistics first (pytorch-AdaIN's ``--preserve_color``), ``"luminance"`` keeps the
    content's colours and takes only the output's luminance.
    """
    from gst_core.pipelines.color import match_color_histogram, transfer_luminance
    from gst_core.pipelines.masked_style import check_masks

    if not isinstance(model, AdaINModel):
        model = load_adain(model, device=device)
    style_list = [styles] if isinstance(styles, str | os.PathLike | Tensor) else list(styles)
    if not style_list:
        raise GstError("give at least one style image (--style STYLE [STYLE ...])")
    if not 0.0 <= alpha <= 1.0:
        raise GstError(f"--alpha must be between 0 and 1, got {alpha}")
    if weights is not None and len(weights) != len(style_list):
        raise GstError(
            f"--style-blend-weights has {len(weights)} weight(s) for {len(style_list)} style(s); "
            "give one per style"
        )
    if masks is not None and len(masks) != len(style_list):
        raise GstError(f"{len(masks)} mask(s) for {len(style_list)} style(s); give one per style")
    if masks is not None and weights is not None:
        raise GstError(
            "--mask and --style-blend-weights exclude each other: masks give each region its "
            "own style, weights mix the styles everywhere; use one or the other"
        )
    if preserve_color not in (None, "histogram", "luminance"):
        raise GstError(f"preserve_color must be histogram or luminance, got {preserve_color!r}")
    image = _image(content, size).to(device)
    loaded = [_image(s, style_size or size).to(device) for s in style_list]
    padded, (h, w) = pad_to_multiple(image, 8)
    features = model.encode(padded)
    if preserve_color == "histogram":
        # The styles recoloured with each content's colours: statistics per batch item.
        per_item = [
            [mean_std(model.encode(match_color_histogram(s, item))) for s in loaded]
            for item in image.split(1)
        ]
        stats = [
            (torch.cat([p[k][0] for p in per_item]), torch.cat([p[k][1] for p in per_item]))
            for k in range(len(loaded))
        ]
    else:
        stats = [mean_std(model.encode(s)) for s in loaded]
    mask_tensor = None
    if masks is not None:
        # Gatys's mask checks (count, aspect ratio, range, all black) and resize, shared.
        mask_tensor = check_masks([_image(m, None) for m in masks], len(style_list), (h, w))
        mask_tensor = mask_tensor.to(device)
        pad = (0, padded.shape[-1] - w, 0, padded.shape[-2] - h)
        mask_tensor = torch.nn.functional.pad(mask_tensor, pad, mode="replicate")
    blend = None
    if weights is not None:
        total = float(sum(weights))
        if total <= 0 or any(x < 0 for x in weights):
            raise GstError("--style-blend-weights must be >= 0 with a positive sum")
        blend = features.new_tensor([x / total for x in weights])
    target = blend_adain(features, stats, weights=blend, masks=mask_tensor, alpha=alpha)
    out = model.decoder(target)[..., :h, :w].clamp(0, 1)
    if preserve_color == "luminance":
        out = transfer_luminance(out, image).clamp(0, 1)
    return out
