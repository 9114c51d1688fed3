"""`gst import decoder.pth --from adain`: pytorch-AdaIN's saved decoder (and its
vgg_normalised.pth encoder) give a gst AdaIN model whose output equals an independent
forward pass of pytorch-AdaIN's test.py (tests/adain/pytorch_adain_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gst_core.apply.adain_model import adain_stylize, load_adain
from gst_core.apply.peer_import import PeerImportError, import_peer
from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_core.errors import GstError

from .pytorch_adain_reference import reference_decoder, reference_vgg, style_transfer

TOL = 1e-5


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The reference's two files, seeded random weights, saved as pytorch-AdaIN saves them
    (``torch.save(net.state_dict(), path)``; train.py saves the decoder's on the CPU)."""
    folder = tmp_path_factory.mktemp("peer")
    torch.manual_seed(0)
    vgg, decoder = reference_vgg().eval(), reference_decoder().eval()
    with torch.no_grad():
        for m in vgg:
            if isinstance(m, nn.Conv2d):
                m.weight.mul_(2.0)  # keep activations away from zero through 13 layers
        for m in decoder:
            if isinstance(m, nn.Conv2d):
                # At torch's default init the output barely depends on the input (alpha 1 vs
                # 0.6 differed by 5e-6, under the tolerance); ×2.5 makes it 0.018.
                m.weight.mul_(2.5)
        decoder[-1].bias.add_(0.5)  # the image inside [0, 1] (0.42..0.85): no clamping
    torch.save(vgg.state_dict(), folder / "vgg_normalised.pth")
    torch.save(decoder.state_dict(), folder / "decoder.pth")
    return folder, vgg, decoder


def _reference(vgg, decoder, content, style, alpha):
    # test.py: style_transfer(vgg, decoder, content, style, alpha), then save_image clamps.
    with torch.no_grad():
        return style_transfer(vgg, decoder, content, style, alpha).clamp(0, 1)


def _images():
    g = torch.Generator().manual_seed(1)
    return torch.rand(2, 3, 32, 40, generator=g), torch.rand(1, 3, 24, 36, generator=g)


def test_import_matches_the_reference_style_transfer(peer, tmp_path, capsys):
    folder, vgg, decoder = peer
    run = tmp_path / "run"
    argv = ["import", str(folder / "decoder.pth"), "-o", str(run)]
    assert main([*argv, "--encoder", str(folder / "vgg_normalised.pth")]) == 0
    assert "pytorch-AdaIN decoder" in capsys.readouterr().err  # recognised with no --from
    state = load_checkpoint(run)
    assert state["objective"] == "adain"
    assert state["objective_config"]["encoder"]["name"] == "vgg_normalised"

    content, style = _images()
    model = load_adain(run)
    wants = []
    for alpha in (1.0, 0.6):
        want = _reference(vgg, decoder, content, style.expand(2, -1, -1, -1), alpha)
        wants.append(want)
        inside = ((want > 0) & (want < 1)).float().mean()
        assert inside > 0.5  # the comparison is not of clamped constants
        got = adain_stylize(model, content, [style], alpha=alpha)
        assert float((got - want).abs().max()) <= TOL
        with torch.no_grad():  # the module gst export writes
            assert float((model(content, style, alpha) - want).abs().max()) <= TOL
    assert float((wants[0] - wants[1]).abs().max()) > 100 * TOL  # the output follows alpha


def test_model_folder_is_self_contained_and_taken_by_stylize(peer, tmp_path):
    folder, vgg, decoder = peer
    # A copy of the encoder, removed after the import: the model folder holds its weights.
    encoder = tmp_path / "vgg_normalised.pth"
    encoder.write_bytes((folder / "vgg_normalised.pth").read_bytes())
    out = tmp_path / "model"
    argv = ["import", str(folder / "decoder.pth"), "-o", str(out), "--from", "adain"]
    assert main([*argv, "--encoder", str(encoder), "--model-folder"]) == 0
    encoder.unlink()
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    card = (out / "README.md").read_text()
    assert "imported with `gst import`" in card and "gst stylize --model MODEL_DIR" in card
    assert "# decoder (imported from naoto0804/pytorch-AdaIN)" in card
    assert not list(tmp_path.glob(".model.import.*"))  # the staging run is gone

    content, style = _images()
    pixels = (content[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "c.png")
    Image.fromarray((style[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(
        tmp_path / "s.png"
    )
    argv = ["stylize", "--model", str(out), str(tmp_path / "c.png"), "--style"]
    assert main([*argv, str(tmp_path / "s.png"), "-o", str(tmp_path / "out")]) == 0
    saved = np.asarray(Image.open(tmp_path / "out" / "c.png").convert("RGB"), dtype=float)
    as_read = [torch.from_numpy(np.asarray(Image.open(tmp_path / n), dtype=np.float32) / 255)
               for n in ("c.png", "s.png")]  # fmt: skip
    c, s = (x.permute(2, 0, 1)[None] for x in as_read)
    want = _reference(vgg, decoder, c, s, 1.0)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(saved - want).max() <= 0.5 + 1e-3  # gst rounds to 8 bits

    with torch.no_grad():
        got = adain_stylize(out, c, [s])
    assert float((got - _reference(vgg, decoder, c, s, 1.0)).abs().max()) <= TOL


def test_imported_adain_model_folder_exports_to_onnx(peer, tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    folder, _, _ = peer
    out = tmp_path / "model"
    import_peer(folder / "decoder.pth", out, encoder=folder / "vgg_normalised.pth",
                model_folder=True)  # fmt: skip
    assert main(["export", str(out), "-o", str(tmp_path / "a.onnx")]) == 0
    assert (tmp_path / "a.onnx").is_file()


def test_without_encoder_the_default_vgg19_is_used_with_a_warning(peer, tmp_path, monkeypatch,
                                                                  capsys):  # fmt: skip
    from gst_core.kinds import feature_extractors

    folder, _, _ = peer
    for name in ("GST_VGG_WEIGHTS", "GST_VGG19_WEIGHTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(PeerImportError, match="pass --encoder vgg_normalised.pth"):
        import_peer(folder / "decoder.pth", tmp_path / "none")
    assert not (tmp_path / "none").exists()

    vgg19 = feature_extractors.build("vgg19", weights="random", seed=3)
    torch.save({f"features.{k}": v for k, v in vgg19.features.state_dict().items()},
               tmp_path / "vgg19.pth")  # fmt: skip
    monkeypatch.setenv("GST_VGG19_WEIGHTS", str(tmp_path / "vgg19.pth"))
    capsys.readouterr()
    import_peer(folder / "decoder.pth", tmp_path / "run")
    assert "trained behind pytorch-AdaIN's vgg_normalised.pth" in capsys.readouterr().err
    model = load_adain(tmp_path / "run")
    with torch.no_grad():
        assert model(*_images()[:1], _images()[1]).shape == (2, 3, 32, 40)


def test_refusals_say_what_the_file_looked_like(peer, tmp_path):
    folder, _, decoder = peer
    with pytest.raises(PeerImportError, match=r"vgg_normalised.pth \(0.weight .*--encoder"):
        import_peer(folder / "vgg_normalised.pth", tmp_path / "a")
    # The decoder as the encoder: the encoder's loader says what it expected.
    with pytest.raises(GstError, match="not pytorch-AdaIN's vgg_normalised.pth layout"):
        import_peer(folder / "decoder.pth", tmp_path / "b", encoder=folder / "decoder.pth")
    state = decoder.state_dict()
    state["5.weight"] = state["5.weight"][:, :128]
    torch.save(state, tmp_path / "cut.pth")
    with pytest.raises(PeerImportError, match="looks like a pytorch-AdaIN decoder .* do not fit"):
        import_peer(tmp_path / "cut.pth", tmp_path / "c", encoder=folder / "vgg_normalised.pth")
    for project in ("cyclegan", "fast_neural_style"):
        with pytest.raises(PeerImportError, match=f"--from {project}, but .*AdaIN's decoder"):
            import_peer(folder / "decoder.pth", tmp_path / "d", project=project)
    assert not any((tmp_path / n).exists() for n in "abcd")


def test_an_adain_model_folder_from_the_hub_cache(peer, tmp_path):
    """`gst stylize --model user/repo --style`: the folder comes from huggingface_hub's
    cache (offline here), as for the other model folders."""
    import os
    import subprocess
    import sys

    pytest.importorskip("huggingface_hub", reason="the hub extra is not installed")
    folder, _, _ = peer
    repo = tmp_path / "hf" / "hub" / "models--alice--adain"
    snapshot = repo / "snapshots" / "0123abcd"
    import_peer(folder / "decoder.pth", snapshot, encoder=folder / "vgg_normalised.pth",
                model_folder=True)  # fmt: skip
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    content, style = _images()
    for name, image in (("c.png", content[0]), ("s.png", style[0])):
        pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
    local = ["stylize", "--model", str(snapshot), str(tmp_path / "c.png"), "--style",
             str(tmp_path / "s.png"), "-o"]  # fmt: skip
    assert main([*local, str(tmp_path / "local")]) == 0
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "gst_core.cli", *local[:2], "alice/adain", *local[3:]]
    done = subprocess.run([*argv, str(tmp_path / "hub")], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    a, b = (np.asarray(Image.open(tmp_path / d / "c.png")) for d in ("local", "hub"))
    assert np.array_equal(a, b)


def test_masks_are_checked_as_gatys_checks_them(peer, tmp_path):
    """adain_stylize (gst stylize --model RUN --style ... --mask ...) refuses masks with
    blend weights (it used to drop the weights silently) and masks of another aspect ratio."""
    folder, _, _ = peer
    run = tmp_path / "run"
    import_peer(folder / "decoder.pth", run, encoder=folder / "vgg_normalised.pth")
    content, style = _images()
    styles = [style, style.flip(-1)]
    half = torch.zeros(1, 1, 32, 40)
    half[..., :20] = 1
    with pytest.raises(GstError, match="exclude each other"):
        adain_stylize(run, content, styles, weights=[0.5, 0.5], masks=[half, 1 - half])
    with pytest.raises(GstError, match="aspect ratio"):
        adain_stylize(run, content, styles, masks=[torch.ones(1, 1, 32, 32)] * 2)
    with pytest.raises(GstError, match="black everywhere"):
        adain_stylize(run, content, styles, masks=[half, torch.zeros(1, 1, 32, 40)])
    out = adain_stylize(run, content, styles, masks=[half, 1 - half])
    left = adain_stylize(run, content, styles[:1])
    # region 1 (the left half) gets style 1 alone: its pixels away from the seam match
    assert float((out - left)[..., :12].abs().max()) < float((out - left)[..., 28:].abs().max())
