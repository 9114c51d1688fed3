"""FID/KID during training: metrics.jsonl, the progress bar, TensorBoard, checkpoints/best.pt."""

from __future__ import annotations

import json

import pytest

from gst_core.checkpoint import load_checkpoint
from gst_core.metrics import (
    MetricError,
    SmallSampleWarning,
    frechet_distance,
    generator_features,
    kernel_distance,
)
from gst_core.metrics.extract import images_features
from gst_core.training import Callback, ProgressBar, Trainer
from gst_core.training.metric_callback import MetricCallback
from gst_plugins.datasets.shapes import ProceduralShapes

from .conftest import TINY_SPEC, small_pool, tiny_objective

pytest.importorskip("tensorboard", reason="tensorboard is in the dev extra")


@pytest.fixture(scope="module")
def data():
    return ProceduralShapes(image_size=16, num_classes=4, per_class=16, seed=0)


@pytest.fixture(scope="module")
def held_out():
    return ProceduralShapes(image_size=16, num_classes=4, per_class=10, seed=1)


def test_measures_logs_and_keeps_the_best(tmp_path, data, held_out):
    run = tmp_path / "run"
    callback = MetricCallback(
        held_out, every=2, metrics=("fid", "kid"), count=40, extractor=small_pool(), batch_size=20
    )
    config = {
        "steps": 6,
        "batch_size": 8,
        "run_dir": str(run),
        "log_every": 1,
        "tensorboard": True,
        "sample_every": 0,
        "progress": True,
    }
    trainer = Trainer(tiny_objective(), data, config, callbacks=[callback], spec=TINY_SPEC)
    with pytest.warns(SmallSampleWarning, match="subsets of 40") as caught:
        trainer.fit()
    assert len([w for w in caught if w.category is SmallSampleWarning]) == 1  # said once

    # metrics.jsonl: one line per measurement (steps 2, 4, 6) besides the loss lines.
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    measured = [x for x in lines if "fid" in x]
    assert [x["step"] for x in measured] == [2, 4, 6]
    keys = {"step", "fid", "kid", "kid_std", "spread", "collapse"}  # spread: the collapse watch
    assert all(set(x) == keys for x in measured)
    assert measured == callback.history

    # The last value is the FID of the final generator's samples against the held-out set.
    generator = trainer.networks["generator"]
    fake = generator_features(generator, 40, small_pool(), batch_size=20, progress=False)
    x, _ = held_out.get_batch(range(len(held_out)))
    real = images_features([(x + 1) / 2], small_pool(), progress=False)
    assert measured[-1]["fid"] == pytest.approx(frechet_distance(real, fake.features), rel=1e-9)
    kid = kernel_distance(real, fake.features, subset_size=40)
    assert [measured[-1]["kid"], measured[-1]["kid_std"]] == pytest.approx(list(kid), rel=1e-9)

    # best.pt holds the step with the lowest FID, and best.json says which.
    best_step = min(measured, key=lambda x: x["fid"])["step"]
    best = json.loads((run / "checkpoints" / "best.json").read_text())
    assert best == {"metric": "fid", "value": min(x["fid"] for x in measured), "step": best_step}
    assert load_checkpoint(run / "checkpoints" / "best.pt")["step"] == best_step
    assert not list((run / "checkpoints").glob(".*tmp"))

    # TensorBoard received the losses and the metrics.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"metrics/fid", "metrics/kid", "metrics/kid_std", "metrics/spread"} <= set(tags)
    assert [e.step for e in events.Scalars("metrics/fid")] == [2, 4, 6]
    assert [e.value for e in events.Scalars("metrics/fid")] == pytest.approx(
        [x["fid"] for x in measured], rel=1e-6
    )


def test_progress_bar_postfix_shows_losses_and_fid(data, held_out):
    callback = MetricCallback(held_out, every=1, count=20, extractor=small_pool())
    config = {"steps": 2, "batch_size": 8, "log_every": 1, "progress": True}
    trainer = Trainer(tiny_objective(), data, config, callbacks=[callback])
    bar = next(cb for cb in trainer.callbacks if isinstance(cb, ProgressBar))
    seen = []
    close = bar.on_fit_end

    def capture(trainer, error):
        seen.append(bar.bar.postfix)  # before the bar is closed
        close(trainer, error)

    bar.on_fit_end = capture
    trainer.fit()
    # The losses of the last log step, then the FID of the last measurement.
    assert seen[0].startswith("loss_d=") and "loss_g=" in seen[0]
    assert seen[0].endswith(f"fid={callback.latest['fid']:.4g}")


def test_a_resumed_run_only_replaces_a_better_best(tmp_path, data, held_out):
    run = tmp_path / "run"
    config = {"steps": 2, "batch_size": 8, "run_dir": str(run), "progress": False}
    make = lambda: MetricCallback(held_out, every=2, count=20, extractor=small_pool())  # noqa: E731
    Trainer(tiny_objective(), data, config, callbacks=[make()], spec=TINY_SPEC).fit()
    best = run / "checkpoints" / "best.json"
    record = json.loads(best.read_text())
    # Pretend the first run had reached an unbeatable FID: the resumed run must keep it.
    best.write_text(json.dumps({**record, "value": -1.0}))
    config["steps"] = 4
    Trainer(tiny_objective(), data, config, callbacks=[make()], spec=TINY_SPEC).fit(resume=run)
    assert json.loads(best.read_text())["value"] == -1.0
    assert load_checkpoint(run / "checkpoints" / "best.pt")["step"] == 2


def test_folder_real_set_and_ema_generator(tmp_path, data, held_out):
    from gst_core.images import save_image

    folder = tmp_path / "real"
    x, _ = held_out.get_batch(range(len(held_out)))
    for i, image in enumerate((x + 1) / 2):
        save_image(image[None], folder / f"{i}.png")
    callback = MetricCallback(folder, every=3, count=20, extractor=small_pool(), best_metric=None)
    config = {"steps": 3, "batch_size": 8, "ema_decay": 0.9, "progress": False}
    trainer = Trainer(tiny_objective(), data, config, callbacks=[callback])
    trainer.fit()
    assert callback.real_features.shape[0] == len(held_out)
    ema_generator = trainer.ema["generator"].module
    fake = generator_features(ema_generator, 20, small_pool(), progress=False).features
    assert callback.latest["fid"] == pytest.approx(
        frechet_distance(callback.real_features, fake), rel=1e-9
    )


def test_configuration_errors(data, held_out):
    with pytest.raises(MetricError, match="metrics must be some of"):
        MetricCallback(held_out, metrics=("fd",))
    with pytest.raises(MetricError, match="best_metric 'kid' is not measured"):
        MetricCallback(held_out, metrics=("fid",), best_metric="kid")
    callback = MetricCallback(held_out, network="gen", extractor=small_pool())
    trainer = Trainer(tiny_objective(), data, {"steps": 1, "progress": False}, callbacks=[callback])
    with pytest.raises(MetricError, match="networks are \\['discriminator', 'generator'\\]"):
        trainer.fit()


def test_tensorboard_logger_writes_the_losses(tmp_path, data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    config = {"steps": 4, "batch_size": 8, "run_dir": str(run), "log_every": 2}
    config.update(tensorboard=True, sample_every=2, sample_count=4, progress=False)
    trainer = Trainer(tiny_objective(), data, config)
    seen: dict[int, dict[str, float]] = {}

    class Spy(Callback):
        def on_log(self, trainer, step, metrics):
            seen[step] = dict(metrics)

    trainer.callbacks.append(Spy())
    trainer.fit()
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert sorted(seen) == [2, 4]
    for tag in seen[2]:
        scalars = events.Scalars(tag)
        assert [e.step for e in scalars] == [2, 4]
        assert [e.value for e in scalars] == pytest.approx([seen[2][tag], seen[4][tag]], rel=1e-6)
    assert [e.step for e in events.Images("samples")] == [2, 4]


def test_built_from_train_options(tmp_path, data, held_out):
    from gst_core.images import save_image

    assert MetricCallback.from_config({"steps": 10}) is None  # fid_every defaults to 0
    with pytest.raises(MetricError, match="fid_every = 5 needs fid_real"):
        MetricCallback.from_config({"fid_every": 5})
    folder = tmp_path / "real"
    x, _ = held_out.get_batch(range(8))
    for i, image in enumerate((x + 1) / 2):
        save_image(image[None], folder / f"{i}.png")
    options = {"fid_every": 2, "fid_real": str(folder), "fid_count": 16}
    options.update(fid_metrics=["fid", "kid"], best_metric="kid", fid_extractor="random_pool")
    callback = MetricCallback.from_config(options)
    assert (callback.every, callback.count, callback.metrics) == (2, 16, ("fid", "kid"))
    assert (callback.best_metric, callback.extractor_spec) == ("kid", "random_pool")
    assert MetricCallback.from_config({**options, "best_metric": ""}).best_metric is None


def test_train_options_switch_it_on_from_the_command_line(tmp_path):
    """`[train] fid_every` & co. reach the callback through `gst train`, with no Python."""
    from pathlib import Path

    from gst_core.cli import main
    from gst_core.images import save_image

    real = tmp_path / "real"
    held = ProceduralShapes(image_size=8, num_classes=2, per_class=6, seed=3)
    for i in range(len(held)):
        save_image((held[i][0] + 1) / 2, real / f"{i:02d}.png")
    fixture = Path(__file__).parents[1] / "gan" / "fixtures" / "gan_v0_1.toml"
    text = fixture.read_text().replace(
        "[train]\n",
        f'[train]\nfid_every = 3\nfid_real = "{real}"\nfid_count = 12\n'
        'fid_extractor = "random_pool"\n',
    )
    config = tmp_path / "run.toml"
    config.write_text(text)
    run = tmp_path / "run"
    assert (
        main(["train", "gan", "--config", str(config), "--run-dir", str(run), "--steps", "3"]) == 0
    )
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "fid" in x] == [3]
    assert (run / "checkpoints" / "best.pt").is_file()

    config.write_text(text.replace(f'fid_real = "{real}"\n', ""))
    assert main(["train", "gan", "--config", str(config), "--run-dir", str(tmp_path / "r2")]) == 2
