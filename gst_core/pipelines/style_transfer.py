"""Neural style transfer by image optimisation (Gatys, Ecker & Bethge, CVPR 2016).

The loop takes a :class:`~gst_core.perceptual.PerceptualLoss` (a feature
extractor with content, style and total-variation losses) and optimises the
pixels of an image so its features match the content image's and its Gram
matrices match the style images'. Targets are computed once per pyramid level,
without gradients.

    from gst_core.images import save_image
    from gst_core.pipelines import stylize
    save_image(stylize("content.jpg", "style.jpg", size=512), "stylized.png")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from gst_core.errors import NonFiniteLossError
from gst_core.images import save_image
from gst_core.interfaces import FeatureExtractor, Loss
from gst_core.perceptual import PerceptualLoss

from .color import match_color_histogram, transfer_luminance
from .masked_style import MaskedStyleLoss, check_masks, resize_mask
from .memory import available_memory_bytes, check_fits
from .stylize_options import StyleTransferError, StylizeOptions

__all__ = ["StyleTransfer", "stylize"]


class StyleTransfer:
    """Gatys-style image optimisation from built components.

    Args:
        extractor, content_loss, style_loss, tv_loss: the parts of the
            :class:`~gst_core.perceptual.PerceptualLoss` (missing losses: the
            registered ``content``, ``style`` and ``total_variation``).
        options: a :class:`StylizeOptions`, or keyword arguments for one. Unset
            loss weights take the extractor's ``default_loss_weights``.
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
        base = options or StylizeOptions()
        self.options = replace(base, **option_kwargs) if option_kwargs else base
        opts = self.options
        self.perceptual = PerceptualLoss(
            extractor,
            content_loss,
            style_loss,
            tv_loss,
            content_weight=opts.content_weight,
            style_weight=opts.style_weight,
            tv_weight=opts.tv_weight,
        )
        # The weights in use (unset ones as the extractor suggests), recorded in the options.
        self.options = replace(opts, **self.perceptual.loss_weights)
        self.extractor = extractor

    # ------------------------------------------------------------------ run
    def run(
        self,
        content: Tensor,
        styles: Tensor | Sequence[Tensor],
        *,
        masks: Sequence[Tensor] | None = None,
        callback: Callable[[int, Tensor], None] | None = None,
    ) -> Tensor:
        """Stylize ``content`` ``(1, 3, H, W)`` with ``styles`` (each ``(1, 3, h, w)``, any size).

        ``masks``: spatial control, one grey or binary image per style (any size with
        the content's aspect ratio, resized to it): region ``k`` gets style ``k``
        through masked Gram matrices (:mod:`.masked_style`).
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
        region_masks = None
        if masks is not None:
            if blend is not None:
                raise StyleTransferError(
                    "style_blend_weights mix the styles everywhere, masks give each its own "
                    "region; use one or the other"
                )
            self._check_masked_loss()
            region_masks = check_masks(masks, len(styles), content.shape[-2:])
        device = torch.device(opts.device)
        torch.manual_seed(opts.seed)
        generator = torch.Generator().manual_seed(opts.seed)
        self.extractor.to(device)
        content = content.to(device, torch.float32).contiguous()
        styles = [s.to(device, torch.float32) for s in styles]
        if opts.preserve_color == "histogram":
            styles = [match_color_histogram(s, content) for s in styles]

        budget = opts.max_memory_bytes or available_memory_bytes(str(device))
        per_pixel = float(self.extractor.activation_bytes_per_pixel())
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
            if region_masks is None:
                content_targets, style_targets = self._targets(content_l, styles_l)
                image = self._optimise(
                    image, content_l, content_targets, style_targets, level, total_steps, callback
                )
            else:
                image = self._optimise_masked(
                    image, content_l, styles_l, region_masks, level, total_steps, callback
                )
            total_steps += opts.steps
        return self._finish(image, content).cpu()

    def _targets(
        self, content: Tensor, styles: Sequence[Tensor]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        content_targets = self.perceptual.content_targets(content)
        style_targets = self.perceptual.style_targets(styles, self.options.style_blend_weights)
        return content_targets, style_targets

    def _check_masked_loss(self) -> None:
        from gst_core.kinds import losses

        builtin = losses.get("style")
        if not isinstance(self.perceptual.style_loss, builtin):
            raise StyleTransferError(
                f"masks need the built-in style loss ({builtin.__name__}), got "
                f"{type(self.perceptual.style_loss).__name__}; its Gram convention is the one "
                "masked per region"
            )

    def _optimise_masked(
        self,
        image: Tensor,
        content: Tensor,
        styles: Sequence[Tensor],
        masks: Tensor,
        level: int,
        step_offset: int,
        callback: Callable[[int, Tensor], None] | None,
    ) -> Tensor:
        """One level with one Gram per masked region: the style loss is swapped for the level."""
        perceptual = self.perceptual
        plain = perceptual.style_loss
        masked = MaskedStyleLoss(plain, resize_mask(masks, content.shape[-2:]).to(content))
        content_targets = perceptual.content_targets(content)
        style_targets = masked.stack_targets([perceptual.style_targets(s) for s in styles])
        perceptual.style_loss = masked
        try:
            return self._optimise(
                image, content, content_targets, style_targets, level, step_offset, callback
            )
        finally:
            perceptual.style_loss = plain

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
        convergence = Convergence(opts.tolerance, opts.window)

        def closure() -> Tensor:
            if not lbfgs or opts.line_search is None:
                with torch.no_grad():
                    image.clamp_(0, 1)  # as the PyTorch tutorial: stay a valid image
            optimizer.zero_grad(set_to_none=True)
            terms = self.perceptual(image, content_targets, style_targets)
            c, s, t, total = terms["content"], terms["style"], terms.get("tv"), terms["total"]
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
            self._after_step(step + 1, image, content, callback)
            if convergence.update(total.item(), image):
                raise _Converged
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
        except _Converged:
            # The loss has stopped improving; keep the best image seen (the last one may
            # be a line-search trial point).
            with torch.no_grad():
                image.copy_(convergence.best_image)
            bar.set_description(f"{label} (converged at {state['evals']})", refresh=False)
        finally:
            bar.close()
        self.evaluations = state["evals"]
        with torch.no_grad():
            image.clamp_(0, 1)
        return image.detach()

    def _after_step(
        self,
        step: int,
        image: Tensor,
        content: Tensor,
        callback: Callable[[int, Tensor], None] | None,
    ) -> None:
        opts = self.options
        if callback is not None:
            callback(step, image.detach())
        if opts.save_every and step % opts.save_every == 0 and opts.save_path is not None:
            path = Path(opts.save_path)
            # Finished as the final image is (clamped, colour preservation applied), so a
            # snapshot shows what stopping there would have given.
            name = f"{path.stem}_{step:05d}{path.suffix or '.png'}"
            save_image(self._finish(image, content).cpu(), path.with_name(name))


class _Converged(Exception):
    """Raised inside the optimiser's closure to stop a level early."""


class Convergence:
    """Is the loss still improving? ``update(loss, image)`` is True once it is not.

    Converged: the best loss of the last ``window`` evaluations is less than
    ``tolerance`` (relative) below the best loss before them. Using the best, not
    the last, value ignores L-BFGS line-search trials that overshoot. The best
    image is kept (one copy per improvement), to return on convergence.
    """

    def __init__(self, tolerance: float, window: int) -> None:
        self.tolerance, self.window = tolerance, window
        self.history: list[float] = []
        self.best_image: Tensor | None = None
        self._best = math.inf

    def update(self, loss: float, image: Tensor) -> bool:
        self.history.append(loss)
        if loss < self._best:
            self._best = loss
            self.best_image = image.detach().clone()
        if not self.tolerance or len(self.history) <= self.window:
            return False
        before = min(self.history[: -self.window])
        recent = min(self.history[-self.window :])
        return before - recent <= self.tolerance * abs(before)


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


def stylize(
    content: Tensor | str | Path,
    styles: Tensor | str | Path | Sequence[Tensor | str | Path],
    *,
    size: int | None = None,
    extractor: FeatureExtractor | None = None,
    masks: Sequence[Tensor | str | Path] | None = None,
    **options: Any,
) -> Tensor:
    """Stylize in one call; images may be tensors or file paths (read at ``size``).

    ``masks``: one grey/binary image per style (tensors or paths, resized to the
    content): each region gets its own style (see :meth:`StyleTransfer.run`).

    Without ``extractor`` the registered ``auto`` extractor is used: VGG19 when its
    weights can be found, else an offline one. ``options`` are :class:`StylizeOptions`
    fields.
    """
    from gst_core.images import load_image
    from gst_core.kinds import feature_extractors

    def read(image: Tensor | str | Path) -> Tensor:
        return image if isinstance(image, Tensor) else load_image(image, size)

    if isinstance(styles, Tensor | str | Path):
        styles = [styles]
    extractor = extractor or feature_extractors.build("auto")
    transfer = StyleTransfer(extractor, options=StylizeOptions(**options))
    mask_images = (
        None if masks is None else [m if isinstance(m, Tensor) else load_image(m) for m in masks]
    )
    return transfer.run(read(content), [read(s) for s in styles], masks=mask_images)
