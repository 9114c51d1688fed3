"""DCGAN generators (Radford et al. 2016): unconditional and class-conditional.

A latent vector is projected to a 4×4 map by a transposed convolution, then
doubled in resolution by stride-2 transposed convolutions (BatchNorm + ReLU)
until ``image_size``, halving the channel count each time; ``tanh`` puts the
output in ``[-1, 1]``. ``width`` is the channel count of the last hidden
layer (64 in the paper); the 4×4 layer has ``width · image_size / 8``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gst_core.interfaces import ImageGenerator
from gst_plugins.generators._blocks import (
    check_image_size,
    check_labels,
    check_num_classes,
    check_positive,
    dcgan_init,
    maybe_spectral_norm,
)

__all__ = ["ConditionalDCGANGenerator", "DCGANGenerator"]


class DCGANGenerator(ImageGenerator):
    """Latent ``(B, latent_dim)`` → images ``(B, channels, image_size, image_size)`` in ``[-1, 1]``.

    With ``num_classes > 0`` each label is embedded (``embedding_dim``
    values, default ``latent_dim``) and concatenated to the latent, as in the
    conditional GAN of Mirza & Osindero; labels are then required.
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
    ) -> None:
        super().__init__()
        name = type(self).__name__
        steps = check_image_size(image_size, name)
        for value, what in ((latent_dim, "latent_dim"), (channels, "channels"), (width, "width")):
            check_positive(value, what, name)
        check_num_classes(num_classes, name, required=False)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.image_shape = (channels, image_size, image_size)

        embedding_dim = latent_dim if embedding_dim is None else embedding_dim
        self.embedding = nn.Embedding(num_classes, embedding_dim) if num_classes else None
        in_features = latent_dim + (embedding_dim if num_classes else 0)

        def sn(layer: nn.Module) -> nn.Module:
            return maybe_spectral_norm(layer, spectral_norm)

        hidden = width * 2 ** (steps - 1)
        layers: list[nn.Module] = [
            sn(nn.ConvTranspose2d(in_features, hidden, 4, 1, 0, bias=False)),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
        ]
        for _ in range(steps - 1):
            layers += [
                sn(nn.ConvTranspose2d(hidden, hidden // 2, 4, 2, 1, bias=False)),
                nn.BatchNorm2d(hidden // 2),
                nn.ReLU(inplace=True),
            ]
            hidden //= 2
        layers += [sn(nn.ConvTranspose2d(hidden, channels, 4, 2, 1)), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"{type(self).__name__} takes latents of shape (B, {self.latent_dim}), "
                f"got {tuple(z.shape)}; use sample_latent(B)"
            )
        check_labels(labels, self.num_classes, z.shape[0], type(self).__name__)
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(labels)], dim=1)
        return self.net(z[:, :, None, None])


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
        )
