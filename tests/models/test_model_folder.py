"""`gst publish` model folders: bit-identical round trips, no pickle, tampering, plugins, card."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import pytest
import torch

import gst_core
from gst_core.apply.model_folder import ModelFolderError, load_pretrained
from gst_core.apply.publish import publish
from gst_core.checkpoint import load_network
from gst_core.cli import main
from gst_core.images import save_image
from tests.models.conftest import OBJECTIVES

I2I = [o for o in OBJECTIVES if o != "gan"]


def _input_for(network: torch.nn.Module) -> tuple:
    rng = torch.Generator().manual_seed(1)
    if network.input_kind == "latent":
        labels = torch.arange(4) % network.num_classes if network.num_classes else None
        return (torch.randn(4, network.latent_dim, generator=rng), labels)
    return (torch.rand(2, getattr(network, "in_channels", 3), 32, 32, generator=rng) * 2 - 1,)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_round_trip_gives_bit_identical_outputs(objective, trained_runs, published):
    nets = gst_core.load_pretrained(published[objective])
    expected_names = {"cyclegan": {"g_ab", "g_ba"}}.get(objective, {"generator"})
    assert set(nets) == expected_names  # inference networks only: no discriminator
    for name, network in nets.items():
        assert not network.training
        reference = load_network(trained_runs[objective] / "checkpoints" / "last.pt", name)
        # EMA weights where the objective keeps a copy (fast_style keeps none)
        assert nets.config["weights"][name] == ("raw" if objective == "fast_style" else "ema")
        x = _input_for(network)
        with torch.no_grad():
            assert torch.equal(network(*x), reference(*x))
        for key, value in reference.state_dict().items():
            assert torch.equal(network.state_dict()[key], value), key


def _cli_output(args: list[str], out: Path) -> bytes:
    assert main([*args, "-o", str(out)]) == 0
    files = sorted(out.rglob("*.png")) if out.is_dir() else [out]
    return b"".join(f.read_bytes() for f in files)


@pytest.mark.parametrize("objective", I2I)
def test_translate_and_stylize_take_a_model_folder(objective, trained_runs, published, tmp_path):
    image = tmp_path / "in.png"
    save_image(torch.rand(3, 20, 28, generator=torch.Generator().manual_seed(0)), image)
    run, folder = str(trained_runs[objective]), str(published[objective])
    command = ["translate"] if objective in ("pix2pix", "cyclegan") else ["stylize", "--model"]
    from_run = _cli_output([*command, run, str(image)], tmp_path / "run")
    from_folder = _cli_output([*command, folder, str(image)], tmp_path / "folder")
    assert from_run == from_folder and from_run


def test_sample_and_eval_take_a_model_folder(trained_runs, published, tmp_path, capsys):
    run, folder = str(trained_runs["gan"]), str(published["gan"])
    grid = ["sample", "-n", "6", "--seed", "3"]
    assert _cli_output([*grid, run], tmp_path / "a.png") == _cli_output(
        [*grid, folder], tmp_path / "b.png"
    )
    real = tmp_path / "real"
    real.mkdir()
    for i in range(6):
        save_image(torch.rand(3, 16, 16), real / f"{i}.png")
    args = ["eval", "kid", str(real), folder, "-n", "6", "--extractor", "random_pool",
            "--subsets", "2", "--subset-size", "4", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert f"6 samples of the generator (EMA when saved) in {folder}" in capsys.readouterr().out


def test_translate_rejects_a_gan_model_folder(published, tmp_path, capsys):
    image = tmp_path / "in.png"
    save_image(torch.rand(3, 8, 8), image)
    assert main(["translate", str(published["gan"]), str(image), "-o", str(tmp_path / "o")]) == 2
    assert "gst sample" in capsys.readouterr().err


def _check_safetensors(data: bytes) -> None:
    """The whole file is an 8-byte length, a JSON header and the raw tensor bytes it lists."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    assert 8 + length + max(ends) == len(data)
    assert header["__metadata__"]["gst"] == "gst.model/1"


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_the_folder_holds_no_pickle(objective, published):
    folder = published[objective]
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["README.md", "config.json", "model.safetensors", "sample.png"]
    _check_safetensors((folder / "model.safetensors").read_bytes())
    json.loads((folder / "config.json").read_text())
    (folder / "README.md").read_bytes().decode("utf-8")
    assert (folder / "sample.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(b"PK\x03\x04" in p.read_bytes()[:4] for p in folder.iterdir())  # no torch zip


def _copy(folder: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, tmp_path / "copy"))


def _edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


def test_tampered_weights_are_refused(published, tmp_path):
    folder = _copy(published["pix2pix"], tmp_path)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-5] ^= 0x01  # one bit of one weight
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelFolderError, match="does not match the checksum"):
        load_pretrained(folder)


def test_tampered_config_is_refused(published, tmp_path, capsys):
    folder = _copy(published["pix2pix"], tmp_path)
    _edit_config(folder, lambda c: c["networks"]["generator"]["spec"].update(width=8))
    with pytest.raises(ModelFolderError, match=r"weights of generator do not fit .*edited"):
        load_pretrained(folder)
    (folder / "config.json").write_text('{"format": "gst.model/1", "networks": ')
    with pytest.raises(ModelFolderError, match="not valid JSON"):
        load_pretrained(folder)
    image = tmp_path / "in.png"
    save_image(torch.rand(3, 8, 8), image)
    assert main(["translate", str(folder), str(image), "-o", str(tmp_path / "o")]) == 2
    assert "config.json is not valid JSON" in capsys.readouterr().err


def test_a_newer_format_names_the_upgrade(published, tmp_path):
    folder = _copy(published["gan"], tmp_path)
    _edit_config(folder, lambda c: c.update(format="gst.model/2", gst_version="9.0.0"))
    with pytest.raises(ModelFolderError, match=r"gst 9\.0\.0.*pip install -U gst-toolkit"):
        load_pretrained(folder)


def test_a_missing_plugin_is_named_with_its_distribution(published, tmp_path, capsys):
    folder = _copy(published["cyclegan"], tmp_path)

    def plugin_generator(config):
        config["networks"]["g_ba"].update(distribution="gst-fancy-nets", distribution_version="1.2")
        config["networks"]["g_ba"]["spec"]["name"] = "fancy_resnet"

    _edit_config(folder, plugin_generator)
    with pytest.raises(ModelFolderError) as caught:
        load_pretrained(folder)
    message = str(caught.value)
    assert "g_ba" in message and "'fancy_resnet'" in message
    assert "gst-fancy-nets 1.2" in message and "pip install 'gst-fancy-nets>=1.2'" in message
    assert main(["sample", str(folder), "-o", str(tmp_path / "g.png")]) == 2
    assert "gst-fancy-nets" in capsys.readouterr().err


def test_a_component_of_a_newer_gst_says_upgrade(published, tmp_path):
    folder = _copy(published["gan"], tmp_path)

    def newer(config):
        config["networks"]["generator"].update(distribution_version="9.1.0")
        config["networks"]["generator"]["spec"]["name"] = "dcgan_v9"

    _edit_config(folder, newer)
    with pytest.raises(ModelFolderError, match=r"newer gst; pip install -U 'gst-toolkit>=9\.1\.0'"):
        load_pretrained(folder)


SECTIONS = ["What it does", "How it was trained", "Metrics", "Sample", "Licence", "Use it"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_model_card_sections_and_image_link(objective, published):
    folder = published[objective]
    card = (folder / "README.md").read_text()
    headings = re.findall(r"^## (.+)$", card, flags=re.M)
    assert headings == SECTIONS
    assert card.startswith("---\nlicense: mit\n")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", card)
    assert links and all((folder / link).is_file() for link in links)
    assert "None measured" in card  # these runs were never evaluated
    code = re.search(r"```python\n(.*?)```", card, flags=re.S).group(1)
    assert len(code.splitlines()) == 3 and "load_pretrained" in code.splitlines()[1]
    # The three lines run as written (an image-to-image one given an image of legal size).
    scope = {"image": torch.rand(1, 3, 32, 32)}
    with torch.no_grad():
        exec(code.replace("MODEL_DIR", str(folder)), scope)
    out = scope.get("images", scope.get("output"))
    assert out is not None and out.dim() == 4 and out.abs().max() <= 1


def test_model_card_quotes_what_gst_eval_wrote(trained_runs, tmp_path):
    run = trained_runs["gan"]
    result = tmp_path / "fid.json"
    (run / "eval").mkdir(exist_ok=True)
    real = tmp_path / "real"
    real.mkdir()
    for i in range(4):
        save_image(torch.rand(3, 16, 16), real / f"{i}.png")
    args = ["eval", "fid", str(real), str(run), "-n", "4", "--extractor", "random_pool",
            "--no-progress", "--json", str(result)]  # fmt: skip
    assert main(args) == 0
    (run / "eval" / "fid.json").write_bytes(result.read_bytes())
    try:
        folder = publish(run, tmp_path / "model")
    finally:
        (run / "eval" / "fid.json").unlink()
    value = json.loads(result.read_text())["value"]
    card = (folder / "README.md").read_text()
    assert f"| FID | {value:.6g} | random_pool |" in card
    assert json.loads((folder / "config.json").read_text())["metrics"][0]["value"] == value


def test_publish_checks_its_output_and_input(trained_runs, published, tmp_path, capsys):
    umask = os.umask(0)
    os.umask(umask)
    assert published["gan"].stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
    assert main(["publish", str(trained_runs["gan"]), "-o", str(published["gan"])]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["publish", str(tmp_path / "nope"), "-o", str(tmp_path / "m")]) == 2
    assert not (tmp_path / "m").exists()
    assert not list(tmp_path.glob(".m.*"))  # no staging folder left behind


def test_export_takes_a_model_folder(published, trained_runs, tmp_path, monkeypatch):
    """`gst export DIR` exports the folder's generator (the ONNX writing itself is covered by
    tests/faststyle/test_export_onnx.py; here the export is recorded, not run: 80 s on CPU)."""
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    import gst_core.apply.export_onnx as export_onnx

    exported = []
    monkeypatch.setattr(export_onnx, "export_onnx", lambda g, out, **options: exported.append(g))
    out = str(tmp_path / "m.onnx")
    assert main(["export", str(published["cyclegan"]), "-o", out, "--direction", "b2a",
                 "--no-compare"]) == 0  # fmt: skip
    reference = load_network(trained_runs["cyclegan"], "g_ba")
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(exported[0](x), reference(x))
