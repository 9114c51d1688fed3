"""`gst eval fid|kid REAL FAKE` on folders and checkpoints, and its errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

import gst_core
from gst_core.checkpoint import load_network
from gst_core.cli import main
from gst_core.images import save_image
from gst_core.metrics import folder_features, frechet_distance
from gst_core.metrics.extract import generated_batches
from gst_core.training import Trainer
from gst_plugins.datasets.shapes import ProceduralShapes

from .conftest import TINY_SPEC, tiny_objective


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    data = ProceduralShapes(image_size=16, num_classes=4, per_class=16)
    config = {"steps": 2, "batch_size": 8, "run_dir": str(run), "progress": False}
    Trainer(tiny_objective(), data, config, spec=TINY_SPEC).fit()
    return run


def write_folder(folder, count: int, seed: int):
    """Shapes images saved in assorted sizes and formats, as a user's folder would be."""
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    data = ProceduralShapes(image_size=32, num_classes=4, per_class=count // 4 + 1, seed=seed)
    images, _ = data.get_batch(range(count))
    for i, image in enumerate((images + 1) / 2):
        pil = Image.fromarray((image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
        if i % 3 == 1:
            pil.resize((48, 40)).save(folder / f"{i}.jpg", quality=95)
        elif i % 3 == 2:
            pil.convert("L").save(folder / "sub" / f"{i}.png")  # grayscale, in a subfolder
        else:
            pil.save(folder / f"{i}.png")
    return folder


def test_fid_between_folders_matches_the_python_api(tmp_path, capsys):
    real = write_folder(tmp_path / "real", 24, seed=0)
    fake = write_folder(tmp_path / "fake", 24, seed=1)
    (fake / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "fid.json"
    args = ["eval", "fid", str(real), str(fake), "--extractor", "random_pool", "--json", str(out)]
    assert main([*args, "--no-progress"]) == 0
    printed = capsys.readouterr()
    result = json.loads(out.read_text())
    assert result["metric"] == "fid" and result["extractor"] == "random_pool"
    assert result["real"]["count"] == 24 and result["fake"] == {
        "source": str(fake),
        "count": 24,
        "skipped": 1,
    }
    assert result["comparable_with_published"] is False
    assert "bilinear resize to 64x64" in result["resize"] and "bilinear resize" in printed.out
    assert "NOT comparable with published" in printed.out
    assert "1 unreadable files skipped" in printed.out
    assert "1 of 25 files" in printed.err and "broken.png" in printed.err
    pool = gst_core.feature_extractors.build("random_pool")
    with pytest.warns(UserWarning, match="skipped"):
        expected = frechet_distance(
            folder_features(real, pool, progress=False).features,
            folder_features(fake, pool, progress=False).features,
        )
    assert result["value"] == pytest.approx(expected, rel=1e-12)
    assert f"FID {expected:.6g}" in printed.out


def test_kid_json_and_small_sample_notice(tmp_path, capsys):
    real = write_folder(tmp_path / "real", 12, seed=0)
    fake = write_folder(tmp_path / "fake", 12, seed=2)
    out = tmp_path / "kid.json"
    argv = ["eval", "kid", str(real), str(fake), "--extractor", "random_pool", "--no-progress"]
    assert main([*argv, "--subsets", "5", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["metric"] == "kid" and result["subset_size"] == 12 and result["subsets"] == 5
    assert "std" in result
    assert "subset_size=1000 but only 12 real and 12 fake" in capsys.readouterr().err


def test_checkpoint_side_equals_its_samples_saved_as_png(tmp_path, run_dir, capsys):
    # Generated images are rounded to 8 bits as if saved, so the checkpoint and a folder of
    # its own samples are the same images: FID 0 up to rounding.
    generator = load_network(run_dir / "checkpoints" / "last.pt", "generator")
    folder = tmp_path / "samples"
    folder.mkdir()
    i = 0
    for batch in generated_batches(generator, 40, batch_size=50, seed=0):
        for image in batch:
            save_image(image[None], folder / f"{i:03d}.png")
            i += 1
    out = tmp_path / "r.json"
    argv = ["eval", "fid", str(run_dir), str(folder), "-n", "40", "--extractor", "random_pool"]
    assert main([*argv, "--no-progress", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["real"]["count"] == 40 and "samples of the generator" in result["real"]["source"]
    assert 0.0 <= result["value"] < 1e-8


def test_a_kid_seed_is_reproducible_from_the_command_line(tmp_path, capsys):
    real = write_folder(tmp_path / "real", 30, seed=0)
    fake = write_folder(tmp_path / "fake", 30, seed=3)
    values = []
    for seed in (0, 0, 1):
        out = tmp_path / f"k{len(values)}.json"
        argv = ["eval", "kid", str(real), str(fake), "--extractor", "random_pool"]
        assert main([*argv, "--subset-size", "10", "--seed", str(seed), "--json", str(out)]) == 0
        values.append(json.loads(out.read_text())["value"])
    assert values[0] == values[1] != values[2]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: [str(p / "absent"), str(p / "real")], "'.*absent' does not exist"),
        (lambda p: [str(p / "empty"), str(p / "real")], "no image files in"),
        (lambda p: [str(p / "junk"), str(p / "real")], "none of the 2 image files"),
        (
            lambda p: [str(p / "real"), str(p / "real"), "--extractor", "incepton"],
            "unknown feature_extractor 'incepton'; did you mean 'inception'",
        ),
        (lambda p: [str(p / "real"), str(p / "real"), "-n", "1"], "-n must be at least 2"),
    ],
    ids=["missing", "empty", "unreadable", "unknown-extractor", "count"],
)
def test_bad_input_is_an_error_message_not_a_traceback(tmp_path, capsys, make, message):
    write_folder(tmp_path / "real", 4, seed=0)
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.png").write_text("text")
    (tmp_path / "junk" / "b.jpg").write_bytes(b"")
    assert main(["eval", "fid", *make(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gst: error: ") and "Traceback" not in err
    assert re.search(message, err), err


def test_inception_without_weights_explains(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GST_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    write_folder(tmp_path / "real", 4, seed=0)
    real = str(tmp_path / "real")
    assert main(["eval", "fid", real, real, "--extractor", "inception"]) == 2
    assert "GST_INCEPTION_WEIGHTS" in capsys.readouterr().err
