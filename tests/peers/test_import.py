"""`gst import`: peers' saved generators give gst models whose outputs equal an independent
forward pass of the peer's layout (tests/peers/reference_layouts.py) on the same input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.apply.peer_import import PeerImportError, import_peer
from gst_core.apply.translate import load_translator
from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main

from .reference_layouts import (
    PeerResnetGenerator,
    PeerTransformerNet,
    PeerUnetGenerator,
    randomise,
)

TOL = 1e-5


def _save(net: torch.nn.Module, path) -> None:
    # As the reference saves: the plain module's state dict, on the CPU.
    torch.save(net.cpu().state_dict(), path)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_cyclegan_pair_imports_both_directions(tmp_path, norm, capsys):
    g_a = randomise(PeerResnetGenerator(3, 3, 8, 2, norm), seed=1)
    g_b = randomise(PeerResnetGenerator(3, 3, 8, 2, norm, use_dropout=True), seed=2)
    _save(g_a, tmp_path / "latest_net_G_A.pth")
    _save(g_b, tmp_path / "latest_net_G_B.pth")
    run = tmp_path / "run"
    # No --from: G_A in the file name says CycleGAN; G_B next to it comes along.
    assert main(["import", str(tmp_path / "latest_net_G_A.pth"), "-o", str(run)]) == 0
    assert load_checkpoint(run)["objective"] == "cyclegan"
    x = torch.rand(2, 3, 32, 44) * 2 - 1
    with torch.no_grad():
        for direction, peer in (("a2b", g_a), ("b2a", g_b)):
            ours = load_translator(run, direction)
            assert _max_diff(ours(x), peer(x)) <= TOL


def test_pix2pix_unet_batch_norm(tmp_path):
    peer = randomise(PeerUnetGenerator(3, 2, 6, 4, "batch"), seed=3)
    path = tmp_path / "latest_net_G.pth"
    _save(peer, path)
    with pytest.raises(PeerImportError, match="--from pix2pix or --from cyclegan"):
        import_peer(path, tmp_path / "auto")  # the weights cannot tell pix2pix from CycleGAN
    with pytest.raises(PeerImportError, match="unet_64 .*--arch"):
        import_peer(path, tmp_path / "wrong", project="pix2pix", arch="unet_256")
    import_peer(path, tmp_path / "run", project="pix2pix", arch="unet_64")
    state = load_checkpoint(tmp_path / "run")
    assert state["objective"] == "pix2pix"
    spec = state["network_specs"]["generator"]
    assert (spec["num_downs"], spec["width"], spec["norm"], spec["out_channels"]) == (
        6,
        4,
        "batch",
        2,
    )
    x = torch.rand(1, 3, 64, 128) * 2 - 1
    with torch.no_grad():
        assert _max_diff(load_translator(state)(x), peer(x)) <= TOL


def test_old_instance_norm_statistics_and_dataparallel_prefix_are_handled(tmp_path):
    peer = randomise(PeerResnetGenerator(1, 3, 4, 1, "instance"), seed=4)
    state = {f"module.{k}": v for k, v in peer.state_dict().items()}
    # torch < 0.4 saved running statistics for instance norm; the reference drops them.
    state["module.model.2.running_mean"] = torch.zeros(4)
    state["module.model.2.running_var"] = torch.ones(4)
    torch.save(state, tmp_path / "latest_net_G.pth")
    import_peer(tmp_path / "latest_net_G.pth", tmp_path / "run", project="cyclegan")
    x = torch.rand(1, 1, 20, 16) * 2 - 1
    with torch.no_grad():
        assert _max_diff(load_translator(tmp_path / "run")(x), peer(x)) <= TOL


def test_fast_neural_style_matches_the_reference_0_255_output(tmp_path):
    peer = randomise(PeerTransformerNet(), seed=5)
    state = peer.state_dict()
    state["in1.running_mean"] = torch.zeros(32)  # as in the published candy.pth & co.
    state["res2.in1.running_var"] = torch.ones(128)
    torch.save(state, tmp_path / "mosaic.pth")
    run = tmp_path / "run"
    assert main(["import", str(tmp_path / "mosaic.pth"), "-o", str(run)]) == 0
    assert load_checkpoint(run)["objective"] == "fast_style"
    ours = load_translator(run)
    with torch.no_grad():
        for h, w in ((32, 48), (36, 20)):
            photo = torch.rand(1, 3, h, w)
            reference = peer(photo * 255).clamp(0, 255)  # what its stylize saves, before uint8
            assert reference.min() < 255 and reference.max() > 0  # not all clipped
            assert _max_diff((ours(photo * 2 - 1) + 1) * 127.5, reference) <= 255 * TOL

    # End to end through gst stylize --model: the saved pixels are the reference's to rounding
    # (gst rounds; the reference's astype("uint8") truncates, hence at most one level).
    photo = (np.random.default_rng(0).random((24, 40, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert (
        main(
            [
                "stylize",
                "--model",
                str(run),
                str(tmp_path / "photo.png"),
                "-o",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    ours_png = np.asarray(Image.open(tmp_path / "out" / "photo.png").convert("RGB"), dtype=int)
    with torch.no_grad():
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float()
        ref = peer(x).clamp(0, 255)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours_png - np.floor(ref)).max() <= 1
    assert np.abs(ours_png - ref).max() <= 0.5 + 1e-3


def test_imported_model_exports_to_onnx(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    peer = randomise(PeerResnetGenerator(3, 3, 4, 1, "instance"), seed=6)
    _save(peer, tmp_path / "latest_net_G_A.pth")
    import_peer(tmp_path / "latest_net_G_A.pth", tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "-o", str(tmp_path / "g.onnx")]) == 0
    assert (tmp_path / "g.onnx").is_file()


def test_refusals_say_what_the_file_looked_like(tmp_path, capsys):
    torch.save({"encoder.weight": torch.zeros(3, 4), "step": torch.tensor(7)}, tmp_path / "x.pth")
    assert main(["import", str(tmp_path / "x.pth"), "-o", str(tmp_path / "r1")]) == 2
    err = capsys.readouterr().err
    assert "encoder.weight (3, 4)" in err and "not a generator" in err

    # A whole pickled module needs arbitrary unpickling: refused, never run.
    torch.save(PeerResnetGenerator(3, 3, 4, 1), tmp_path / "module.pth")
    with pytest.raises(PeerImportError, match="pickled Python objects"):
        import_peer(tmp_path / "module.pth", tmp_path / "r2", project="cyclegan")

    patch = torch.nn.Sequential(torch.nn.Conv2d(6, 8, 4, 2, 1))
    torch.save({"model.0.weight": patch[0].weight.data}, tmp_path / "latest_net_D.pth")
    with pytest.raises(PeerImportError, match="PatchGAN discriminator"):
        import_peer(tmp_path / "latest_net_D.pth", tmp_path / "r3", project="pix2pix")

    peer = PeerTransformerNet()
    torch.save(peer.state_dict(), tmp_path / "candy.pth")
    with pytest.raises(PeerImportError, match="--from cyclegan, but"):
        import_peer(tmp_path / "candy.pth", tmp_path / "r4", project="cyclegan")

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(PeerImportError, match="never replaces"):
        import_peer(tmp_path / "candy.pth", tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_imported_run_cannot_be_resumed(tmp_path):
    peer = PeerResnetGenerator(3, 3, 4, 1)
    _save(peer, tmp_path / "latest_net_G_A.pth")
    import_peer(tmp_path / "latest_net_G_A.pth", tmp_path / "run")
    code = main(["train", "cyclegan", "--resume", str(tmp_path / "run"), "--steps", "1"])
    assert code == 2


def _png(tmp_path, name, h, w, seed):
    pixels = (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / name)
    return torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255


def _read_png(path) -> torch.Tensor:
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32))


def test_cyclegan_pair_as_a_model_folder_for_translate_and_export(tmp_path, capsys):
    import gst_core

    g_a = randomise(PeerResnetGenerator(3, 3, 8, 2, "instance"), seed=11)
    g_b = randomise(PeerResnetGenerator(3, 3, 8, 2, "instance"), seed=12)
    _save(g_a, tmp_path / "latest_net_G_A.pth")
    _save(g_b, tmp_path / "latest_net_G_B.pth")
    folder = tmp_path / "horse2zebra"
    argv = ["import", str(tmp_path / "latest_net_G_A.pth"), "-o", str(folder), "--model-folder"]
    assert main(argv) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    card = (folder / "README.md").read_text()
    assert "imported with `gst import`" in card and "latest_net_G_B.pth" in card
    assert "junyanz/pytorch-CycleGAN-and-pix2pix (CycleGAN)" in card
    nets = gst_core.load_pretrained(folder)  # readable without gst's pickles
    assert set(nets) == {"g_ab", "g_ba"} and nets.config["objective"] == "cyclegan"

    x = _png(tmp_path, "photo.png", 24, 32, seed=0)
    for direction, peer in (("a2b", g_a), ("b2a", g_b)):
        out = tmp_path / direction
        argv = ["translate", str(folder), str(tmp_path / "photo.png"), "-o", str(out)]
        assert main([*argv, "--direction", direction]) == 0
        with torch.no_grad():
            want = ((peer(x * 2 - 1) + 1) * 127.5).clamp(0, 255)[0].permute(1, 2, 0)
        assert _max_diff(_read_png(out / "photo.png"), want) <= 0.5 + 1e-3  # 8-bit rounding

    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnxscript"):
        assert main(["export", str(folder), "-o", str(tmp_path / "g.onnx")]) == 0


def test_fast_neural_style_as_a_model_folder_for_stylize(tmp_path):
    peer = randomise(PeerTransformerNet(), seed=13)
    torch.save(peer.state_dict(), tmp_path / "candy.pth")
    folder = tmp_path / "candy"
    import_peer(tmp_path / "candy.pth", folder, model_folder=True)
    x = _png(tmp_path, "photo.png", 20, 36, seed=1)
    argv = ["stylize", "--model", str(folder), str(tmp_path / "photo.png"), "-o"]
    assert main([*argv, str(tmp_path / "out")]) == 0
    with torch.no_grad():
        want = peer(x * 255).clamp(0, 255)[0].permute(1, 2, 0)
    assert _max_diff(_read_png(tmp_path / "out" / "photo.png"), want) <= 0.5 + 1e-3

    # Tiled (instance-norm statistics from a thumbnail): close to the reference, not equal.
    x = _png(tmp_path, "big.png", 72, 96, seed=2)
    argv = ["stylize", "--model", str(folder), str(tmp_path / "big.png"), "-o"]
    assert main([*argv, str(tmp_path / "tiled"), "--tile", "48", "--overlap", "16"]) == 0
    with torch.no_grad():
        want = peer(x * 255).clamp(0, 255)[0].permute(1, 2, 0)
    tiled = _read_png(tmp_path / "tiled" / "big.png")
    assert tiled.shape == want.shape and 0 < float((tiled - want).abs().mean()) / 255 < 0.02


def test_model_folder_refusals_leave_nothing_behind(tmp_path):
    peer = PeerResnetGenerator(3, 3, 4, 1)
    _save(peer, tmp_path / "latest_net_G.pth")
    with pytest.raises(PeerImportError, match="--encoder is the encoder of a pytorch-AdaIN"):
        import_peer(tmp_path / "latest_net_G.pth", tmp_path / "m", project="pix2pix",
                    encoder=tmp_path / "latest_net_G.pth", model_folder=True)  # fmt: skip
    with pytest.raises(PeerImportError, match="--from adain, but .*pix2pix/CycleGAN generator"):
        import_peer(tmp_path / "latest_net_G.pth", tmp_path / "m", project="adain")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(PeerImportError, match="new model folder and never replaces"):
        import_peer(tmp_path / "latest_net_G.pth", tmp_path / "taken", project="pix2pix",
                    model_folder=True)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest_net_G.pth", "taken"]
