"""What the pix2pix and CycleGAN objectives share: building their networks from a config
(with the reference's defaults for missing sections), batch checks and preview data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from gst_core.config import component
from gst_core.errors import TrainingSetupError
from gst_core.interfaces import AdversarialLoss, ImageGenerator

from ._generator_kind import require_image_generator

PREVIEW_ROWS = 8  # pairs kept for the preview grids
#: Pixels per preview column: 8 rows at 128², 2 at 256². A preview costs a forward pass per
#: row (CycleGAN: four), and 8 rows at 256² through unet_256 took about as long as a
#: training step: half the fixed cost of a short run (benchmarks/startup).
PREVIEW_PIXELS = 8 * 128 * 128


def preview_rows(images: Tensor, count: int) -> int:
    """How many preview rows of ``images`` ``(N, C, H, W)`` to show for ``count`` wanted."""
    budget = max(2, PREVIEW_PIXELS // (images.shape[-2] * images.shape[-1]))
    return max(1, min(len(images), count, budget))


def image_generator(
    config: Mapping[str, Any], default: str, source: str, owner: str, **fill: Any
) -> tuple[ImageGenerator, dict[str, Any]]:
    """``[generator]`` (default ``default``) and its spec; it must take images. Checked here as
    well as in the constructors: from_config reads its channels to build the rest."""
    net, spec = component(config, "generator", {"name": default}, source, fill=fill)
    require_image_generator(net, f"{source}: {owner}", "unet_256, unet_128, resnet_9blocks, ...")
    return net, spec


def adversarial_loss(config: Mapping[str, Any], default: str, source: str) -> AdversarialLoss:
    loss, spec = component(config, "loss", {"name": default}, source)
    if not isinstance(loss, AdversarialLoss):
        raise TrainingSetupError(
            f"{source}: [loss] must be an adversarial loss (non_saturating = the reference's "
            f"'vanilla', lsgan, hinge, ...), got {spec.get('name')!r}"
        )
    return loss


def reference_gan_weight(loss: AdversarialLoss) -> float:
    """The weight that makes the generator's adversarial term the reference's: gst's
    ``lsgan`` generator loss is ½·(D(x)−1)², the reference's (D(x)−1)²."""
    from gst_plugins.losses.adversarial import LSGANLoss

    return 2.0 if isinstance(loss, LSGANLoss) else 1.0


def reference_d_scale(loss: AdversarialLoss) -> float:
    """The factor that puts a discriminator loss on the reference's scale: its pix2pix and
    CycleGAN halve real + fake (``loss_D = (loss_D_real + loss_D_fake) * 0.5``). gst's
    ``lsgan`` already is ½(r−1)² + ½f²; the others sum the two terms."""
    from gst_plugins.losses.adversarial import LSGANLoss

    return 1.0 if isinstance(loss, LSGANLoss) else 0.5


#: The reference's schedule and optimiser (its train_options.py: --n_epochs 100,
#: --n_epochs_decay 100, --lr 0.0002, --beta1 0.5, --lr_policy linear) and batch (1):
#: 200 epochs, constant for the first half, then linearly down (the "linear" schedule's
#: default in an epoch-long run: decay_epochs = epochs // 2).
REFERENCE_TRAIN: dict[str, Any] = {
    "epochs": 200,
    "batch_size": 1,
    "lr_schedule": {"name": "linear"},
    "optimizer": {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]},
}

#: The reference's preprocessing (--preprocess resize_and_crop, --load_size 286,
#: --crop_size 256, flip on unless --no_flip), for folder data.
REFERENCE_DATA: dict[str, Any] = {"image_size": 256, "load_size": 286, "flip": True}


def options(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dict(config.get("objective", {})).items() if k != "name"}


def rgb(images: Tensor) -> Tensor:
    """Grayscale previews as RGB, so rows of 1- and 3-channel images tile into one grid."""
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def split_pair(batch: Any, owner: str) -> tuple[Tensor, Tensor]:
    if isinstance(batch, Mapping) and "A" in batch and "B" in batch:
        return batch["A"], batch["B"]
    raise TrainingSetupError(
        f"{owner} trains on image pairs: each batch must be {{'A': images, 'B': images}} "
        f"(the paired/unpaired datasets); got {type(batch).__name__}. Use [data] name = "
        '"paired", "unpaired", "paired_shapes" or "unpaired_shapes"'
    )


def first_items(dataset: Any, owner: str) -> tuple[Tensor, Tensor] | None:
    """Up to :data:`PREVIEW_ROWS` items' A and B stacked, or None for iterable data.

    Drawn under a forked RNG so the random crops/flips of the draws never change
    training."""
    try:
        n = min(PREVIEW_ROWS, len(dataset))
    except TypeError:
        return None
    if n == 0:
        raise TrainingSetupError("the training data is empty; give the dataset at least one pair")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        items = [dataset[i] for i in range(n)]
    pairs = [split_pair(item, owner) for item in items]
    return torch.stack([a for a, _ in pairs]), torch.stack([b for _, b in pairs])


def check_images(
    a: Tensor, b: Tensor, generators: Mapping[str, tuple[ImageGenerator, str, str]], owner: str
) -> None:
    """Each generator ``(net, input domain, output domain)`` fits the data's channels and size."""
    domains = {"A": a, "B": b}
    for name, (g, src, dst) in generators.items():
        for which, domain, attr in (("takes", src, "in_channels"), ("makes", dst, "out_channels")):
            want = getattr(g, attr)
            have = domains[domain].shape[1]
            if want is not None and want != have:
                raise TrainingSetupError(
                    f"{owner}: the {name} {which} {want}-channel images but domain {domain} has "
                    f"{have} channel(s); set {attr} = {have} in [generator] (or channels in "
                    "[data])"
                )
        multiple = int(g.size_multiple)
        h, w = domains[src].shape[-2:]
        if h % multiple or w % multiple:
            raise TrainingSetupError(
                f"{owner}: the training images are {h}×{w} but the {name} needs sides that are "
                f"multiples of {multiple}; set [data] image_size to a multiple of {multiple}, or "
                "a U-Net with fewer downsamplings (num_downs = log2(image_size): 5 for 32, "
                "6 for 64, 7 for 128 (unet_128), 8 for 256 (unet_256))"
            )
