"""gan_style: hard negatives, warm-up, a tiny run that resumes bit-identically; bad input."""

from __future__ import annotations

import pytest
import torch

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_plugins.datasets.style_samples import sample_style
from gst_plugins.objectives.gan_style import edge_smoothed, grayscale

TINY = [
    "--threads", "1", "--batch-size", "2", "--checkpoint-every", "2", "--sample-every", "0",
    "--log-every", "1",
    "--set", "generator.name=transformer_net", "--set", "generator.channels=4",
    "--set", "generator.residual_blocks=1",
    "--set", "discriminator.name=patchgan", "--set", "discriminator.width=4",
    "--set", "discriminator.num_layers=2",
    "--set", "feature_extractor.name=random_multiscale", "--set", "feature_extractor.channels=8",
    "--set", "feature_extractor.num_scales=3",
    "--set", "data.image_size=16", "--set", "data.count=4", "--set", "data.photo_fraction=0.0",
    "--set", "objective.style_size=32", "--set", "objective.warmup_steps=1",
    "--set", "objective.grayscale=true", "--set", "objective.style_weight=1e4",
    "--set", "objective.color_weight=1.0",
]  # fmt: skip


@pytest.fixture(scope="module")
def style_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("styles")
    for i in range(2):
        sample_style(40, 36, seed=i).save(root / f"s{i}.png")
    return root


def test_grayscale_is_the_601_luma():
    x = torch.rand(2, 3, 5, 4)
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    out = grayscale(x)
    for c in range(3):
        torch.testing.assert_close(out[:, c], expected)


def test_edge_smoothing_blurs_edges_only():
    flat = torch.full((1, 3, 12, 12), 0.3)
    torch.testing.assert_close(edge_smoothed(flat), flat)  # no edges: unchanged
    step = torch.zeros(1, 3, 12, 12)
    step[..., 6:] = 1.0  # one vertical edge between columns 5 and 6
    out = edge_smoothed(step, kernel=3)
    assert 0 < out[0, 0, 0, 5] < 1 and 0 < out[0, 0, 0, 6] < 1  # blurred at the edge
    assert out[0, 0, 0, 0] == 0 and out[0, 0, 0, 11] == 1  # untouched far from it


# The discriminator is idle during the warm-up; its lr schedule must not trip torch's
# "lr_scheduler.step() before optimizer.step()" warning.
@pytest.mark.filterwarnings("error:Detected call of")
def test_warmup_then_adversarial_and_bit_identical_resume(style_dir, tmp_path):
    common = ["--style", str(style_dir), *TINY]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", "gan_style", "--steps", "3", "--run-dir", str(straight), *common]) == 0
    assert main(["train", "gan_style", "--steps", "2", "--run-dir", str(split), *common]) == 0
    assert (
        main(["train", "gan_style", "--steps", "3", "--resume", str(split), "--threads", "1"]) == 0
    )
    a = load_checkpoint(straight / "checkpoints" / "last.pt")
    b = load_checkpoint(split / "checkpoints" / "last.pt")
    for net in ("generator", "discriminator"):
        for key, value in a["networks"][net].items():
            assert torch.equal(value, b["networks"][net][key]), (net, key)
    lines = (straight / "metrics.jsonl").read_text().splitlines()
    assert "loss_adv" not in lines[0] and "loss_adv" in lines[-1]  # warm-up: content only


def test_empty_style_folder_is_a_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    argv = ["train", "gan_style", "--style", str(tmp_path / "empty"), *TINY,
            "--run-dir", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "has no images" in err and "Traceback" not in err
