"""The apply path in batches: same-size images together give what one at a time gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from gst_core.apply.tiling import apply_tiled
from gst_core.apply.translate import _same_size_batches, translate
from gst_core.kinds import registry


def photos() -> list[np.ndarray]:
    """Real photos at two sizes: three 64x48 crops and two 40x56."""
    rocket, coffee = data.rocket(), data.coffee()
    return [
        rocket[:48, :64],
        coffee[100:148, 200:264],
        rocket[200:248, 300:364],
        coffee[:56, :40],
        rocket[100:156, 50:90],
    ]


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "resnet", "n_blocks": 2, "width": 8},  # instance norm
        {"name": "unet", "num_downs": 5, "width": 8, "norm": "batch"},  # batch norm, eval mode
        {"name": "transformer_net"},
    ],
)
def test_a_batch_equals_one_image_at_a_time(spec):
    torch.manual_seed(0)
    generator = registry("generator").build(spec).eval()
    images = [torch.from_numpy(p).permute(2, 0, 1).float() / 255 for p in photos()[:3]]
    batch = apply_tiled(generator, torch.stack(images))
    for image, out in zip(images, batch, strict=True):
        single = apply_tiled(generator, image)
        assert single.shape == out.shape == image.shape
        assert float((single - out).abs().max()) <= 1e-5
    assert batch.is_inference()  # run under torch.inference_mode, not only no_grad


def test_translate_batches_same_size_files_and_writes_what_one_by_one_writes(
    tmp_path, cyclegan_run
):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, photo in enumerate(photos()):
        Image.fromarray(photo).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"not an image")
    planned = [(p, tmp_path / p.name) for p in sorted(folder.iterdir())]
    # Three of one size in a batch of 2 and 1, two of the other, the unreadable file alone.
    assert sorted(map(len, _same_size_batches(planned, 2))) == [1, 1, 2, 2]
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        batched = translate(cyclegan_run, folder, tmp_path / "b", progress=False, batch_size=4)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        single = translate(cyclegan_run, folder, tmp_path / "s", progress=False, batch_size=1)
    assert [p.name for p in batched] == [p.name for p in single] == [f"{i}.png" for i in range(5)]
    for a, b in zip(batched, single, strict=True):
        pa, pb = np.asarray(Image.open(a)).astype(int), np.asarray(Image.open(b)).astype(int)
        assert pa.shape == pb.shape
        # uint8 files: float rounding may move a value across a .5 boundary, by one level.
        assert np.abs(pa - pb).max() <= 1 and (pa != pb).mean() < 0.01
