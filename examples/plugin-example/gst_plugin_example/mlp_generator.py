"""A small fully connected generator: latent vector to image in [-1, 1]."""

from torch import Tensor, nn

from gst_core import ImageGenerator


class MLPGenerator(ImageGenerator):
    """``forward(z) -> (B, channels, size, size)``; unconditional."""

    input_kind = "latent"

    def __init__(
        self, latent_dim: int = 64, size: int = 16, channels: int = 3, hidden: int = 256
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.image_shape = (channels, size, size)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels * size * size),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is not None:
            raise ValueError("example_mlp is unconditional: call it without labels")
        return self.net(z).view(z.shape[0], *self.image_shape)
