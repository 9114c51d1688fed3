"""`gst train pix2pix|cyclegan --data DIR` with no config trains the reference's recipe
(junyanz/pytorch-CycleGAN-and-pix2pix): its networks, losses on its scale, batch 1,
load 286 / crop 256, flip, Adam 2e-4 (0.5, 0.999), 100 + 100 epochs."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gst_core.cli import main
from gst_core.errors import TrainingSetupError
from gst_core.kinds import datasets, discriminators, generators, losses, objectives
from gst_core.training import Trainer
from gst_core.training.callbacks import ProgressBar
from gst_core.training.schedules import lr_factor
from gst_core.training.trainer import Trainer as TrainerClass


def _reference_linear(epoch: int, n_epochs: int = 100, n_epochs_decay: int = 100) -> float:
    """The reference's lr_policy 'linear' (epoch_count 1), stepped after each epoch:
    the factor during 0-based epoch ``epoch``."""
    return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


def _photo(rng, h, w):
    return Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8))


@pytest.fixture
def captured(monkeypatch):
    """Build through the real CLI, but stop before training: the trainer fit() would run."""
    seen = {}

    def fit(self, resume=None, **options):  # options: overwrite
        seen["trainer"] = self
        return self

    monkeypatch.setattr(TrainerClass, "fit", fit)
    return seen


def _count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_pix2pix_data_without_config_is_the_reference_recipe(tmp_path, captured):
    rng = np.random.default_rng(0)
    for i in range(3):  # the reference's aligned layout: A | B side by side
        _photo(rng, 40, 80).save(tmp_path / f"{i}.png")
    code = main(["train", "pix2pix", "--data", str(tmp_path), "--run-dir", str(tmp_path / "r")])
    assert code == 0
    trainer = captured["trainer"]
    g, d = trainer.networks["generator"], trainer.networks["discriminator"]
    assert _count(g) == 54_413_955  # unet_256, batch norm
    assert _count(d) == 2_768_705  # basic PatchGAN on 6 channels, batch norm
    for net in (g, d):
        assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
        assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in net.modules())
    objective = trainer.objective
    assert type(objective.loss).__name__ == "NonSaturatingLoss"  # the reference's vanilla
    assert (objective.l1_weight, objective.gan_weight, objective.d_scale) == (100.0, 1.0, 0.5)

    data = trainer.data
    assert type(data).__name__ == "PairedFolder" and len(data) == 3
    loaded, _ = data._sources(0, None)  # the A image as read, before crop and flip
    assert data.flip and tuple(loaded.shape[-2:]) == (286, 286)  # load 286 ...
    assert tuple(data[0]["A"].shape) == (3, 256, 256)  # ... random crop 256

    c = trainer.config
    assert (c.batch_size, c.epochs, c.steps) == (1, 200, 600)
    for opt in trainer.optimizers.values():
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)
    factor = trainer.schedulers["generator"].lr_lambdas[0]
    for step in (0, 297, 299, 300, 302, 303, 449, 597, 599):
        assert factor(step) == pytest.approx(_reference_linear(step // 3), abs=1e-12)
    assert factor(299) == 1.0 and factor(300) == pytest.approx(100 / 101)
    assert factor(599) == pytest.approx(1 / 101)


def test_cyclegan_data_without_config_is_the_reference_recipe(tmp_path, captured):
    rng = np.random.default_rng(1)
    for side, count in (("A", 2), ("B", 3)):
        (tmp_path / f"train{side}").mkdir()
        for i in range(count):
            _photo(rng, 30, 30).save(tmp_path / f"train{side}" / f"{i}.png")
    assert main(["train", "cyclegan", "--data", str(tmp_path), "--epochs", "4"]) == 0
    trainer = captured["trainer"]
    for name in ("g_ab", "g_ba"):
        assert _count(trainer.networks[name]) == 11_378_179  # resnet_9blocks, instance norm
    assert _count(trainer.networks["d_a"]) == 2_764_737  # basic PatchGAN, 3 channels
    objective = trainer.objective
    assert type(objective.loss).__name__ == "LSGANLoss"
    assert (objective.cycle_weight, objective.identity_weight, objective.pool_a.size) == (
        10.0,
        0.5,
        50,
    )
    assert (objective.gan_weight, objective.d_scale) == (2.0, 1.0)
    assert type(trainer.data).__name__ == "UnpairedFolder"
    assert tuple(trainer.data[0]["B"].shape) == (3, 256, 256)
    # --epochs 4: 3 steps an epoch (the larger domain), 2 constant epochs, then 2 decaying.
    c = trainer.config
    assert (c.batch_size, c.epochs, c.steps) == (1, 4, 12)
    factor = trainer.schedulers["generator"].lr_lambdas[0]
    got = [factor(s) for s in range(12)]
    want = [_reference_linear(s // 3, 2, 2) for s in range(12)]
    assert got == pytest.approx(want) and got[-1] == pytest.approx(1 / 3)


def test_steps_replace_the_recipes_epochs_and_both_in_a_file_is_an_error(
    tmp_path, captured, capsys
):
    rng = np.random.default_rng(2)
    for i in range(2):
        _photo(rng, 20, 40).save(tmp_path / f"{i}.png")
    argv = ["train", "pix2pix", "--data", str(tmp_path), "--crop-size", "32", "--load-size", "36"]
    argv += ["--set", "generator.name=unet", "--set", "generator.num_downs=5"]
    assert main([*argv, "--steps", "10"]) == 0
    trainer = captured["trainer"]
    assert (trainer.config.steps, trainer.config.epochs) == (10, None)
    assert tuple(trainer.data._sources(0, None)[0].shape[-2:]) == (36, 36)
    assert tuple(trainer.data[0]["A"].shape[-2:]) == (32, 32)
    # The linear schedule without options decays over the second half of the run.
    assert [trainer.schedulers["generator"].lr_lambdas[0](s) for s in (4, 5, 6, 9)] == [
        1.0,
        1.0,
        0.8,
        0.2,
    ]
    config = tmp_path / "run.toml"
    config.write_text("[train]\nsteps = 10\nepochs = 2\n")
    assert main(["train", "pix2pix", "--config", str(config)]) == 2
    assert "both steps = 10 and epochs = 2" in capsys.readouterr().err


def test_linear_schedule_in_epochs():
    # decay_epochs given: the reference's formula, the factor constant within an epoch.
    spec = {"name": "linear", "decay_epochs": 100}
    for step in (0, 99 * 7, 100 * 7 - 1, 100 * 7, 150 * 7 + 3, 200 * 7 - 1):
        got = lr_factor(spec, 200 * 7, step, steps_per_epoch=7, epochs=200)
        assert got == pytest.approx(_reference_linear(step // 7))
    with pytest.raises(TrainingSetupError, match="decay_epochs = 100 is more than the run's 10"):
        lr_factor(spec, 70, 0, steps_per_epoch=7, epochs=10)
    with pytest.raises(TrainingSetupError, match="not both"):
        lr_factor({"name": "linear", "decay_epochs": 1, "decay_steps": 1}, 10, 0)


def test_epochs_decide_steps_and_the_bar_shows_the_epoch(tmp_path):
    g = generators.build("unet", num_downs=5, width=2, norm="none", dropout=0.0)
    d = discriminators.build("patchgan", channels=6, width=2, num_layers=1)
    objective = objectives.build(
        "pix2pix", generator=g, discriminator=d, loss=losses.build("lsgan")
    )
    data = datasets.build("paired_shapes", image_size=32, count=5)
    out = io.StringIO()
    trainer = Trainer(
        objective,
        data,
        {"epochs": 3, "batch_size": 2, "log_every": 0, "progress": False},
        callbacks=[ProgressBar(file=out, mininterval=0)],
    )
    assert (trainer.steps_per_epoch, trainer.config.steps) == (2, 6)  # 5 // 2, last batch dropped
    trainer.fit()
    assert trainer.step == 6 and trainer.batches == 6
    assert "epoch 3/3" in out.getvalue() and "epoch 1/3" in out.getvalue()


class _NoOptimise:
    """A step context that records the losses and changes nothing."""

    step = 0  # the trainer's count: a real StepContext always carries it

    def __init__(self):
        self.losses = {}

    def autocast(self):
        return contextlib.nullcontext()

    def optimize(self, name, loss):
        self.losses[name] = loss.detach()


@pytest.mark.parametrize("loss_name", ["non_saturating", "lsgan"])
def test_pix2pix_losses_are_on_the_reference_scale(loss_name):
    torch.manual_seed(0)
    g = generators.build("unet", num_downs=5, width=2, norm="none", dropout=0.0)
    d = discriminators.build("patchgan", channels=6, width=2, num_layers=1, norm="none")
    objective = objectives.build(
        "pix2pix", generator=g, discriminator=d, loss=losses.build(loss_name)
    )
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    ctx = _NoOptimise()
    metrics = objective.train_step({"generator": g, "discriminator": d}, {"A": a, "B": b}, ctx)
    with torch.no_grad():
        fake = g(a)
        real_s, fake_s = d(torch.cat([a, b], 1)), d(torch.cat([a, fake], 1))
        if loss_name == "lsgan":  # the reference's GANLoss('lsgan'): MSE to 1 / 0
            crit = lambda s, t: F.mse_loss(s, torch.full_like(s, t))  # noqa: E731
        else:  # GANLoss('vanilla'): BCE with logits
            crit = lambda s, t: F.binary_cross_entropy_with_logits(s, torch.full_like(s, t))  # noqa: E731
        loss_D = (crit(fake_s, 0.0) + crit(real_s, 1.0)) * 0.5
        loss_G = crit(fake_s, 1.0) + 100 * (fake - b).abs().mean()
    assert float(metrics["loss_d"]) == pytest.approx(float(loss_D), rel=1e-6)
    assert float(ctx.losses["discriminator"]) == pytest.approx(float(loss_D), rel=1e-6)
    assert float(metrics["loss_g"]) == pytest.approx(float(loss_G), rel=1e-6)


@pytest.mark.parametrize("loss_name", ["lsgan", "non_saturating"])
def test_cyclegan_losses_are_on_the_reference_scale(loss_name):
    """The reference's cycle_gan_model.py, written out: loss_G = GAN(D(fake)) both ways +
    λ·cycle L1 both ways + λ·λ_idt·identity L1 both ways; each D: ½ (real + fake)."""
    torch.manual_seed(1)
    nets = {
        name: generators.build("unet", num_downs=5, width=2, norm="none", dropout=0.0)
        for name in ("g_ab", "g_ba")
    }
    for name in ("d_a", "d_b"):
        nets[name] = discriminators.build("patchgan", channels=3, width=2, num_layers=1,
                                          norm="none")  # fmt: skip
    objective = objectives.build("cyclegan", **nets, loss=losses.build(loss_name))
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    ctx = _NoOptimise()
    metrics = objective.train_step(nets, {"A": a, "B": b}, ctx)
    with torch.no_grad():
        if loss_name == "lsgan":  # GANLoss('lsgan'): MSE to 1 / 0
            crit = lambda s, t: F.mse_loss(s, torch.full_like(s, t))  # noqa: E731
        else:  # GANLoss('vanilla')
            crit = lambda s, t: F.binary_cross_entropy_with_logits(s, torch.full_like(s, t))  # noqa: E731
        l1 = lambda x, y: (x - y).abs().mean()  # noqa: E731
        g_ab, g_ba, d_a, d_b = (nets[n] for n in ("g_ab", "g_ba", "d_a", "d_b"))
        fake_b, fake_a = g_ab(a), g_ba(b)
        # The reference names the discriminators after the generator they judge; gst's d_b
        # judges domain B (its netD_A), d_a domain A (its netD_B).
        loss_g = (
            crit(d_b(fake_b), 1.0)
            + crit(d_a(fake_a), 1.0)
            + 10 * l1(g_ba(fake_b), a)
            + 10 * l1(g_ab(fake_a), b)
            + 10 * 0.5 * l1(g_ab(b), b)
            + 10 * 0.5 * l1(g_ba(a), a)
        )
        # The pools are empty at the first step: they return the fakes themselves.
        loss_d_b = (crit(d_b(b), 1.0) + crit(d_b(fake_b), 0.0)) * 0.5
        loss_d_a = (crit(d_a(a), 1.0) + crit(d_a(fake_a), 0.0)) * 0.5
    assert float(metrics["loss_g"]) == pytest.approx(float(loss_g), rel=1e-6)
    assert float(ctx.losses["generator"]) == pytest.approx(float(loss_g), rel=1e-6)
    assert float(metrics["loss_d_a"]) == pytest.approx(float(loss_d_a), rel=1e-6)
    assert float(metrics["loss_d_b"]) == pytest.approx(float(loss_d_b), rel=1e-6)
    assert float(ctx.losses["discriminator"]) == pytest.approx(float(loss_d_a + loss_d_b), rel=1e-6)


def test_gan_trains_with_no_config(tmp_path):
    code = main(
        ["train", "gan", "--steps", "2", "--batch-size", "4", "--run-dir", str(tmp_path / "r")]
    )
    assert code == 0 and (tmp_path / "r" / "checkpoints" / "last.pt").is_file()


def test_direction_flag_swaps_the_pairs(tmp_path, captured):
    rng = np.random.default_rng(3)
    for i in range(2):
        _photo(rng, 20, 40).save(tmp_path / f"{i}.png")
    base = ["train", "pix2pix", "--data", str(tmp_path), "--set", "generator.name=unet"]
    base += ["--set", "generator.num_downs=5", "--crop-size", "32"]
    assert main(base) == 0
    forward = captured["trainer"].data
    assert main([*base, "--direction", "b2a"]) == 0
    backward = captured["trainer"].data
    (fa, fb), (ba, bb) = forward._sources(0, None), backward._sources(0, None)
    assert torch.equal(fa, bb) and torch.equal(fb, ba)
