"""The data stream (re-iterated, never cached), early batch-size checks, folder image
conversion, and callbacks that raise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.errors import GstError
from gst_core.images import load_image
from gst_core.training import Callback, Trainer, TrainingSetupError
from gst_core.training.batches import ResumableBatchSampler
from gst_plugins.datasets.image_folder import ImageFolder
from gst_plugins.datasets.shapes import ProceduralShapes

from .helpers import make_objective

FAST = {"batch_size": 16, "progress": False, "log_every": 0, "sample_every": 0, "steps": 1}


class CountingBatches:
    """A re-iterable collection of batches that counts its passes."""

    def __init__(self, data, batches: int = 2):
        self.data, self.batches, self.passes = data, batches, 0

    def __iter__(self):
        self.passes += 1
        for b in range(self.batches):
            yield self.data.get_batch(list(range(b * 16, (b + 1) * 16)))


def test_iterable_data_is_iterated_again_each_pass_not_replayed(shapes16):
    data = CountingBatches(shapes16, batches=2)
    trainer = Trainer(make_objective(), data, {**FAST, "steps": 5})
    trainer.fit()
    # itertools.cycle would call __iter__ once and replay its cached first pass.
    assert trainer.batches >= 5 and data.passes == (trainer.batches + 1) // 2


def test_empty_or_exhausted_iterable_is_a_setup_error_not_a_hang(shapes16):
    with pytest.raises(TrainingSetupError, match="no batches"):
        Trainer(make_objective(), CountingBatches(shapes16, batches=0), FAST).fit()
    one_shot = iter([shapes16.get_batch(list(range(16)))])
    with pytest.raises(TrainingSetupError, match="runs out after one pass"):
        Trainer(make_objective(), one_shot, {**FAST, "steps": 3}).fit()


def test_an_empty_dataset_is_a_setup_error():
    with pytest.raises(TrainingSetupError, match="the training data is empty"):
        Trainer(make_objective(), [], FAST)


def test_dataset_smaller_than_a_batch_fails_before_the_run_folder_is_written(tmp_path):
    small = ProceduralShapes(image_size=16, num_classes=4, per_class=2)  # 8 images
    run = tmp_path / "run"
    with pytest.raises(TrainingSetupError) as info:
        Trainer(make_objective(), small, {**FAST, "run_dir": str(run)})
    assert isinstance(info.value, GstError)
    message = str(info.value)
    assert "8 image" in message and "batch of 16" in message and "--batch-size 8" in message
    assert not run.exists()
    with pytest.raises(TrainingSetupError, match="--batch-size"):
        ResumableBatchSampler(3, 4)


def _save(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def test_folder_images_convert_like_load_image(tmp_path):
    grey16 = Image.fromarray(np.full((12, 12), 32768, dtype=np.uint16))
    _save(tmp_path / "a_grey16.png", grey16)
    _save(tmp_path / "b_clear.png", Image.new("RGBA", (12, 12), (0, 0, 0, 0)))
    data = ImageFolder(tmp_path, image_size=12)
    grey, clear = data.images[0].float(), data.images[1].float()
    # mid grey, not clipped to white; fully transparent composites onto white, not black
    assert torch.all((grey - 128).abs() <= 1), grey.unique()
    assert torch.all(clear == 255), clear.unique()
    for i, name in enumerate(["a_grey16.png", "b_clear.png"]):
        expected = (load_image(tmp_path / name)[0] * 255).round().to(torch.uint8)
        assert torch.equal(data.images[i], expected), name


class Recorder(Callback):
    def __init__(self, events: list[str], name: str, fail: str | None = None):
        self.events, self.name, self.fail = events, name, fail

    def _hook(self, hook: str, error: BaseException | None = None) -> None:
        self.events.append(f"{self.name}.{hook}" + (f"({type(error).__name__})" if error else ""))
        if self.fail == hook:
            raise ValueError(f"{self.name} {hook} failed")

    def on_fit_start(self, trainer):
        self._hook("start")

    def on_step_end(self, trainer, step, metrics):
        if self.fail == "step":
            raise RuntimeError("training broke")

    def on_fit_end(self, trainer, error):
        self._hook("end", error)


def _fit(shapes16, *callbacks):
    return Trainer(make_objective(), shapes16, FAST, callbacks=callbacks).fit()


def test_a_failing_on_fit_start_still_ends_the_callbacks_already_started(shapes16):
    events: list[str] = []
    with pytest.raises(ValueError, match="b start failed"):
        _fit(shapes16, Recorder(events, "a"), Recorder(events, "b", fail="start"))
    assert events == ["a.start", "b.start", "a.end(ValueError)", "b.end(ValueError)"]


def test_a_failing_on_fit_end_neither_skips_the_rest_nor_hides_the_training_error(shapes16):
    events: list[str] = []
    with (
        pytest.warns(UserWarning, match="a end failed"),
        pytest.raises(RuntimeError, match="broke"),
    ):
        _fit(
            shapes16,
            Recorder(events, "a", fail="end"),
            Recorder(events, "b", fail="step"),
            Recorder(events, "c"),
        )
    assert events[-3:] == ["a.end(RuntimeError)", "b.end(RuntimeError)", "c.end(RuntimeError)"]


def test_a_failing_on_fit_end_after_clean_training_is_raised_after_all_ran(shapes16):
    events: list[str] = []
    with pytest.raises(ValueError, match="a end failed"):
        _fit(shapes16, Recorder(events, "a", fail="end"), Recorder(events, "b"))
    assert events == ["a.start", "b.start", "a.end", "b.end"]
