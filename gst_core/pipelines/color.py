"""Colour preservation for style transfer (Gatys, Ecker, Bethge, Hertzmann & Shechtman,
"Controlling perceptual factors in neural style transfer", CVPR 2017, section 5).

* :func:`match_color_histogram` — before the transfer, recolour the style so its
  pixels have the content's colour mean and covariance (a linear, "Image
  Analogies" colour transfer). The result then uses the content's palette.
* :func:`transfer_luminance` — after the transfer, keep only the result's
  luminance and take the chroma from the content (YCbCr), as neural-style's
  ``-original_colors 1``. The content's colours are kept exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["match_color_histogram", "rgb_to_ycbcr", "transfer_luminance", "ycbcr_to_rgb"]

# ITU-R BT.601 (JPEG) YCbCr, for RGB in [0, 1].
_RGB_TO_YCBCR = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
_CHROMA_OFFSET = torch.tensor([0.0, 0.5, 0.5])


def rgb_to_ycbcr(image: Tensor) -> Tensor:
    """``(B, 3, H, W)`` RGB in [0, 1] → YCbCr in [0, 1]."""
    m = _RGB_TO_YCBCR.to(image)
    return torch.einsum("ij,bjhw->bihw", m, image) + _CHROMA_OFFSET.to(image).view(1, 3, 1, 1)


def ycbcr_to_rgb(image: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr`."""
    m = torch.linalg.inv(_RGB_TO_YCBCR.double()).to(image)
    return torch.einsum("ij,bjhw->bihw", m, image - _CHROMA_OFFSET.to(image).view(1, 3, 1, 1))


def transfer_luminance(stylized: Tensor, content: Tensor) -> Tensor:
    """The stylized image's luminance with the content's chroma (same size required)."""
    if stylized.shape[-2:] != content.shape[-2:]:
        content = torch.nn.functional.interpolate(
            content, size=stylized.shape[-2:], mode="bilinear", align_corners=False, antialias=True
        )
    y = rgb_to_ycbcr(stylized)[:, :1]
    cbcr = rgb_to_ycbcr(content)[:, 1:]
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=1)).clamp(0, 1)


def _sqrt_and_inv_sqrt(cov: Tensor) -> tuple[Tensor, Tensor]:
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp_min(1e-8)  # flat-coloured images have singular covariances
    return (
        vectors @ torch.diag(values.sqrt()) @ vectors.T,
        vectors @ torch.diag(values.rsqrt()) @ vectors.T,
    )


def match_color_histogram(style: Tensor, content: Tensor) -> Tensor:
    """Recolour ``style`` so its RGB mean and covariance equal ``content``'s.

    ``x' = Σc^½ Σs^-½ (x − μs) + μc`` (symmetric square roots, so the mapping
    rotates colours as little as possible). Computed in float64; clamped to [0, 1].
    """
    s = style.double().reshape(style.shape[0], 3, -1)
    c = content.double().reshape(content.shape[0], 3, -1)
    out = []
    for sb, cb in zip(s, c.expand(s.shape[0], -1, -1), strict=True):
        mu_s, mu_c = sb.mean(1, keepdim=True), cb.mean(1, keepdim=True)
        cov_s = torch.cov(sb) + 1e-6 * torch.eye(3, dtype=sb.dtype)
        cov_c = torch.cov(cb) + 1e-6 * torch.eye(3, dtype=sb.dtype)
        sqrt_c, _ = _sqrt_and_inv_sqrt(cov_c)
        _, inv_sqrt_s = _sqrt_and_inv_sqrt(cov_s)
        out.append(sqrt_c @ inv_sqrt_s @ (sb - mu_s) + mu_c)
    return torch.stack(out).reshape(style.shape).clamp(0, 1).to(style.dtype)
