"""Neural style transfer by image optimisation (Gatys, Ecker & Bethge, CVPR 2016).

The pipeline takes built components — a feature extractor and the content,
style and total-variation losses — and optimises the pixels of an image so its
features match the content image's and its Gram matrices match the style
images'. Targets are computed once per pyramid level, without gradients.

    from gst_core.images import save_image
    from gst_core.pipelines import stylize
    save_image(stylize("content.jpg", "style.jpg", size=512), "stylized.png")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from gst_core.errors import GstError
from gst_core.images import save_image
from gst_core.interfaces import FeatureExtractor, Loss

from .color import match_color_histogram, transfer_luminance
from .memory import available_memory_bytes, check_fits

__all__ = [
    "NonFiniteLossError",
    "StyleTransfer",
    "StyleTransferError",
    "DEFAULT_LOSS_WEIGHTS",
    "StylizeOptions",
    "blend_grams",
    "stylize",
]


class StyleTransferError(GstError, ValueError):
    """Options or inputs of a style transfer are invalid."""


class NonFiniteLossError(GstError, FloatingPointError):
    """The loss became NaN or infinite; ``image`` holds the last image with a finite loss."""

    def __init__(self, message: str, image: Tensor, step: int) -> None:
        super().__init__(message)
        self.image = image
        self.step = step


# The PyTorch tutorial's weights, for its (and our) loss normalisation and VGG19.
DEFAULT_LOSS_WEIGHTS = {"content_weight": 1.0, "style_weight": 1e6, "tv_weight": 0.0}


@dataclass
class StylizeOptions:
    """Everything about a run that is not a component. Field names match the CLI flags."""

    # Per pyramid level. L-BFGS: function evaluations (its line search may finish a few
    # over), Adam: updates.
    steps: int = 300
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (pixels are in [0, 1])
    # L-BFGS line search; None (or "none" in TOML) is the PyTorch tutorial's plain L-BFGS,
    # which clamps the pixels inside the closure instead.
    line_search: Literal["strong_wolfe", "none"] | None = "strong_wolfe"
    # None: the extractor's ``default_loss_weights``, else DEFAULT_LOSS_WEIGHTS.
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    style_blend_weights: Sequence[float] | None = None  # one per style; normalised to sum 1
    init: Literal["content", "noise", "style"] = "content"
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    style_scale: float = 1.0  # style's longer side relative to the content's
    preserve_color: Literal["luminance", "histogram"] | None = None
    seed: int = 0
    device: str = "cpu"
    save_every: int = 0  # write the image every N steps (needs save_path)
    save_path: str | Path | None = None  # intermediate files: <stem>_<step><suffix>
    progress: bool = True
    max_memory_bytes: int | None = None  # None: the memory free on the device

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "options") -> StylizeOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise StyleTransferError(
                f"{source}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def validate(self) -> None:
        def bad(message: str) -> StyleTransferError:
            return StyleTransferError(message)

        # Types first: TOML values arrive unchecked, and a string or a bool would otherwise
        # escape as a raw TypeError below (or, for a bool, pass as 0 or 1).
        for name, kind in _OPTION_TYPES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            allowed = (int,) if kind == "an integer" else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise bad(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
        if self.steps < 1:
            raise bad(f"steps must be a positive integer, got {self.steps!r}")
        if self.line_search == "none":
            self.line_search = None
        if self.line_search not in (None, "strong_wolfe"):
            raise bad(f"line_search must be 'strong_wolfe' or 'none', got {self.line_search!r}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise bad(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value) or value < 0:
                raise bad(f"{name} must be a finite number ≥ 0, got {value!r}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise bad(f"lr must be a positive number, got {self.lr!r}")
        if self.init not in ("content", "noise", "style"):
            raise bad(f"init must be 'content', 'noise' or 'style', got {self.init!r}")
        if not 1 <= self.scales <= 6:
            raise bad(f"scales must be an integer from 1 to 6, got {self.scales!r}")
        if not (math.isfinite(self.style_scale) and self.style_scale > 0):
            raise bad(f"style_scale must be a positive number, got {self.style_scale!r}")
        if self.preserve_color not in (None, "luminance", "histogram"):
            raise bad(
                "preserve_color must be 'luminance', 'histogram' or None, "
                f"got {self.preserve_color!r}"
            )
        if self.save_every < 0:
            raise bad(f"save_every must be ≥ 0, got {self.save_every!r}")
        if self.save_every and self.save_path is None:
            raise bad("save_every needs save_path (where to write the intermediate images)")
        if self.style_blend_weights is not None:
            w = list(self.style_blend_weights)
            if any(isinstance(x, bool) or not isinstance(x, int | float) for x in w):
                raise bad(f"style_blend_weights must be numbers, got {w!r}")
            if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
                raise bad(f"style_blend_weights must be finite, ≥ 0 and not all 0, got {w!r}")


# Numeric options and what validate() requires of their type.
_OPTION_TYPES = {
    "steps": "an integer",
    "lr": "a number",
    "content_weight": "a number",
    "style_weight": "a number",
    "tv_weight": "a number",
    "scales": "an integer",
    "style_scale": "a number",
    "seed": "an integer",
    "save_every": "an integer",
    "max_memory_bytes": "an integer",
}
_OPTIONAL = {"lr", "content_weight", "style_weight", "tv_weight", "max_memory_bytes"}


class StyleTransfer:
    """Gatys-style image optimisation from built components.

    Args:
        extractor: any :class:`FeatureExtractor`. Its ``layers`` are set to what
            the losses need (it then computes nothing deeper).
        content_loss: ``forward(features, targets)``, with ``layers`` (e.g. the
            ``content`` loss). Empty ``layers`` take the extractor's
            ``default_content_layers``.
        style_loss: ``forward(features, target_grams)``, ``target_grams(features)``
            and ``layers`` (e.g. the ``style`` loss); empty layers take
            ``default_style_layers``.
        tv_loss: optional ``forward(image)`` regulariser (``total_variation``).
        options: a :class:`StylizeOptions`, or keyword arguments for one.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        content_loss: Loss | None = None,
        style_loss: Loss | None = None,
        tv_loss: Loss | None = None,
        options: StylizeOptions | None = None,
        **option_kwargs: Any,
    ) -> None:
        if content_loss is None or style_loss is None or tv_loss is None:
            from gst_core.kinds import losses

            content_loss = content_loss or losses.build("content")
            style_loss = style_loss or losses.build("style")
            tv_loss = tv_loss or losses.build("total_variation")
        self.extractor = extractor
        self.content_loss = content_loss
        self.style_loss = style_loss
        self.tv_loss = tv_loss
        base = options or StylizeOptions()
        self.options = replace(base, **option_kwargs) if option_kwargs else base
        # Unset loss weights: what suits this extractor (its feature scale), else the tutorial's.
        suggested = DEFAULT_LOSS_WEIGHTS | dict(getattr(extractor, "default_loss_weights", {}))
        unset = {k: suggested[k] for k in DEFAULT_LOSS_WEIGHTS if getattr(self.options, k) is None}
        self.options = replace(self.options, **unset)
        self._resolve_layers()

    def _resolve_layers(self) -> None:
        ex = self.extractor
        for loss, attr in (
            (self.content_loss, "default_content_layers"),
            (self.style_loss, "default_style_layers"),
        ):
            if not getattr(loss, "layers", ()):
                default = getattr(ex, attr, ())
                if not default:
                    raise StyleTransferError(
                        f"{type(loss).__name__} has no layers and {type(ex).__name__} has no "
                        f"{attr}; pass layers=(...) to the loss"
                    )
                loss.set_layers(default)
        needed = set(self.content_loss.layers) | set(self.style_loss.layers)
        available = list(getattr(ex, "available_layers", ()) or ex.layers)
        unknown = sorted(needed - set(available))
        if unknown:
            raise StyleTransferError(
                f"{type(ex).__name__} has no layer(s) {', '.join(unknown)}; "
                f"available: {', '.join(available)}"
            )
        ex.layers = tuple(name for name in available if name in needed)

    # ------------------------------------------------------------------ run
    def run(
        self,
        content: Tensor,
        styles: Tensor | Sequence[Tensor],
        *,
        callback: Callable[[int, Tensor], None] | None = None,
    ) -> Tensor:
        """Stylize ``content`` ``(1, 3, H, W)`` with ``styles`` (each ``(1, 3, h, w)``, any size).

        Returns ``(1, 3, H, W)`` in [0, 1] on the CPU. ``callback(step, image)``
        is called after every step with the current image.
        """
        opts = self.options
        styles = [styles] if isinstance(styles, Tensor) else list(styles)
        _check_image(content, "content image")
        if not styles:
            raise StyleTransferError("give at least one style image")
        for i, s in enumerate(styles):
            _check_image(s, f"style image {i + 1}")
        blend = opts.style_blend_weights
        if blend is not None and len(blend) != len(styles):
            raise StyleTransferError(
                f"{len(blend)} style blend weight(s) for {len(styles)} style image(s); "
                "give one weight per style"
            )
        device = torch.device(opts.device)
        torch.manual_seed(opts.seed)
        generator = torch.Generator().manual_seed(opts.seed)
        self.extractor.to(device)
        content = content.to(device, torch.float32).contiguous()
        styles = [s.to(device, torch.float32) for s in styles]
        if opts.preserve_color == "histogram":
            styles = [match_color_histogram(s, content) for s in styles]

        budget = opts.max_memory_bytes or available_memory_bytes(str(device))
        per_pixel = _bytes_per_pixel(self.extractor)
        h, w = content.shape[-2:]
        check_fits(h, w, per_pixel, budget, what="content image")
        coarsest = min(h, w) / 2 ** (opts.scales - 1)
        if coarsest < 16:
            raise StyleTransferError(
                f"scales={opts.scales} shrinks the {w}×{h} content to {coarsest:.0f} pixels on "
                "its shorter side at the coarsest level; use fewer scales or a larger --size"
            )

        image = content  # replaced by the initial image at the first level
        total_steps = 0
        for level in range(opts.scales):
            factor = 2.0 ** (level - opts.scales + 1)
            size = (max(1, round(h * factor)), max(1, round(w * factor)))
            content_l = _resize(content, size)
            long_side = max(size) * opts.style_scale
            styles_l = [_resize_long_side(s, long_side) for s in styles]
            for s in styles_l:
                check_fits(*s.shape[-2:], per_pixel, budget, what="style image")
            if level == 0:
                image = self._initial_image(content_l, styles_l, generator)
            else:
                image = _resize(image, size)
            content_targets, style_targets = self._targets(content_l, styles_l)
            image = self._optimise(
                image, content_l, content_targets, style_targets, level, total_steps, callback
            )
            total_steps += opts.steps
        return self._finish(image, content).cpu()

    @torch.no_grad()
    def _targets(
        self, content: Tensor, styles: Sequence[Tensor]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        features = self.extractor(content)
        content_targets = {n: features[n].detach() for n in self.content_loss.layers}
        del features  # the other taps would otherwise stay alive during the style pass
        grams = [self.style_loss.target_grams(self.extractor(s)) for s in styles]
        return content_targets, blend_grams(grams, self.options.style_blend_weights)

    def _initial_image(
        self, content: Tensor, styles: Sequence[Tensor], generator: torch.Generator
    ) -> Tensor:
        init = self.options.init
        if init == "content":
            return content.clone()
        if init == "style":
            return _resize(styles[0], content.shape[-2:])
        return torch.rand(content.shape, generator=generator).to(content.device)

    def _finish(self, image: Tensor, content: Tensor) -> Tensor:
        image = image.detach().clamp(0, 1)
        if self.options.preserve_color == "luminance":
            image = transfer_luminance(image, content)
        return image

    def _optimise(
        self,
        image: Tensor,
        content: Tensor,
        content_targets: Mapping[str, Tensor],
        style_targets: Mapping[str, Tensor],
        level: int,
        step_offset: int,
        callback: Callable[[int, Tensor], None] | None,
    ) -> Tensor:
        opts = self.options
        image = image.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
        lbfgs = opts.optimizer == "lbfgs"
        lr = opts.lr or (1.0 if lbfgs else 0.02)
        if lbfgs:
            optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [image],
                lr=lr,
                max_iter=opts.steps,
                max_eval=opts.steps,
                history_size=100,
                line_search_fn=opts.line_search,
            )
        else:
            optimizer = torch.optim.Adam([image], lr=lr)
        label = f"stylize {tuple(image.shape[-2:])}" if opts.scales > 1 else "stylize"
        bar = tqdm(total=opts.steps, desc=label, disable=not opts.progress, leave=True)
        state = {"evals": 0, "last_good": image.detach().clone()}

        def closure() -> Tensor:
            if not lbfgs or opts.line_search is None:
                with torch.no_grad():
                    image.clamp_(0, 1)  # as the PyTorch tutorial: stay a valid image
            optimizer.zero_grad(set_to_none=True)
            c, s = self._feature_losses(image, content_targets, style_targets)
            c, s = c * opts.content_weight, s * opts.style_weight
            total = c + s
            t = None
            if opts.tv_weight:
                t = self.tv_loss(image) * opts.tv_weight
                total = total + t
            step = step_offset + state["evals"]
            if not torch.isfinite(total):
                # Adam takes bounded steps; only L-BFGS runs benefit from switching to it.
                advice = ", or use --optimizer adam" if lbfgs else ""
                raise NonFiniteLossError(
                    f"the loss became {total.item()} at step {step + 1} (content {c.item():.4g}, "
                    f"style {s.item():.4g}); stopped, keeping the image from step {step}. "
                    f"Lower the weights or the learning rate (--lr){advice}",
                    # The level's content, not the (possibly NaN) optimised image, gives
                    # the chroma for preserve_color="luminance".
                    image=self._finish(state["last_good"], content).detach().cpu(),
                    step=step,
                )
            total.backward()
            state["last_good"] = image.detach().clone()
            state["evals"] += 1
            postfix = {"content": f"{c.item():.3g}", "style": f"{s.item():.3g}"}
            if t is not None:
                postfix["tv"] = f"{t.item():.3g}"
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            self._after_step(step + 1, image, callback)
            return total

        try:
            while state["evals"] < opts.steps:
                before = state["evals"]
                if lbfgs:
                    remaining = opts.steps - before
                    optimizer.param_groups[0]["max_iter"] = remaining
                    optimizer.param_groups[0]["max_eval"] = remaining
                optimizer.step(closure)
                if lbfgs and state["evals"] - before <= 1:
                    break  # L-BFGS has converged (gradient or change below tolerance)
        finally:
            bar.close()
        with torch.no_grad():
            image.clamp_(0, 1)
        return image.detach()

    def _feature_losses(
        self,
        image: Tensor,
        content_targets: Mapping[str, Tensor],
        style_targets: Mapping[str, Tensor],
    ) -> tuple[Tensor, Tensor]:
        """Unweighted content and style losses of ``image``.

        When the extractor streams its taps (``iter_taps``) and the losses score one
        layer at a time (``layer_term``), each layer's terms are built right after the
        layer itself. Autograd runs backward nodes newest first, so each layer's
        gradient is then made just before the layer's own backward needs it, instead
        of every layer's gradient at once when the losses run after the whole forward
        pass. Measured with VGG19 to conv3_1 at 1024² (CPU, ru_maxrss): the run's
        peak fell from 3.59 to 2.62 GiB (the PyTorch tutorial, whose loss modules sit
        inside the network: 2.68 GiB).
        """
        ex, cl, sl = self.extractor, self.content_loss, self.style_loss
        streaming = all(
            callable(getattr(obj, attr, None))
            for obj, attr in ((ex, "iter_taps"), (cl, "layer_term"), (sl, "layer_term"))
        )
        if not streaming:
            features = ex(image)
            return cl(features, content_targets), sl(features, style_targets)
        c = s = image.new_zeros(())
        content_layers, style_layers = set(cl.layers), set(sl.layers)
        for name, features in ex.iter_taps(image):
            if name in content_layers:
                c = c + cl.layer_term(name, features, content_targets[name])
            if name in style_layers:
                s = s + sl.layer_term(name, features, style_targets[name])
        return c, s

    def _after_step(
        self, step: int, image: Tensor, callback: Callable[[int, Tensor], None] | None
    ) -> None:
        opts = self.options
        if callback is not None:
            callback(step, image.detach())
        if opts.save_every and step % opts.save_every == 0 and opts.save_path is not None:
            path = Path(opts.save_path)
            # Intermediates show the raw optimisation (colour preservation is applied at the end).
            name = f"{path.stem}_{step:05d}{path.suffix or '.png'}"
            save_image(image.detach().clamp(0, 1).cpu(), path.with_name(name))


def blend_grams(
    grams: Sequence[Mapping[str, Tensor]], weights: Sequence[float] | None = None
) -> dict[str, Tensor]:
    """Mix several styles' Gram targets, ``Σ_i a_i T_i`` with ``a`` normalised to sum 1.

    That is neural-style's ``-style_blend_weights``: the blended target is the
    Gram of a style whose statistics are the mixture of the inputs'.
    """
    weights = [1.0] * len(grams) if weights is None else [float(w) for w in weights]
    total = sum(weights)
    return {
        name: sum(w / total * g[name] for w, g in zip(weights, grams, strict=True))
        for name in grams[0]
    }


def _check_image(image: Tensor, what: str) -> None:
    if not isinstance(image, Tensor) or image.dim() != 4 or image.shape[:2] != (1, 3):
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise StyleTransferError(
            f"the {what} must be a (1, 3, H, W) tensor in [0, 1] (gst_core.images.load_image "
            f"reads one), got {shape}"
        )
    if min(image.shape[-2:]) < 16:
        raise StyleTransferError(
            f"the {what} is {image.shape[-1]}×{image.shape[-2]} pixels; it needs at least 16 "
            "pixels on each side"
        )


def _resize(image: Tensor, size: Sequence[int]) -> Tensor:
    size = (int(size[0]), int(size[1]))
    if tuple(image.shape[-2:]) == size:
        return image
    return F.interpolate(
        image, size=size, mode="bilinear", align_corners=False, antialias=True
    ).clamp(0, 1)


def _resize_long_side(image: Tensor, long_side: float) -> Tensor:
    h, w = image.shape[-2:]
    scale = long_side / max(h, w)
    return _resize(image, (max(16, round(h * scale)), max(16, round(w * scale))))


def _bytes_per_pixel(extractor: FeatureExtractor) -> float:
    estimate = getattr(extractor, "activation_bytes_per_pixel", None)
    return float(estimate()) if callable(estimate) else 0.0


def stylize(
    content: Tensor | str | Path,
    styles: Tensor | str | Path | Sequence[Tensor | str | Path],
    *,
    size: int | None = None,
    extractor: FeatureExtractor | None = None,
    **options: Any,
) -> Tensor:
    """Stylize in one call; images may be tensors or file paths (read at ``size``).

    Without ``extractor`` the default is chosen: VGG19 when weights are configured,
    else the offline random extractor. ``options`` are :class:`StylizeOptions` fields.
    """
    from gst_core.images import load_image

    from .extractor_choice import default_extractor

    def read(image: Tensor | str | Path) -> Tensor:
        return image if isinstance(image, Tensor) else load_image(image, size)

    if isinstance(styles, Tensor | str | Path):
        styles = [styles]
    extractor = extractor or default_extractor()
    transfer = StyleTransfer(extractor, options=StylizeOptions(**options))
    return transfer.run(read(content), [read(s) for s in styles])
