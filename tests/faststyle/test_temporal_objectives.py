"""``[objective] temporal_weight`` on every objective that offers it (fast_style, gan_style,
adain, cyclegan): logged and in the gradient, linearly in the weight, when on; never computed
when off; exact resume, the flows coming from a checkpointed or (seed, step)-keyed generator."""

from __future__ import annotations

import contextlib

import pytest
import torch

from gst_core.training import Callback
from gst_core.training.build import build_trainer
from gst_plugins._shared.temporal import TemporalTerm, compound_temporal_loss

OBJECTIVES = ["fast_style", "gan_style", "adain", "cyclegan"]
#: The name each objective logs its term under.
LOGGED = {"fast_style": "loss_temporal", "gan_style": "loss_temporal",
          "adain": "loss_temporal", "cyclegan": "temporal"}  # fmt: skip
#: The optimiser group holding the generator(s) the term trains.
#: Weights at which the term is a sizeable part of the first step's gradient (seeded networks
#: start almost flat, an AdaIN decoder almost constant: the term starts tiny there).
WEIGHT = {"fast_style": 1e5, "gan_style": 1e3, "adain": 1e6, "cyclegan": 100.0}
GENERATOR_GROUP = {"fast_style": "generator", "gan_style": "generator",
                   "adain": "decoder", "cyclegan": "generator"}  # fmt: skip


def tiny_config(objective: str, steps: int = 2, run_dir=None, **temporal) -> dict:
    """A run of ``objective`` at a fraction of a second per step, with ``temporal_*`` options."""
    extractor = {"name": "random_multiscale", "channels": 8, "num_scales": 3}
    content = {"name": "content_photos", "image_size": 16, "count": 4, "photo_fraction": 0.0}
    generator = {"name": "transformer_net", "channels": 4, "residual_blocks": 1}
    discriminator = {"name": "patchgan", "width": 4, "num_layers": 2}
    if objective == "fast_style":
        config = {"generator": generator, "feature_extractor": extractor, "data": content,
                  "objective": {"style_size": 32}}  # fmt: skip
    elif objective == "gan_style":
        config = {"generator": generator, "discriminator": discriminator,
                  "feature_extractor": extractor, "data": content,
                  "objective": {"style_size": 32, "style_weight": 1e4}}  # fmt: skip
    elif objective == "adain":
        config = {"feature_extractor": {"name": "vgg19", "weights": "random",
                                        "width_multiplier": 0.125},
                  "data": {**content, "image_size": 32}, "objective": {"style_size": 40}}  # fmt: skip
    else:
        config = {"generator": {"name": "resnet", "n_blocks": 1, "width": 4},
                  "discriminator": discriminator,
                  "data": {"name": "unpaired_shapes", "image_size": 16, "count": 4},
                  "objective": {"pool_size": 3}}  # fmt: skip
    config["objective"].update(temporal)
    config["train"] = {"steps": steps, "batch_size": 2, "progress": False, "sample_every": 0,
                       "checkpoint_every": 0, "seed": 3,
                       **({"run_dir": str(run_dir)} if run_dir else {})}  # fmt: skip
    return config


class _Gradients:
    """A step context that backpropagates each update into recorded gradients and steps
    nothing, so the gradient of one ``train_step`` can be compared between settings."""

    def __init__(self, trainer) -> None:
        self.trainer, self.step, self.device = trainer, 0, trainer.device
        self.groups = trainer.objective.optimizer_groups()
        self.grads: dict[str, torch.Tensor] = {}

    def autocast(self):
        return contextlib.nullcontext()

    def next_batch(self):
        return self.trainer.next_batch()

    def optimize(self, group: str, loss: torch.Tensor) -> None:
        params = [p for n in self.groups[group] for p in self.trainer.networks[n].parameters()]
        for p in params:
            p.grad = None
        loss.backward()
        self.grads[group] = torch.cat(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in params]
        )


def _one_step(objective: str, step: int = 0, **temporal):
    trainer = build_trainer(tiny_config(objective, **temporal), objective)
    ctx = _Gradients(trainer)
    ctx.step = step
    metrics = trainer.objective.train_step(trainer.step_networks, ctx.next_batch(), ctx)
    return metrics, ctx.grads[GENERATOR_GROUP[objective]]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_the_term_is_logged_and_enters_the_gradient_linearly(objective):
    plain, g0 = _one_step(objective)
    on, g1 = _one_step(objective, temporal_weight=WEIGHT[objective])
    twice, g2 = _one_step(objective, temporal_weight=2 * WEIGHT[objective])
    assert LOGGED[objective] not in plain
    term = on[LOGGED[objective]]
    assert torch.isfinite(term) and term > 0
    assert twice[LOGGED[objective]] == term  # the same draws: seeded from the objective
    change = g1 - g0
    assert change.norm() > 0.1 * g0.norm()  # the term moves the generator's gradient
    # ... by weight × its own gradient: doubling the weight doubles the change.
    assert (g2 - g0 - 2 * change).norm() <= 1e-3 * change.norm()


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_weight_zero_never_computes_the_term(objective, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the temporal term was computed at weight 0")

    monkeypatch.setattr(TemporalTerm, "loss", refuse)
    default, g_default = _one_step(objective)
    zero, g_zero = _one_step(objective, temporal_weight=0, temporal_shift=3, temporal_noise=0.5)
    assert default.keys() == zero.keys()
    assert torch.equal(g_default, g_zero)
    assert all(torch.equal(default[k], zero[k]) for k in default)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_temporal_start_delays_the_term_to_that_step(objective):
    on = {"temporal_weight": WEIGHT[objective]}
    plain, g_plain = _one_step(objective)
    before, g_before = _one_step(objective, step=0, temporal_start=1, **on)
    assert before[LOGGED[objective]] == 0  # logged, as 0, before it starts
    assert torch.equal(g_before, g_plain)  # and not in the gradient
    # From the start step on, the same as a term that was never delayed.
    at, g_at = _one_step(objective, step=1, temporal_start=1, **on)
    always, g_always = _one_step(objective, step=1, **on)
    assert at[LOGGED[objective]] > 0
    assert at[LOGGED[objective]] == always[LOGGED[objective]]
    assert torch.equal(g_at, g_always)


class _StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, step, metrics) -> None:
        trainer.should_stop = step >= self.step


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_resume_with_the_term_is_bit_identical(objective, tmp_path):
    on = {"temporal_weight": 5.0}
    straight = build_trainer(tiny_config(objective, steps=4, **on), objective).fit()
    first = build_trainer(tiny_config(objective, steps=4, run_dir=tmp_path / "a", **on), objective)
    first.callbacks.append(_StopAt(2))
    first.fit()
    assert first.step == 2
    resumed = build_trainer(
        tiny_config(objective, steps=4, run_dir=tmp_path / "b", **on), objective
    )
    resumed.fit(resume=tmp_path / "a")
    for name, net in straight.networks.items():
        other = resumed.networks[name].state_dict()
        for key, value in net.state_dict().items():
            assert torch.equal(value, other[key]), (name, key)


def test_the_draws_come_from_the_given_generator_only():
    images = torch.rand(2, 3, 12, 12) * 2 - 1
    net = torch.nn.Conv2d(3, 3, 3, padding=1)
    before = torch.get_rng_state()
    a = compound_temporal_loss(net, images, net(images), rng=torch.Generator().manual_seed(1))
    b = compound_temporal_loss(net, images, net(images), rng=torch.Generator().manual_seed(1))
    c = compound_temporal_loss(net, images, net(images), rng=torch.Generator().manual_seed(2))
    assert torch.equal(torch.get_rng_state(), before)  # the global stream is untouched
    assert a == b and a != c


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_negative_weight_is_a_message(objective):
    from gst_core.errors import TrainingSetupError

    with pytest.raises(TrainingSetupError, match=f"{objective}: .*temporal_weight must be"):
        build_trainer(tiny_config(objective, temporal_weight=-1.0), objective)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_temporal_samples_covers_that_many_items_per_batch(objective, monkeypatch):
    import gst_plugins._shared.temporal as temporal

    seen, original = [], temporal.compound_temporal_loss

    def spy(network, images, stylised, **kwargs):
        seen.append((len(images), len(stylised)))
        return original(network, images, stylised, **kwargs)

    monkeypatch.setattr(temporal, "compound_temporal_loss", spy)
    plain, g0 = _one_step(objective)
    on, g1 = _one_step(objective, temporal_weight=WEIGHT[objective], temporal_samples=1)
    assert seen and all(s == (1, 1) for s in seen)  # the tiny runs' batches hold 2
    term = on[LOGGED[objective]]
    assert torch.isfinite(term) and term > 0
    assert (g1 - g0).norm() > 0.01 * g0.norm()  # it still trains the generator


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_temporal_warp_reaches_the_term_from_the_config(objective, monkeypatch):
    import gst_plugins._shared.temporal as temporal
    from gst_core.errors import TrainingSetupError

    seen, original = [], temporal.compound_temporal_loss

    def spy(network, images, stylised, **kwargs):
        seen.append(kwargs["warp"])
        return original(network, images, stylised, **kwargs)

    monkeypatch.setattr(temporal, "compound_temporal_loss", spy)
    metrics, _ = _one_step(objective, temporal_weight=WEIGHT[objective], temporal_warp="nearest")
    assert seen and set(seen) == {"nearest"}
    assert torch.isfinite(metrics[LOGGED[objective]])
    with pytest.raises(TrainingSetupError, match=f"{objective}: .*temporal_warp must be one of"):
        build_trainer(tiny_config(objective, temporal_warp="cubic"), objective)
