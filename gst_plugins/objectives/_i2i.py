"""What the pix2pix and CycleGAN objectives share: building their networks from a config
(with the reference's defaults for missing sections), batch checks and preview data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from gst_core.config import build_section
from gst_core.errors import SpecError, TrainingSetupError
from gst_core.interfaces import AdversarialLoss, ImageGenerator

from ._generator_kind import require_image_generator

PREVIEW_ROWS = 8  # pairs kept for the preview grids


def section_spec(
    config: Mapping[str, Any], kind: str, default: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """The ``[kind]`` table as a spec, or ``default`` when the config has none."""
    if kind not in config:
        return dict(default)
    section = config[kind]
    if not isinstance(section, Mapping) or "name" not in section:
        raise SpecError(
            f"{source}: [{kind}] must be one table with a name, e.g. name = "
            f"{default['name']!r}; got {section!r}"
        )
    return dict(section)


def build_net(kind: str, spec: Mapping[str, Any], source: str) -> nn.Module:
    return build_section(kind, dict(spec), source=source)


def image_generator(spec: Mapping[str, Any], source: str, owner: str) -> ImageGenerator:
    net = build_net("generator", spec, source)
    # Here as well as in the constructors: from_config reads in_channels before building.
    require_image_generator(net, f"{source}: {owner}", "unet_256, unet_128, resnet_9blocks, ...")
    return net  # type: ignore[return-value]


def adversarial_loss(config: Mapping[str, Any], default: str, source: str) -> AdversarialLoss:
    spec = section_spec(config, "loss", {"name": default}, source)
    loss = build_net("loss", spec, source)
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
            want = getattr(g, attr, None)
            have = domains[domain].shape[1]
            if want is not None and want != have:
                raise TrainingSetupError(
                    f"{owner}: the {name} {which} {want}-channel images but domain {domain} has "
                    f"{have} channel(s); set {attr} = {have} in [generator] (or channels in "
                    "[data])"
                )
        multiple = int(getattr(g, "size_multiple", 1) or 1)
        h, w = domains[src].shape[-2:]
        if h % multiple or w % multiple:
            raise TrainingSetupError(
                f"{owner}: the training images are {h}×{w} but the {name} needs sides that are "
                f"multiples of {multiple}; set [data] image_size to a multiple of {multiple}, or "
                "a U-Net with fewer downsamplings (num_downs = log2(image_size): 5 for 32, "
                "6 for 64, 7 for 128 (unet_128), 8 for 256 (unet_256))"
            )
