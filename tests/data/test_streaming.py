"""Folder data streamed from disk: worker-count independence, exact resume, unreadable files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.errors import DataError
from gst_core.kinds import discriminators, generators, losses
from gst_core.sample_keys import SampleKey
from gst_core.training.trainer import Trainer
from gst_plugins.datasets.image_folder import ImageFolder
from gst_plugins.datasets.paired import PairedFolder
from gst_plugins.objectives.gan import GANObjective


def _folder(root, count=24, size=(20, 18)):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        array = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(array).save(root / f"{i:02d}.png")
    return root


def _objective():
    torch.manual_seed(0)
    g = generators.build("dcgan", image_size=16, width=8, latent_dim=8)
    d = discriminators.build("dcgan", image_size=16, width=8)
    return GANObjective(g, d, losses.build("hinge"))


def _train(data, steps, run_dir=None, workers=0, resume=None, checkpoint_every=0):
    config = {
        "steps": steps,
        "batch_size": 4,
        "num_workers": workers,
        "progress": False,
        "log_every": 1,
        "sample_every": 0,
        "checkpoint_every": checkpoint_every,
        "run_dir": str(run_dir) if run_dir else None,
    }
    trainer = Trainer(_objective(), data, config)
    trainer.fit(resume=resume)
    return {k: v.clone() for k, v in trainer.networks["generator"].state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_streamed_is_lazy_and_equals_cached(tmp_path):
    root = _folder(tmp_path / "img")
    streamed = ImageFolder(root, image_size=16, flip=True, cache=False)
    cached = ImageFolder(root, image_size=16, flip=True, cache=True)
    assert streamed.streamed and not cached.streamed
    assert streamed.store.parts == ()  # nothing decoded at start-up
    for key in [SampleKey(i, e, 3) for i in (0, 5, 23) for e in (0, 1)]:
        assert torch.equal(streamed[key][0], cached[key][0])
    # The flip is a function of the key alone: drawn again, it is the same.
    flips = [bool(torch.equal(streamed[SampleKey(0, e, 0)][0], cached[0][0])) for e in range(16)]
    assert 0 < sum(flips) < 16
    assert ImageFolder(root, image_size=16).streamed is False  # auto: 24 images fit the budget
    assert ImageFolder(root, image_size=16, cache_budget_mb=0).streamed is True


def test_zero_and_two_workers_train_identical_weights(tmp_path):
    data = ImageFolder(_folder(tmp_path / "img"), image_size=16, flip=True, cache=False)
    assert _same(_train(data, 8, workers=0), _train(data, 8, workers=2))


def test_mid_epoch_resume_is_exact(tmp_path):
    # 24 images in batches of 4: an epoch is 6 steps; stop after 4, resume to 9.
    data = ImageFolder(_folder(tmp_path / "img"), image_size=16, flip=True, cache=False)
    whole = _train(data, 9, workers=2)
    _train(data, 4, run_dir=tmp_path / "run", workers=2)
    resumed = _train(data, 9, run_dir=tmp_path / "run", workers=2, resume=tmp_path / "run")
    assert _same(whole, resumed)


def test_a_file_damaged_during_training_is_skipped_counted_and_named(tmp_path):
    root = _folder(tmp_path / "img")
    data = ImageFolder(root, image_size=16, cache=False)
    (root / "03.png").write_bytes(b"damaged after listing")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\) met while training.*03"):
        _train(data, 6, run_dir=tmp_path / "run", workers=2)  # one epoch: every file is met
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["data_unreadable"] == 1
    assert [p.name for p in data.skipped] == ["03.png"]
    # The next readable image takes its place: the item is 04.png's.
    assert torch.equal(data[3][0], data[4][0])


def test_beyond_the_stated_share_training_stops_naming_the_files(tmp_path):
    root = _folder(tmp_path / "img", count=8)
    data = ImageFolder(root, image_size=16, cache=False, max_unreadable=0.25)
    for name in ("01.png", "02.png", "05.png"):
        (root / name).write_bytes(b"gone")
    # Whether a warning comes first depends on how far the workers read ahead: not checked.
    with pytest.raises(DataError, match=r"3 of 8 .*max_unreadable = 0.25.*01.png, 02.png, 05.png"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _train(data, 4, workers=2)


def test_paired_stream_equals_cache_and_direction(tmp_path):
    for i in range(6):
        for side, colour in (("A", (200, 0, 0)), ("B", (0, 0, 200))):
            path = tmp_path / "train" / side / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (24, 24), colour).save(path)
    streamed = PairedFolder(tmp_path, image_size=16, load_size=20, cache=False)
    cached = PairedFolder(tmp_path, image_size=16, load_size=20, cache=True)
    key = SampleKey(2, 1, 0)
    assert torch.equal(streamed[key]["A"], cached[key]["A"])
    assert torch.equal(streamed[key]["B"], cached[key]["B"])
    assert streamed[key]["A"][0].mean() == pytest.approx(200 / 127.5 - 1)
    b2a = PairedFolder(tmp_path, image_size=16, cache=False, direction="b2a")
    assert b2a[0]["A"][2].mean() == pytest.approx(200 / 127.5 - 1)
