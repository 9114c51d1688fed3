"""The projection discriminator (Miyato & Koyama 2018) for class-conditional GANs.

``D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩``: the label enters as an inner product
with the image features rather than as an extra input channel, which the
paper shows gives far better class fidelity than concatenation. ``φ`` is the
DCGAN convolution stack without BatchNorm, followed by ReLU and a global sum
pool; spectral normalisation is on by default, as in the paper.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_core.interfaces import Discriminator
from gst_plugins._shared.blocks import (
    check_image_size,
    check_labels,
    check_num_classes,
    check_positive,
    dcgan_init,
    maybe_spectral_norm,
)
from gst_plugins._shared.minibatch_std import MinibatchStdDev
from gst_plugins.discriminators.dcgan import downsampling_stack

__all__ = ["ProjectionDiscriminator"]


class ProjectionDiscriminator(Discriminator):
    """Images ``(B, channels, S, S)`` and labels ``(B,)`` → raw scores ``(B,)``."""

    def __init__(
        self,
        num_classes: int = 10,
        image_size: int = 64,
        channels: int = 3,
        width: int = 64,
        spectral_norm: bool = True,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        steps = check_image_size(image_size, name)
        check_positive(channels, "channels", name)
        check_positive(width, "width", name)
        check_num_classes(num_classes, name, required=True)
        self.num_classes = num_classes
        self.image_shape = (channels, image_size, image_size)
        self.features, hidden = downsampling_stack(
            channels, width, steps, spectral_norm=spectral_norm, batch_norm=False
        )
        # minibatch_std: one more map, the features' spread across the batch (ProGAN).
        self.minibatch_std = MinibatchStdDev() if minibatch_std else nn.Identity()
        hidden += int(minibatch_std)
        self.linear = maybe_spectral_norm(nn.Linear(hidden, 1), spectral_norm)
        self.embedding = maybe_spectral_norm(nn.Embedding(num_classes, hidden), spectral_norm)
        dcgan_init(self)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, self.num_classes, images.shape[0], type(self).__name__)
        h = self.minibatch_std(self.features(images)).relu().sum(dim=(2, 3))
        return self.linear(h).flatten() + (self.embedding(labels) * h).sum(dim=1)
