"""Paired/unpaired folders, the built-in i2i data, `gst translate`, and every bad input's message."""

from __future__ import annotations

import warnings

import pytest
import torch
from PIL import Image

from gst_core.apply.apply_generator import apply_image_generator, pad_to_multiple
from gst_core.apply.translate import TranslateError, translate
from gst_core.cli import main
from gst_core.errors import DataError
from gst_core.kinds import datasets, generators
from gst_core.training.build import build_trainer

from .conftest import tiny_config


def _image(path, size=(12, 12), colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def test_paired_folders_match_by_name_and_crop_a_and_b_together(tmp_path):
    for i in range(3):
        _image(tmp_path / "train" / "A" / f"{i}.png", (20, 20), (i * 80, 0, 0))
        _image(tmp_path / "train" / "B" / f"{i}.jpg", (20, 20), (i * 80, 0, 0))
    data = datasets.build(
        {"name": "paired", "root": str(tmp_path), "image_size": 8, "load_size": 12}
    )
    assert len(data) == 3 and data.image_shape == (3, 8, 8)
    # A and B of one file are the same picture, so the same crop and flip keep them equal
    # up to JPEG's rounding; a different crop would not (the images have a gradient added).
    gradient = torch.linspace(0, 255, 12).round().to(torch.uint8)
    a = data.store.parts[0] // 2 + gradient // 2
    data.store._parts = (a, a.clone())  # the cached A and B tensors
    torch.manual_seed(0)
    batch = data.get_batch([0, 1, 2, 0, 1, 2])
    assert torch.equal(batch["A"], batch["B"])
    assert len({tuple(x[0, 0].tolist()) for x in batch["A"]}) > 1  # crops/flips do vary


def test_side_by_side_ab_images_and_direction(tmp_path):
    image = Image.new("RGB", (32, 16), (255, 0, 0))
    image.paste((0, 0, 255), (16, 0, 32, 16))
    image.save(tmp_path / "x.png")
    a2b = datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 16, "flip": False})
    item = a2b[0]
    assert item["A"][0].mean() == 1 and item["B"][2].mean() == 1  # A red (left), B blue
    b2a = datasets.build(
        {"name": "paired", "root": str(tmp_path), "image_size": 16, "direction": "b2a"}
    )
    assert b2a[0]["A"][2].mean() == 1


def test_unmatched_pairs_empty_domains_and_unreadable_files(tmp_path):
    _image(tmp_path / "A" / "1.png")
    _image(tmp_path / "A" / "2.png")
    _image(tmp_path / "B" / "1.png")
    _image(tmp_path / "B" / "3.png")
    with pytest.raises(DataError, match=r"1 in A/ without a match in B/ \(2\).*1 in B/.*\(3\)"):
        datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})
    (tmp_path / "B" / "3.png").unlink()
    _image(tmp_path / "B" / "2.png")
    (tmp_path / "B" / "2.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})
    assert len(data) == 1 and [p.name for p in data.skipped] == ["2.png"]

    unpaired = tmp_path / "u"
    _image(unpaired / "trainA" / "a.png")
    (unpaired / "trainB").mkdir()
    with pytest.raises(DataError, match="trainB.*has no images; the domain is empty"):
        datasets.build({"name": "unpaired", "root": str(unpaired), "image_size": 8})
    with pytest.raises(DataError, match="no testA/ folder"):
        datasets.build({"name": "unpaired", "root": str(unpaired), "split": "test"})
    for name in ("b1.png", "b2.png", "b3.png"):
        _image(unpaired / "trainB" / name, (9, 14), (0, 0, 255))
    data = datasets.build({"name": "unpaired", "root": str(unpaired), "image_size": 8})
    assert len(data) == 3 and not data.paired
    with pytest.raises(DataError, match="load_size must be"):
        datasets.build({"name": "unpaired", "root": str(unpaired), "load_size": 4})


def test_builtin_data_is_deterministic_with_a_disjoint_test_split():
    a = datasets.build({"name": "paired_shapes", "count": 4})
    b = datasets.build({"name": "paired_shapes", "count": 4})
    test = datasets.build({"name": "paired_shapes", "count": 4, "split": "test"})
    assert torch.equal(a.a, b.a) and not torch.equal(a.a, test.a)
    # Outline vs filled: the filled shape covers more pixels than its outline.
    assert (a.b.float() - a.a.float()).sum() > 0
    u = datasets.build({"name": "unpaired_shapes", "count": 4})
    assert u.a.float().mean() > u.b.float().mean()  # day is brighter than night


def test_bad_training_setups_give_messages(tmp_path, capsys):
    with pytest.raises(Exception, match="needs paired data"):
        config = tiny_config("pix2pix")
        config["data"] = {"name": "unpaired_shapes", "image_size": 32, "count": 4}
        build_trainer(config, "pix2pix")
    config = tiny_config("pix2pix")
    config["data"]["image_size"] = 16
    with pytest.raises(Exception, match="multiples of 32"):
        build_trainer(config, "pix2pix")
    config = tiny_config("pix2pix")
    config["generator"] = {"name": "dcgan"}
    with pytest.raises(Exception, match="image-to-image generator"):
        build_trainer(config, "pix2pix")
    (tmp_path / "bad.toml").write_text(
        f'[data]\nname = "paired"\nroot = "{tmp_path / "missing"}"\n[train]\nprogress = false\n'
    )
    assert main(["train", "pix2pix", "--config", str(tmp_path / "bad.toml")]) == 2
    assert "gst: error:" in capsys.readouterr().err


def test_apply_pads_to_the_multiple_and_crops_back():
    padded, size = pad_to_multiple(torch.rand(1, 3, 33, 7), 8)
    assert padded.shape == (1, 3, 40, 8) and size == (33, 7)
    assert torch.equal(padded[..., 33:35, :7], padded[..., 30:32, :7].flip(-2))  # reflection
    torch.manual_seed(0)
    g = generators.build("unet", num_downs=5, width=2).eval()
    for shape in [(3, 1, 1), (3, 33, 7), (3, 64, 31), (1, 45, 50)]:
        out = apply_image_generator(g, torch.rand(*shape))
        assert out.shape == (3, *shape[1:]) and 0 <= out.min() and out.max() <= 1


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("pix2pix")
    build_trainer(tiny_config("pix2pix", steps=1, run_dir=run), "pix2pix").fit()
    return run


def test_translate_folders_skips_unreadable_and_never_overwrites(checkpoint, tmp_path):
    src = tmp_path / "in"
    _image(src / "a.png", (17, 9))
    _image(src / "sub" / "b.jpg", (5, 40))
    (src / "broken.png").write_bytes(b"\x89PNG broken")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = translate(checkpoint, src, tmp_path / "out", progress=False)
    assert "skipped 1 unreadable" in str(caught[-1].message)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in result) == [
        "a.png",
        "sub/b.png",
    ]
    assert Image.open(tmp_path / "out" / "sub" / "b.png").size == (5, 40)
    before = (tmp_path / "out" / "a.png").read_bytes()
    with pytest.raises(Exception, match="already exists; pass --overwrite"):
        translate(checkpoint, src, tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "a.png").read_bytes() == before
    with pytest.raises(Exception, match="also an input"):
        translate(checkpoint, src, src, progress=False)
    with pytest.raises(TranslateError, match="one way only"):
        translate(checkpoint, src / "a.png", tmp_path / "o2", direction="b2a", progress=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{run}", "{tmp}/nothing.png", "-o", "{tmp}/o"], "does not exist"),
        (["{run}", "{tmp}/empty", "-o", "{tmp}/o"], "holds no images"),
        (["{tmp}/no_run", "{tmp}/x.png", "-o", "{tmp}/o"], "without checkpoints/last.pt"),
        (["{run}", "{tmp}/x.png", "{tmp}/d/x.png", "-o", "{tmp}/o"], "would both be written"),
        (["{run}", "{tmp}/junk.png", "-o", "{tmp}/o"], "could be read"),
    ],
)
def test_translate_cli_errors_are_messages(checkpoint, tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "no_run").mkdir()
    _image(tmp_path / "x.png")
    _image(tmp_path / "d" / "x.png")
    (tmp_path / "junk.png").write_text("junk")
    argv = [a.format(run=checkpoint, tmp=tmp_path) for a in args]
    assert main(["translate", *argv]) == 2
    err = capsys.readouterr().err
    assert "gst: error:" in err and message in err and "Traceback" not in err
