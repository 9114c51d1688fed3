"""The trainer: exact resume, the non-finite guard, checkpoints, previews, set-up errors."""

from __future__ import annotations

import json

import pytest
import torch

from gst_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gst_core.interfaces import AdversarialLoss
from gst_core.kinds import losses
from gst_core.training import NonFiniteLossError, Trainer, TrainingSetupError

from .helpers import make_objective

FAST = {"batch_size": 16, "progress": False, "log_every": 1, "sample_every": 0, "sample_count": 8}


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {}
    for name, net in trainer.networks.items():
        out.update({f"{name}.{k}": v for k, v in net.state_dict().items()})
    for name, ema in trainer.ema.items():
        out.update({f"ema.{name}.{k}": v for k, v in ema.state_dict().items()})
    return out


def _config(tmp_path, name, steps, **extra):
    return {**FAST, "steps": steps, "run_dir": str(tmp_path / name), "ema_decay": 0.9, **extra}


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path, shapes16):
    def objective():
        # n_critic=2 draws extra batches; R1 draws nothing random; SN has power-iteration buffers
        return make_objective(n_critic=2, penalties=[losses.build("r1", weight=1.0)])

    whole = Trainer(objective(), shapes16, _config(tmp_path, "whole", 6)).fit()

    first = Trainer(objective(), shapes16, _config(tmp_path, "split", 3)).fit()
    assert load_checkpoint(tmp_path / "split")["step"] == 3
    # A fresh process would build fresh networks: different initial weights on purpose.
    resumed_objective = make_objective(
        seed=99, n_critic=2, penalties=[losses.build("r1", weight=1.0)]
    )
    resumed = Trainer(resumed_objective, shapes16, _config(tmp_path, "split", 6))
    resumed.fit(resume=tmp_path / "split")
    assert resumed.step == 6 and first.step == 3

    a, b = _weights(whole), _weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]


class ExplodesAtStep(AdversarialLoss):
    def __init__(self, step: int):
        super().__init__()
        self.calls, self.step = 0, step

    def discriminator_loss(self, real_scores, fake_scores):
        self.calls += 1
        loss = torch.relu(1 - real_scores).mean() + torch.relu(1 + fake_scores).mean()
        return loss * float("nan") if self.calls >= self.step else loss

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, shapes16):
    objective = make_objective()
    objective.loss = ExplodesAtStep(4)
    config = {**_config(tmp_path, "nan", 10), "checkpoint_every": 2}
    trainer = Trainer(objective, shapes16, config)
    with pytest.raises(NonFiniteLossError, match=r"'discriminator' loss became nan at step 4"):
        trainer.fit()
    # the weights were not touched by the bad update
    assert all(torch.isfinite(p).all() for p in trainer.networks["discriminator"].parameters())
    saved = load_checkpoint(tmp_path / "nan" / "checkpoints" / "last.pt")
    assert saved["step"] == 2
    assert all(
        torch.isfinite(v).all()
        for v in saved["networks"]["generator"].values()
        if v.is_floating_point()
    )
    last = json.loads((tmp_path / "nan" / "metrics.jsonl").read_text().splitlines()[-1])
    assert "nan" in last["error"]


def test_run_folder_has_grids_metrics_config_and_checkpoint(tmp_path, shapes16):
    config = {**_config(tmp_path, "run", 4), "sample_every": 2, "checkpoint_every": 2}
    Trainer(make_objective(), shapes16, config, spec={"generator": {"name": "x"}}).fit()
    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000002.png",
        "step_0000004.png",
    ]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(records[-1])
    assert json.loads((run / "config.json").read_text())["spec"]["generator"] == {"name": "x"}
    assert load_checkpoint(run)["step"] == 4
    assert not [p for p in (run / "checkpoints").iterdir() if p.name != "last.pt"]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint({"step": 1}, tmp_path / "last.pt")

    def killed(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(garbage)
    good = save_checkpoint({"step": 1, "w": torch.ones(1000)}, tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:-300])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a gst training checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="last.pt"):
        load_checkpoint(tmp_path)


def test_resume_with_a_different_architecture_is_explained(tmp_path, shapes16):
    Trainer(
        make_objective(),
        shapes16,
        _config(tmp_path, "arch", 1),
        spec={"generator": {"name": "dcgan_conditional", "width": 8}},
    ).fit()
    wider = Trainer(
        make_objective(width=16),
        shapes16,
        _config(tmp_path, "arch", 2),
        spec={"generator": {"name": "dcgan_conditional", "width": 16}},
    )
    with pytest.raises(CheckpointError, match=r"does not fit this run's generator.*'width': 8"):
        wider.fit(resume=tmp_path / "arch")
    no_ema = Trainer(make_objective(), shapes16, {**_config(tmp_path, "arch", 2), "ema_decay": 0})
    with pytest.raises(CheckpointError, match="ema_decay"):
        no_ema.fit(resume=tmp_path / "arch")


def test_preview_uses_fixed_latents_and_leaves_training_random_state_alone(shapes16):
    trainer = Trainer(make_objective(), shapes16, {**FAST, "steps": 1})
    state = torch.get_rng_state()
    first, nrow = trainer.preview(8)
    again, _ = trainer.preview(8)
    assert torch.equal(first, again) and first.shape == (8, 3, 16, 16) and nrow == 2
    assert torch.equal(state, torch.get_rng_state())
    assert all(net.training for net in trainer.networks.values())


def test_setup_errors_are_clear(shapes16):
    with pytest.raises(TrainingSetupError, match="did you mean 'batch_size'"):
        Trainer(make_objective(), shapes16, {"batch_sise": 4})
    with pytest.raises(
        TrainingSetupError, match=r"optimiser groups are \['discriminator', 'generator'\]"
    ):
        Trainer(make_objective(), shapes16, {"optimizers": {"gen": {"lr": 1.0}}})
    with pytest.raises(TrainingSetupError, match="not in torch.optim"):
        Trainer(make_objective(), shapes16, {"optimizer": {"name": "Adamm"}})
    from gst_plugins.datasets.shapes import ProceduralShapes

    with pytest.raises(TrainingSetupError, match="shape"):
        Trainer(make_objective(), ProceduralShapes(image_size=8, num_classes=4, per_class=2))
    with pytest.raises(TrainingSetupError, match="num_classes"):
        Trainer(make_objective(), ProceduralShapes(image_size=16, num_classes=3, per_class=2))
