"""DCGAN generators (Radford et al. 2016): unconditional and class-conditional.

A latent vector is projected to a 4×4 map by a transposed convolution, then
doubled in resolution by stride-2 transposed convolutions (BatchNorm + ReLU)
until ``image_size``, halving the channel count each time; ``tanh`` puts the
output in ``[-1, 1]``. ``width`` is the channel count of the last hidden
layer (64 in the paper); the 4×4 layer has ``width · image_size / 8``.

Class conditioning (``num_classes > 0``) comes in two forms:

* ``"batchnorm"`` (default): conditional BatchNorm, a per-class scale and
  shift after every normalisation (de Vries et al. 2017; SNGAN-projection,
  BigGAN), so the label acts on every layer.
* ``"concat"``: the label embedding concatenated to ``z`` (Mirza &
  Osindero's conditional GAN). On the built-in shapes it had not separated
  the classes after 400 steps, where conditional BatchNorm had.

``norm`` picks the normalisation of an unconditional (or ``"concat"``)
generator: ``"batch"`` (the paper's), ``"instance"`` or ``"none"``. Without
BatchNorm a sample does not depend on the others in its batch, so training
on several processes gives the same result as on one (see the README's
"Training on several GPUs or machines").
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gst_core.interfaces import ImageGenerator
from gst_plugins._shared.blocks import (
    ArchitectureError,
    check_image_size,
    check_labels,
    check_num_classes,
    check_positive,
    dcgan_init,
    maybe_spectral_norm,
)

__all__ = ["ConditionalBatchNorm2d", "ConditionalDCGANGenerator", "DCGANGenerator"]

NORMS = ("batch", "instance", "none")


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift are looked up per class: ``γ[y]·x̂ + β[y]``."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.scale = nn.Embedding(num_classes, num_features)
        self.shift = nn.Embedding(num_classes, num_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # as DCGAN initialises BatchNorm: scale N(1, 0.02), shift 0
        nn.init.normal_(self.scale.weight, 1.0, 0.02)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        return (
            self.norm(x) * self.scale(labels)[:, :, None, None]
            + self.shift(labels)[:, :, None, None]
        )


class DCGANGenerator(ImageGenerator):
    """Latent ``(B, latent_dim)`` → images ``(B, channels, image_size, image_size)`` in ``[-1, 1]``.

    With ``num_classes > 0`` labels are required and enter through
    ``conditioning`` (see the module docstring); ``embedding_dim`` (default
    ``latent_dim``) sizes the label embedding of ``"concat"``.
    """

    input_kind = "latent"

    def __init__(
        self,
        latent_dim: int = 100,
        image_size: int = 64,
        channels: int = 3,
        width: int = 64,
        num_classes: int = 0,
        embedding_dim: int | None = None,
        spectral_norm: bool = False,
        conditioning: str = "batchnorm",
        norm: str = "batch",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if conditioning not in ("batchnorm", "concat"):
            raise ArchitectureError(
                f"{name}: conditioning must be 'batchnorm' or 'concat', got {conditioning!r}"
            )
        if norm not in NORMS:
            raise ArchitectureError(f"{name}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if num_classes and conditioning == "batchnorm" and norm != "batch":
            raise ArchitectureError(
                f"{name}: conditioning = 'batchnorm' is conditional BatchNorm, so it needs "
                f"norm = 'batch' (got {norm!r}); use conditioning = 'concat' with another norm"
            )
        steps = check_image_size(image_size, name)
        for value, what in ((latent_dim, "latent_dim"), (channels, "channels"), (width, "width")):
            check_positive(value, what, name)
        check_num_classes(num_classes, name, required=False)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.image_shape = (channels, image_size, image_size)

        self.conditioning = conditioning if num_classes else None
        concat = self.conditioning == "concat"
        embedding_dim = latent_dim if embedding_dim is None else embedding_dim
        self.embedding = nn.Embedding(num_classes, embedding_dim) if concat else None
        in_features = latent_dim + (embedding_dim if concat else 0)

        def sn(layer: nn.Module) -> nn.Module:
            return maybe_spectral_norm(layer, spectral_norm)

        def norm_layer(c: int) -> nn.Module:
            if self.conditioning == "batchnorm":
                return ConditionalBatchNorm2d(c, num_classes)
            if norm == "instance":
                return nn.InstanceNorm2d(c)
            return nn.BatchNorm2d(c) if norm == "batch" else nn.Identity()

        hidden = width * 2 ** (steps - 1)
        layers: list[nn.Module] = [
            sn(nn.ConvTranspose2d(in_features, hidden, 4, 1, 0, bias=False)),
            norm_layer(hidden),
            nn.ReLU(inplace=True),
        ]
        for _ in range(steps - 1):
            layers += [
                sn(nn.ConvTranspose2d(hidden, hidden // 2, 4, 2, 1, bias=False)),
                norm_layer(hidden // 2),
                nn.ReLU(inplace=True),
            ]
            hidden //= 2
        layers += [sn(nn.ConvTranspose2d(hidden, channels, 4, 2, 1)), nn.Tanh()]
        self.net = nn.ModuleList(layers)
        dcgan_init(self)
        for m in self.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.reset_parameters()

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"{type(self).__name__} takes latents of shape (B, {self.latent_dim}), "
                f"got {tuple(z.shape)}; use sample_latent(B)"
            )
        check_labels(labels, self.num_classes, z.shape[0], type(self).__name__)
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(labels)], dim=1)
        x = z[:, :, None, None]
        for layer in self.net:
            x = layer(x, labels) if isinstance(layer, ConditionalBatchNorm2d) else layer(x)
        return x


class ConditionalDCGANGenerator(DCGANGenerator):
    """:class:`DCGANGenerator` that requires ``num_classes`` (label embedding concatenated to z)."""

    def __init__(
        self,
        num_classes: int = 10,
        latent_dim: int = 100,
        image_size: int = 64,
        channels: int = 3,
        width: int = 64,
        embedding_dim: int | None = None,
        spectral_norm: bool = False,
        conditioning: str = "batchnorm",
    ) -> None:
        check_num_classes(num_classes, type(self).__name__, required=True)
        super().__init__(
            latent_dim=latent_dim,
            image_size=image_size,
            channels=channels,
            width=width,
            num_classes=num_classes,
            embedding_dim=embedding_dim,
            spectral_norm=spectral_norm,
            conditioning=conditioning,
        )
