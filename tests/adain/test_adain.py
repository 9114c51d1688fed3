"""AdaIN: exact statistics, the reference's file layouts, training, resume and the CLI."""

from __future__ import annotations

import torch
from torch import nn

from gst_core.feature_stats import adain, blend_adain, mean_std

from .pytorch_adain_reference import reference_decoder, reference_vgg


def _stats64(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = x.double().flatten(2)
    mean = flat.mean(2)
    var = ((flat - mean[..., None]) ** 2).sum(2) / (flat.shape[2] - 1)
    return mean, (var + 1e-5).sqrt()


def test_adain_gives_the_style_statistics_exactly() -> None:
    g = torch.Generator().manual_seed(0)
    content = torch.randn(2, 16, 9, 7, generator=g) * 3 + 1
    style = torch.rand(2, 16, 5, 6, generator=g) * 4
    out = adain(content, *mean_std(style))
    got_mean, got_std = _stats64(out)
    want_mean, want_std = _stats64(style)
    assert torch.allclose(got_mean, want_mean, atol=1e-5)
    # Both sides computed with the same +eps, as function.py does: equal to within 1e-5.
    assert torch.allclose(got_std, want_std, atol=1e-5)


def test_alpha_zero_returns_the_content_features() -> None:
    g = torch.Generator().manual_seed(1)
    content = torch.randn(1, 8, 6, 6, generator=g)
    stats = [mean_std(torch.randn(1, 8, 4, 4, generator=g)) for _ in range(2)]
    assert torch.equal(blend_adain(content, stats, alpha=0.0), content)


def test_a_full_mask_is_the_unmasked_statistics_and_masks_split_regions() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 4, 8, 8, generator=g)
    for a, b in zip(mean_std(x), mean_std(x, torch.ones(1, 1, 8, 8)), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    left = torch.zeros(1, 1, 8, 8)
    left[..., :4] = 1
    style_a, style_b = (mean_std(torch.randn(1, 4, 5, 5, generator=g) * s) for s in (1.0, 5.0))
    out = blend_adain(x, [style_a, style_b], masks=torch.cat([left, 1 - left]))
    ma, sa = _stats64(out[..., :4])
    mb, sb = _stats64(out[..., 4:])
    assert torch.allclose(ma, style_a[0].double().flatten(1), atol=1e-5)
    assert torch.allclose(sb, style_b[1].double().flatten(1), atol=1e-4)


def test_vgg_normalised_and_decoder_files_match_the_reference_forward(tmp_path) -> None:
    from gst_core.kinds import feature_extractors
    from gst_plugins.generators.adain_decoder import load_reference_decoder

    torch.manual_seed(0)
    vgg, decoder = reference_vgg().eval(), reference_decoder().eval()
    with torch.no_grad():
        for m in vgg:
            if isinstance(m, nn.Conv2d):
                m.weight.mul_(2.0)  # keep activations away from zero through 13 layers
        for m in decoder:
            if isinstance(m, nn.Conv2d):
                m.weight.mul_(2.5)  # at torch's default init the output barely depends on the input
    torch.save(vgg.state_dict(), tmp_path / "vgg_normalised.pth")
    torch.save(decoder.state_dict(), tmp_path / "decoder.pth")
    encoder = feature_extractors.build(
        "vgg_normalised", weights=str(tmp_path / "vgg_normalised.pth")
    )
    ours = load_reference_decoder(tmp_path / "decoder.pth")
    image = torch.rand(2, 3, 21, 27, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = vgg(image)
        got = encoder(image)
        assert got["relu4_1"].shape == want.shape
        assert (got["relu4_1"] - want).abs().max() <= 1e-5 * max(1.0, want.abs().max())
        assert (got["relu1_1"] - vgg[:4](image)).abs().max() <= 1e-5
        feats = torch.randn(1, 512, 3, 4)
        want_image = decoder(feats)
        assert want_image.std() > 1e-3  # the output follows its input: the check can fail
        assert (ours(feats) - want_image).abs().max() <= 1e-5 * max(1.0, want_image.abs().max())


def test_train_resume_and_stylize_from_the_command_line(tmp_path) -> None:
    from PIL import Image

    from gst_core.checkpoint import load_checkpoint
    from gst_core.cli import main

    common = ["--set", "data.image_size=32", "--set", "data.count=4", "--set",
              "train.batch_size=2", "--set", "objective.style_size=40", "--threads", "1",
              "--set", "train.sample_every=0"]  # fmt: skip
    assert main(["train", "adain", "--run-dir", str(tmp_path / "a"), "--set", "train.steps=4",
                 *common]) == 0  # fmt: skip
    assert main(["train", "adain", "--run-dir", str(tmp_path / "b"), "--set", "train.steps=2",
                 *common]) == 0  # fmt: skip
    assert main(["train", "adain", "--resume", str(tmp_path / "b"), "--set", "train.steps=4",
                 *common]) == 0  # fmt: skip
    a = load_checkpoint(tmp_path / "a")["networks"]["decoder"]
    b = load_checkpoint(tmp_path / "b")["networks"]["decoder"]
    assert all(torch.equal(a[k], b[k]) for k in a)

    rng = torch.Generator().manual_seed(0)
    for name in ("c", "s1", "s2"):
        pixels = (torch.rand(24, 40, 3, generator=rng) * 255).byte().numpy()
        Image.fromarray(pixels).save(tmp_path / f"{name}.png")
    mask = torch.zeros(24, 40, dtype=torch.uint8)
    mask[:, :20] = 255
    Image.fromarray(mask.numpy()).save(tmp_path / "m1.png")
    Image.fromarray((255 - mask).numpy()).save(tmp_path / "m2.png")
    out = tmp_path / "out"
    assert main(["stylize", "--model", str(tmp_path / "a"), str(tmp_path / "c.png"), "--style",
                 str(tmp_path / "s1.png"), str(tmp_path / "s2.png"), "--mask",
                 str(tmp_path / "m1.png"), "--mask", str(tmp_path / "m2.png"), "--alpha", "0.5",
                 "-o", str(out)]) == 0  # fmt: skip
    assert Image.open(out / "c.png").size == (40, 24)
    # Gatys takes --mask too, one per style: a count mismatch is refused before any work.
    assert main(["stylize", str(tmp_path / "c.png"), str(tmp_path / "s1.png"),
                 str(tmp_path / "s2.png"), "--mask", str(tmp_path / "m1.png"), "-o",
                 str(tmp_path / "gatys.png")]) == 2  # fmt: skip
    assert not (tmp_path / "gatys.png").exists()


def test_export_to_onnx_with_two_images_and_alpha(tmp_path) -> None:
    import pytest

    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    from gst_core.cli import main

    run = tmp_path / "run"
    assert main(["train", "adain", "--run-dir", str(run), "--set", "train.steps=1", "--set",
                 "data.image_size=32", "--set", "data.count=2", "--set", "train.batch_size=2",
                 "--set", "objective.style_size=40", "--threads", "1"]) == 0  # fmt: skip
    assert main(["export", str(run), "-o", str(tmp_path / "a.onnx")]) == 0


def test_a_batch_of_same_size_contents_equals_one_by_one(tmp_path) -> None:
    """`gst stylize --model --batch-size`: batching changes nothing (1e-5), any options."""
    import numpy as np
    from PIL import Image

    from gst_core.apply.adain_model import adain_stylize, load_adain
    from gst_core.cli import main
    from gst_core.cli.stylize_adain import same_size_batches

    run = tmp_path / "run"
    assert main(["train", "adain", "--run-dir", str(run), "--set", "train.steps=1", "--set",
                 "data.image_size=32", "--set", "data.count=2", "--set", "train.batch_size=2",
                 "--set", "objective.style_size=40", "--threads", "1"]) == 0  # fmt: skip
    model = load_adain(run)
    rng = torch.Generator().manual_seed(1)
    contents = torch.rand(3, 3, 20, 28, generator=rng)
    styles = [torch.rand(1, 3, 24, 24, generator=rng), torch.rand(1, 3, 16, 32, generator=rng)]
    mask = torch.zeros(1, 3, 20, 28)
    mask[..., :14] = 1
    cases = [
        {"alpha": 0.7},
        {"weights": [0.3, 0.7], "preserve_color": "histogram"},
        {"masks": [mask, 1 - mask], "preserve_color": "luminance"},
    ]
    for options in cases:
        batched = adain_stylize(model, contents, styles, **options)
        alone = torch.cat([adain_stylize(model, c, styles, **options) for c in contents.split(1)])
        assert batched.shape == (3, 3, 20, 28)
        assert (batched - alone).abs().max() <= 1e-5, options

    # Through the CLI: two sizes, batches of 2; each file as `--batch-size 1` writes it.
    names = []
    for i, (h, w) in enumerate([(20, 28), (24, 24), (20, 28), (20, 28)]):
        pixels = (torch.rand(h, w, 3, generator=rng) * 255).byte().numpy()
        Image.fromarray(pixels).save(tmp_path / f"c{i}.png")
        names.append(str(tmp_path / f"c{i}.png"))
    Image.fromarray((torch.rand(24, 24, 3, generator=rng) * 255).byte().numpy()).save(
        tmp_path / "s.png"
    )
    for batch in ("2", "1"):
        assert main(["stylize", "--model", str(run), *names, "--style", str(tmp_path / "s.png"),
                     "--batch-size", batch, "-o", str(tmp_path / f"out{batch}"),
                     "--quiet"]) == 0  # fmt: skip
    for i in range(4):
        a, b = (np.asarray(Image.open(tmp_path / o / f"c{i}.png"), int) for o in ("out2", "out1"))
        assert np.abs(a - b).max() <= 1, i  # PNG rounding of values equal to 1e-5
    groups = same_size_batches(names, None, 2)
    assert [[i for i, _ in chunk] for chunk in groups] == [[0, 2], [1], [3]]


def test_a_published_adain_run_carries_its_encoder_and_stylizes_the_same(tmp_path) -> None:
    """gst publish of an adain run: the folder holds the encoder too (no weights file needed
    beside it), and adain_stylize (what gst stylize --style runs) gives the run's output."""
    import json

    from gst_core.apply.adain_model import adain_stylize
    from gst_core.cli import main

    run = tmp_path / "run"
    assert main(["train", "adain", "--run-dir", str(run), "--set", "train.steps=1", "--set",
                 "data.image_size=32", "--set", "data.count=2", "--set", "train.batch_size=2",
                 "--set", "objective.style_size=40", "--threads", "1"]) == 0  # fmt: skip
    assert main(["publish", str(run), "-o", str(tmp_path / "model")]) == 0
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert set(config["networks"]) == {"decoder", "encoder"}
    assert config["networks"]["encoder"]["spec"]["kind"] == "feature_extractor"
    assert "gst stylize --model MODEL_DIR" in (tmp_path / "model" / "README.md").read_text()
    rng = torch.Generator().manual_seed(4)
    content, style = (
        torch.rand(1, 3, 24, 40, generator=rng),
        torch.rand(1, 3, 32, 32, generator=rng),
    )
    want = adain_stylize(run, content, [style], alpha=0.7)
    got = adain_stylize(tmp_path / "model", content, [style], alpha=0.7)
    assert float((got - want).abs().max()) <= 1e-6
