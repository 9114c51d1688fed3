"""Style folders (gan_style, adain, fast_style) stream like [data] folders: listed, not decoded,
at start-up; crops drawn from the sample key; 0 and 2 workers train identical weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import gst_plugins.datasets.decoded_files as decoded_files
from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_core.errors import TrainingSetupError
from gst_core.images import load_image
from gst_core.sample_keys import SampleKey, sample_generator
from gst_core.training.build import build_trainer
from gst_plugins.datasets.style_images import StyleImages
from gst_plugins.datasets.with_style import WithStyle

TINY = [
    "--threads", "1", "--batch-size", "2", "--checkpoint-every", "2", "--sample-every", "0",
    "--set", "generator.name=transformer_net", "--set", "generator.channels=4",
    "--set", "generator.residual_blocks=1",
    "--set", "discriminator.name=patchgan", "--set", "discriminator.width=4",
    "--set", "discriminator.num_layers=2",
    "--set", "feature_extractor.name=random_multiscale", "--set", "feature_extractor.channels=8",
    "--set", "feature_extractor.num_scales=3",
    "--set", "data.image_size=16", "--set", "data.cache=false",
    "--set", "objective.style_size=24", "--set", "objective.style_cache=false",
]  # fmt: skip


def _photos(root, count, size, seed):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        array = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(array).save(root / f"{i:02d}.png")
    return root


@pytest.fixture
def decodes(monkeypatch):
    """The files the folder stores open (every decode goes through open_image)."""
    opened = []
    real = decoded_files.open_image

    def counting(path, *args):
        opened.append(path.name)
        return real(path, *args)

    monkeypatch.setattr(decoded_files, "open_image", counting)
    return opened


def _config(styles, objective_options):
    return {
        "generator": {"name": "transformer_net", "channels": 4, "residual_blocks": 1},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "feature_extractor": {"name": "random_multiscale", "channels": 8, "num_scales": 3},
        "data": {"name": "content_photos", "image_size": 16, "count": 4, "photo_fraction": 0.0},
        "objective": {"style_dir": str(styles), "style_size": 24, **objective_options},
        "train": {"batch_size": 2, "steps": 1, "num_workers": 0, "progress": False},
    }


@pytest.mark.parametrize("objective", ["gan_style", "adain"])
def test_a_style_folder_is_not_decoded_at_start_up(tmp_path, decodes, objective):
    styles = _photos(tmp_path / "styles", 6, (30, 26), seed=1)
    options = {"style_cache": False}
    if objective == "adain":
        config = _config(styles, options)
        del config["generator"], config["discriminator"]
        config["feature_extractor"] = {"name": "vgg19", "weights": "random",
                                       "width_multiplier": 0.125}  # fmt: skip
    else:
        config = _config(styles, options)
    trainer = build_trainer(config, objective)
    assert decodes == []  # listed only
    assert trainer.data.streamed and "6 style images" in trainer.data.storage_note
    trainer.fit()
    assert len(decodes) == 2  # one style image per content sample of the one batch
    assert set(decodes) <= {f"{i:02d}.png" for i in range(6)}


def test_fast_style_refuses_a_folder_of_many_styles_without_decoding_them(tmp_path, decodes):
    styles = _photos(tmp_path / "styles", 3, (20, 20), seed=1)
    config = _config(styles, {})
    config["objective"] = {"style": str(styles)}
    del config["discriminator"]
    with pytest.raises(TrainingSetupError, match="got a folder of 3"):
        build_trainer(config, "fast_style")
    assert decodes == []


def test_a_style_crop_is_the_keyed_crop_of_the_keyed_image(tmp_path):
    root = _photos(tmp_path / "styles", 5, (31, 22), seed=2)
    files = sorted(root.iterdir())
    streamed = StyleImages.from_path(root, 20, cache=False)
    cached = StyleImages.from_path(root, 20, cache=True)
    assert streamed.streamed and not cached.streamed
    paired = WithStyle(list(range(8)), streamed, 12)
    for key in [SampleKey(3, 0, 7), SampleKey(3, 1, 7), SampleKey(0, 0, 0)]:
        # The reference: the same draws, on the file loaded by the plain loader.
        g = sample_generator(key, "style")
        pick = int(torch.randint(5, (1,), generator=g))
        image = load_image(files[pick], 20)[0]
        y = int(torch.randint(image.shape[1] - 12 + 1, (1,), generator=g))
        x = int(torch.randint(image.shape[2] - 12 + 1, (1,), generator=g))
        content, crop = paired[key]
        assert content == 3 or key.index == 0
        torch.testing.assert_close(crop, image[:, y : y + 12, x : x + 12], rtol=0, atol=1e-6)
        torch.testing.assert_close(WithStyle([0] * 8, cached, 12).style(key), crop, rtol=0, atol=0)


def test_gan_style_with_streamed_folders_is_the_same_with_0_and_2_workers(tmp_path):
    content = _photos(tmp_path / "content", 6, (20, 18), seed=0)
    styles = _photos(tmp_path / "styles", 5, (30, 26), seed=1)
    common = ["--style", str(styles), "--set", f"data.root={content}", "--set",
              "data.name=folder", *TINY]  # fmt: skip
    runs = {}
    for workers in (0, 2):
        run = tmp_path / f"w{workers}"
        argv = ["train", "gan_style", "--steps", "4", "--num-workers", str(workers)]
        assert main([*argv, "--run-dir", str(run), *common]) == 0
        runs[workers] = load_checkpoint(run / "checkpoints" / "last.pt")["networks"]
    # 4 steps of 2 over 6 images: epoch 2 begins at step 4, so a resume after 3 steps is
    # in the middle of an epoch.
    split = tmp_path / "split"
    argv = ["train", "gan_style", "--num-workers", "2", "--run-dir", str(split), *common]
    assert main([*argv, "--steps", "3", "--checkpoint-every", "3"]) == 0
    assert main(["train", "gan_style", "--steps", "4", "--resume", str(split), "--threads",
                 "1"]) == 0  # fmt: skip
    runs["resumed"] = load_checkpoint(split / "checkpoints" / "last.pt")["networks"]
    for net in ("generator", "discriminator"):
        for key, value in runs[0][net].items():
            assert torch.equal(value, runs[2][net][key]), (net, key)
            assert torch.equal(value, runs["resumed"][net][key]), (net, key)
