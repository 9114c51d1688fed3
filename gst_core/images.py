"""Reading and writing images as tensors, via Pillow.

Tensors are float ``(B, C, H, W)`` in ``[0, 1]`` unless a function says
otherwise. Reading accepts every mode Pillow opens (grayscale, RGBA,
palette, 16-bit, CMYK) and converts to RGB; writing is atomic, so an image a
person is watching is never half-written.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from gst_core.atomic_file import atomic_write
from gst_core.errors import GstError

__all__ = [
    "ImageReadError",
    "find_images",
    "image_suffixes",
    "check_pixel_count",
    "load_image",
    "load_image_array",
    "open_resized",
    "resized",
    "make_grid",
    "open_image",
    "pil_to_tensor",
    "save_image",
    "tensor_to_pil",
    "to_rgb",
]


class ImageReadError(GstError, OSError):
    """An image file is missing, unreadable or not an image."""


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB: deep grayscale rescaled, transparency composited onto white."""
    # 16-bit and 32-bit grayscale ("I;16", "I", "F") do not convert to RGB
    # directly without clipping to 0..255; scale them first.
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite transparent pixels onto white rather than dropping alpha,
        # which would reveal whatever colour the transparent pixels happen to hold.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def image_suffixes() -> set[str]:
    """File suffixes Pillow can open (``.png``, ``.jpg``, ...)."""
    return {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively, by suffix), sorted; hidden files skipped."""
    suffixes = image_suffixes()
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def pil_to_tensor(image: Image.Image) -> Tensor:
    """A Pillow image as a ``(1, 3, H, W)`` float32 tensor in ``[0, 1]``."""
    array = np.asarray(to_rgb(image), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0)


class ImageTooLargeError(ImageReadError):
    """A size asked for (a resize) is beyond Pillow's pixel limit: the file itself is fine."""


def check_pixel_count(size: tuple[int, int], what: str) -> None:
    """Pillow's decompression-bomb limit, applied to sizes we make as well as ones we read."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and size[0] * size[1] > limit:
        raise ImageTooLargeError(
            f"{what} would be {size[0]}×{size[1]} pixels, more than Pillow's limit of {limit} "
            "(a decompression-bomb guard); use a smaller size"
        )


def open_image(path: str | Path, draft: tuple[int, int] | None = None) -> Image.Image:
    """Open and decode an image file (EXIF orientation applied), or raise
    :class:`ImageReadError` naming the file: missing, damaged, not an image, or a
    decompression bomb (a declared size beyond ``PIL.Image.MAX_IMAGE_PIXELS``).

    ``draft`` ``(width, height)``: a JPEG may be decoded at 1/2, 1/4 or 1/8 scale, the
    smallest that keeps at least that size (Pillow's ``Image.draft``, as ``Image.thumbnail``
    does); other formats decode in full. For a caller that shrinks the image anyway: a 512²
    JPEG bound for 64² decodes and resizes in 1.3 instead of 4.0 ms (one CPU thread), within
    45-50 dB PSNR of the full decode on real photos."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"image file {str(path)!r} does not exist")
    try:
        with warnings.catch_warnings():
            # Between the limit and twice it Pillow only warns, then decodes it all.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if draft is not None and opened.format == "JPEG":
                    w, h = draft
                    if opened.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # turned a quarter
                        w, h = h, w
                    opened.draft(None, (w, h))
                opened.load()
                return ImageOps.exif_transpose(opened) or opened
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(
            f"cannot read {str(path)!r}: it declares a size beyond Pillow's limit of "
            f"{Image.MAX_IMAGE_PIXELS} pixels ({exc}); a decompression bomb or a damaged header"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(
            f"cannot read {str(path)!r} as an image ({type(exc).__name__}: {exc}); "
            "is the file complete and in a format Pillow reads (PNG, JPEG, ...)?"
        ) from exc


def load_image(path: str | Path, size: int | tuple[int, int] | None = None) -> Tensor:
    """Read an image file as ``(1, 3, H, W)`` in ``[0, 1]``.

    ``size``: an int scales the *longer* side to that many pixels (keeping the
    aspect ratio, as the style-transfer literature does); a ``(H, W)`` pair
    resizes exactly. EXIF orientation is applied.
    """
    return pil_to_tensor(open_resized(path, size))


def load_image_array(path: str | Path, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """:func:`load_image` as a ``uint8`` array ``(H, W, 3)``: a quarter of the float's memory
    (the tiled apply path reads big photos this way)."""
    return np.asarray(to_rgb(open_resized(path, size)))


def open_resized(path: str | Path, size: int | tuple[int, int] | None = None) -> Image.Image:
    """:func:`open_image`, resized as :func:`load_image` describes."""
    return resized(open_image(path), size, str(path))


def resized(image: Image.Image, size: int | tuple[int, int] | None, name: str) -> Image.Image:
    """``image`` (opened, named ``name`` in errors) resized as :func:`load_image` describes."""
    if size is not None:
        if isinstance(size, int):
            scale = size / max(image.size)
            target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        else:
            target = (int(size[1]), int(size[0]))
        if target != image.size:
            check_pixel_count(target, f"{name!r} resized to {size}")
            image = to_rgb(image).resize(target, Image.Resampling.LANCZOS)
    return image


def tensor_to_pil(image: Tensor) -> Image.Image:
    """A ``(3, H, W)``, ``(1, H, W)`` or ``(1, C, H, W)`` tensor in ``[0, 1]`` as a Pillow image."""
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ValueError(
                f"tensor_to_pil takes one image, got a batch of {image.shape[0]}; "
                "use make_grid() first"
            )
        image = image[0]
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(
            f"expected an image of shape (3, H, W) or (1, H, W), got {tuple(image.shape)}"
        )
    array = (image.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).cpu()
    array = array.permute(1, 2, 0).numpy()
    return Image.fromarray(
        array[..., 0] if array.shape[2] == 1 else array, "L" if array.shape[2] == 1 else "RGB"
    )


def save_image(image: Tensor | np.ndarray, path: str | Path) -> Path:
    """Write an image tensor (see :func:`tensor_to_pil`) or a ``uint8`` array ``(H, W, 3)`` /
    ``(H, W, 1)`` atomically; format from the suffix."""
    path = Path(path)
    if isinstance(image, np.ndarray):
        pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    else:
        pil = tensor_to_pil(image)
    with atomic_write(path) as f:
        pil.save(f, format=Image.registered_extensions().get(path.suffix.lower(), "PNG"))
    return path


def make_grid(
    images: Tensor, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0
) -> Tensor:
    """Tile a batch ``(B, C, H, W)`` into one ``(C, H', W')`` image, ``nrow`` images per row."""
    if images.dim() != 4:
        raise ValueError(f"make_grid takes a batch (B, C, H, W), got shape {tuple(images.shape)}")
    b, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(b)))
    rows = math.ceil(b / nrow)
    grid = images.new_full(
        (c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value
    )
    for i in range(b):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i]
    return grid
