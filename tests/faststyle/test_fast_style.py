"""fast_style end to end: train, resume bit-identically, stylize with --model; bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.checkpoint import load_checkpoint, load_network
from gst_core.cli import main
from gst_core.kinds import feature_extractors, generators
from gst_plugins.objectives.fast_style import REFERENCE_VGG16, FastStyleObjective

from .conftest import TINY_ARGS


def _write(path, w, h, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loss_terms_match_a_float64_computation():
    torch.manual_seed(0)
    extractor = feature_extractors.build("random_multiscale", channels=6, num_scales=2)
    style = torch.rand(1, 3, 20, 24)
    objective = FastStyleObjective(
        generators.build("transformer_net", channels=4, residual_blocks=0),
        extractor,
        style,
        content_weight=3.0,
        style_weight=50.0,
        tv_weight=0.5,
    )
    image, content = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    terms = objective.loss(image, objective.loss.content_targets(content), objective.style_grams)

    def feats(x):
        return {k: v.double() for k, v in extractor(x).items()}

    def gram(f):
        b, c, h, w = f.shape
        f = f.reshape(b, c, h * w)
        return f @ f.transpose(1, 2) / (c * h * w)

    fi, fc, fs = feats(image), feats(content), feats(style)
    # random_multiscale defaults: content at its coarsest level here, style at every level.
    content_expected = ((fi["scale2"] - fc["scale2"]) ** 2).mean()
    style_expected = sum(((gram(fi[k]) - gram(fs[k])) ** 2).mean() for k in ("scale1", "scale2"))
    x = image.double()
    tv = ((x[..., 1:, :] - x[..., :-1, :]) ** 2).mean() + ((x[..., 1:] - x[..., :-1]) ** 2).mean()
    torch.testing.assert_close(terms["content"].double(), 3.0 * content_expected, rtol=1e-4, atol=0)
    torch.testing.assert_close(terms["style"].double(), 50.0 * style_expected, rtol=1e-4, atol=0)
    torch.testing.assert_close(terms["tv"].double(), 0.5 * tv, rtol=1e-4, atol=0)


def test_vgg16_gets_the_reference_layers_and_weights():
    extractor = feature_extractors.build("vgg16", weights="random", width_multiplier=0.125)
    objective = FastStyleObjective(
        generators.build("transformer_net", channels=4, residual_blocks=0),
        extractor,
        torch.rand(1, 3, 16, 16),
    )
    assert objective.loss.content_loss.layers == REFERENCE_VGG16["content_layers"]
    assert objective.loss.style_loss.layers == REFERENCE_VGG16["style_layers"]
    assert objective.loss.loss_weights == {
        "content_weight": 1e5,
        "style_weight": 1e10,
        "tv_weight": 0.0,
    }


def test_resume_is_bit_identical(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert (
        main(["train", "fast_style", "--steps", "4", "--run-dir", str(straight), *TINY_ARGS]) == 0
    )
    assert main(["train", "fast_style", "--steps", "2", "--run-dir", str(split), *TINY_ARGS]) == 0
    assert (
        main(["train", "fast_style", "--steps", "4", "--resume", str(split), "--threads", "1"]) == 0
    )
    a = load_checkpoint(straight / "checkpoints" / "last.pt")
    b = load_checkpoint(split / "checkpoints" / "last.pt")
    assert b["step"] == 4
    for key, value in a["networks"]["generator"].items():
        assert torch.equal(value, b["networks"]["generator"][key]), key
    assert list((straight / "samples").glob("*.png"))


def test_stylize_with_model_keeps_sizes_and_inputs(tiny_checkpoint, tmp_path):
    inputs = [
        _write(tmp_path / "a.png", 33, 21, 0),
        _write(tmp_path / "b.png", 33, 21, 1),
        _write(tmp_path / "c.jpg", 17, 40, 2),
    ]
    before = [_digest(p) for p in inputs]
    out = tmp_path / "out"
    assert (
        main(
            [
                "stylize",
                "--model",
                str(tiny_checkpoint),
                *map(str, inputs),
                "-o",
                str(out),
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    assert [_digest(p) for p in inputs] == before
    sizes = {p.name: Image.open(p).size for p in out.iterdir()}
    assert sizes == {"a.png": (33, 21), "b.png": (33, 21), "c.png": (17, 40)}
    # Batched (a with b) equals one image at a time: instance norm is per image.
    generator = load_network(tiny_checkpoint)
    alone = apply_image_generator(
        generator,
        torch.from_numpy(np.asarray(Image.open(inputs[1]), dtype=np.float32) / 255).permute(
            2, 0, 1
        )[None],
    )
    written = torch.from_numpy(np.asarray(Image.open(out / "b.png"), dtype=np.float32) / 255)
    assert (alone[0].permute(1, 2, 0) - written).abs().max() <= 1 / 255 + 1e-6


@pytest.fixture
def gan_checkpoint(tmp_path):
    from gst_core.kinds import datasets, discriminators, losses
    from gst_core.training import TrainConfig, Trainer
    from gst_plugins.objectives.gan import GANObjective

    spec = {"name": "dcgan", "image_size": 16, "width": 4, "latent_dim": 8}
    objective = GANObjective(
        generators.build(spec),
        discriminators.build("dcgan", image_size=16, width=4),
        losses.build("hinge"),
    )
    objective.network_specs = {"generator": {"kind": "generator", **spec}}
    data = datasets.build("shapes", image_size=16, num_classes=2, per_class=2)
    config = TrainConfig(steps=1, batch_size=2, run_dir=str(tmp_path / "gan"), sample_every=0)
    Trainer(objective, data, config).fit()
    return tmp_path / "gan" / "checkpoints" / "last.pt"


def test_bad_inputs_give_messages(tiny_checkpoint, gan_checkpoint, tmp_path, capsys):
    image = _write(tmp_path / "in.png", 12, 12)
    cases = [
        (
            ["stylize", "--model", str(gan_checkpoint), str(image), "-o", str(tmp_path / "o1")],
            "draw from it with `gst sample`",
        ),
        (
            ["stylize", "--model", str(tiny_checkpoint), str(image), "-o", str(tmp_path)],
            "is also an input",
        ),
        (
            ["stylize", "--model", str(image), str(image), "-o", str(tmp_path / "o2")],
            "not a torch checkpoint",
        ),
        (
            [
                "stylize",
                "--model",
                str(tiny_checkpoint),
                str(tmp_path / "nope.png"),
                "-o",
                str(tmp_path / "o3"),
            ],
            "not found",
        ),
        (
            [
                "train",
                "fast_style",
                "--style",
                str(tmp_path / "empty"),
                *TINY_ARGS,
                "--run-dir",
                str(tmp_path / "r1"),
            ],
            "has no images",
        ),
        (["train", "fast_style", "--stile", "x.png", "--run-dir", str(tmp_path / "r2")], "--style"),
        (
            [
                "train",
                "fast_style",
                "--set",
                "objective.bogus=1",
                *TINY_ARGS,
                "--run-dir",
                str(tmp_path / "r3"),
            ],
            "bogus",
        ),
    ]
    (tmp_path / "empty").mkdir()
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
