"""The image history pool of CycleGAN (Shrivastava et al. 2017; Zhu et al. 2017).

The discriminators are updated on a mix of the newest generated images and
older ones, which damps the oscillation of the two players. As the reference
``ImagePool``: with ``size`` 0 images pass through; until the pool holds
``size`` images each new one is stored and returned; afterwards each new image
is, with probability ½, swapped for a random stored one (which is returned
instead), else returned itself.

The draws come from the pool's own generator, whose state is part of
:meth:`state_dict` with the stored images, so a resumed run continues
bit-identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from gst_core.errors import TrainingSetupError

__all__ = ["ImagePool"]


class ImagePool:
    """A history of up to ``size`` generated images; :meth:`query` mixes it into a batch."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise TrainingSetupError(f"pool_size must be an integer >= 0, got {size!r}")
        self.size = size
        self.images: list[Tensor] = []
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """A batch like ``images`` (detached), some items replaced by older ones."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif float(torch.rand((), generator=self.generator)) > 0.5:
                i = int(torch.randint(0, self.size, (), generator=self.generator))
                out.append(self.images[i].to(image.device))
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "images": [t.cpu() for t in self.images],
            "rng": self.generator.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any], device: torch.device | str = "cpu") -> None:
        if int(state["size"]) != self.size:
            raise TrainingSetupError(
                f"the checkpoint's image pool holds up to {state['size']} images but this run's "
                f"pool_size is {self.size}; resume with the same pool_size"
            )
        self.images = [t.to(device) for t in state["images"]]
        self.generator.set_state(state["rng"])
