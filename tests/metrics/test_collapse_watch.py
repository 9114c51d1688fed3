"""The collapse watch of MetricCallback, and the gan objective's counter-measures."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from torch import nn

from gst_core.cli import main
from gst_core.interfaces import Discriminator, FeatureExtractor, ImageGenerator
from gst_core.kinds import discriminators, losses
from gst_core.metrics.errors import MetricError
from gst_core.metrics.prdc import expected_coverage, feature_spread, prdc
from gst_core.training import Callback, Trainer
from gst_core.training.metric_callback import CollapseWarning, MetricCallback
from gst_plugins._shared.minibatch_std import MinibatchStdDev
from gst_plugins.datasets.shapes import ProceduralShapes
from gst_plugins.objectives.gan import GANObjective

from .conftest import small_pool


@pytest.fixture(scope="module")
def real():
    return ProceduralShapes(image_size=16, num_classes=4, per_class=12, seed=1)


class ReplayGenerator(ImageGenerator):
    """Plays back real images: ``collapse_to`` maps every class (or every draw) onto one."""

    def __init__(self, images, labels, num_classes=0, collapse=False, drop_class=None):
        super().__init__()
        self.images, self.image_labels = images, labels
        self.latent_dim, self.num_classes = 4, num_classes
        self.image_shape = tuple(images.shape[1:])
        self.collapse, self.drop_class = collapse, drop_class
        self.scale = nn.Parameter(torch.ones(()))  # something for the optimiser

    def forward(self, z, labels=None):
        pick = (z[:, 0].abs() * 1e4).long()
        if self.collapse:
            pick = torch.zeros_like(pick)
        if labels is not None:
            wanted = labels.clone()
            if self.drop_class is not None:
                wanted[wanted == self.drop_class] = 0  # class drop_class is never drawn
            pool = [torch.nonzero(self.image_labels == c).flatten() for c in range(4)]
            pick = torch.stack(
                [pool[c][p % len(pool[c])] for c, p in zip(wanted, pick, strict=True)]
            )
        else:
            pick = pick % len(self.images)
        return self.images[pick] * self.scale


def run_with(generator, real, tmp_path, *, metrics=("fid",), steps=6, **options):
    torch.manual_seed(0)
    d_classes = generator.num_classes
    discriminator = (
        discriminators.build("projection", num_classes=d_classes, image_size=16, width=8)
        if d_classes
        else discriminators.build("dcgan", image_size=16, width=8)
    )
    objective = GANObjective(generator, discriminator, losses.build("hinge"))
    callback = MetricCallback(
        real,
        every=2,
        metrics=metrics,
        count=48,
        extractor=small_pool(),
        best_metric=None,
        batch_size=16,
        **options,
    )
    run = tmp_path / "run"
    config = {
        "steps": steps,
        "batch_size": 8,
        "run_dir": str(run),
        "progress": False,
        "sample_every": 0,
        "optimizer": {"name": "SGD", "lr": 0.0},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(objective, real, config, callbacks=[callback]).fit()
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    measured = [x for x in lines if "spread" in x]
    said = [str(w.message) for w in caught if issubclass(w.category, CollapseWarning)]
    return callback, measured, said


def test_a_collapsed_generator_is_named_and_a_varied_one_is_not(real, tmp_path):
    images, labels = real.get_batch(range(len(real)))
    _, healthy, said = run_with(ReplayGenerator(images, labels), real, tmp_path / "a")
    assert [x["collapse"] for x in healthy] == [False, False, False] and not said
    assert healthy[-1]["spread"] > 0.7
    _, collapsed, said = run_with(
        ReplayGenerator(images, labels, collapse=True), real, tmp_path / "b", collapse_warmup=0
    )
    # Two narrow measurements in a row make a collapse: the first has nothing to compare with.
    assert [x["collapse"] for x in collapsed] == [False, True, True]
    assert collapsed[-1]["spread"] < 0.05
    assert len(said) == 2 and said[0].startswith("step 4: the generator may be collapsing")
    assert "instance_noise" in said[0] and "minibatch_std" in said[0]


def test_no_warning_during_the_warmup(real, tmp_path):
    images, labels = real.get_batch(range(len(real)))
    _, measured, said = run_with(
        ReplayGenerator(images, labels, collapse=True), real, tmp_path, collapse_warmup=4
    )
    assert [x["collapse"] for x in measured] == [False, False, True] and len(said) == 1


def test_prdc_and_spread_are_logged_as_measured(real, tmp_path):
    images, labels = real.get_batch(range(len(real)))
    callback, measured, _ = run_with(
        ReplayGenerator(images, labels), real, tmp_path, metrics=("fid", "prdc"), prdc_k=3
    )
    last = measured[-1]
    assert {"precision", "recall", "density", "coverage", "fid"} <= set(last)
    from gst_core.metrics.extract import generated_batches, images_features

    # lr 0: the generator measured is the one built, so its samples can be drawn again.
    again = generated_batches(ReplayGenerator(images, labels), 48, batch_size=16, seed=0)
    fake = images_features(again, small_pool(), progress=False)
    want = prdc(callback.real_features, fake, k=3)
    assert last["precision"] == want.precision and last["recall"] == want.recall
    assert last["spread"] == pytest.approx(
        feature_spread(fake) / feature_spread(callback.real_features), rel=1e-12
    )


def test_a_dropped_class_is_named(real, tmp_path):
    images, labels = real.get_batch(range(len(real)))
    gen = ReplayGenerator(images, labels, num_classes=4, drop_class=2)
    _, measured, said = run_with(
        gen, real, tmp_path, metrics=("prdc",), prdc_k=2, collapse_warmup=0
    )
    last = measured[-1]
    assert last["recall_class_2"] == 0.0
    assert min(last[f"recall_class_{c}"] for c in (0, 1, 3)) > 0.3
    assert said and "no sample covers class(es) 2" in said[-1]


def test_minibatch_std_layer_against_a_hand_written_reference():
    x = torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = MinibatchStdDev(group_size=4)(x)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    for i in range(8):
        group = x[[j for j in range(8) if j % 2 == i % 2]]  # N/G = 2 interleaved groups
        want = ((group - group.mean(0)).square().mean(0) + 1e-8).sqrt().mean()
        assert torch.allclose(out[i, 3], torch.full((4, 4), float(want), dtype=torch.float64))
    # A batch of 6 groups in threes; a batch of one has no spread.
    assert MinibatchStdDev(4)(torch.randn(6, 2, 4, 4)).shape == (6, 3, 4, 4)
    assert MinibatchStdDev(4)(torch.randn(1, 2, 4, 4))[:, 2].abs().max() == 0


def test_minibatch_std_option_on_the_discriminators():
    d = discriminators.build("dcgan", image_size=16, width=8, minibatch_std=True)
    same = torch.zeros(4, 3, 16, 16)
    assert d(same).shape == (4,)
    p = discriminators.build(
        "projection", num_classes=3, image_size=16, width=8, minibatch_std=True
    )
    assert p(same, torch.tensor([0, 1, 2, 0])).shape == (4,)
    # Off by default: the state dict of 0.2 checkpoints is unchanged.
    plain = discriminators.build("dcgan", image_size=16, width=8)
    assert not any("minibatch" in k for k in plain.state_dict())


class Recorder(Discriminator):
    """A discriminator that remembers what it was shown."""

    def __init__(self):
        super().__init__()
        self.num_classes, self.image_shape = 0, (3, 16, 16)
        self.w = nn.Parameter(torch.zeros(()))
        self.seen = []

    def forward(self, images, labels=None):
        self.seen.append(images.detach().clone())
        return images.mean((1, 2, 3)) * self.w


def test_instance_noise_is_added_to_both_sides_and_annealed(real):
    images, labels = real.get_batch(range(8))
    gen = ReplayGenerator(images, labels)
    recorder = Recorder()
    objective = GANObjective(
        gen, recorder, losses.build("hinge"), instance_noise=0.5, instance_noise_steps=4
    )
    assert [objective.noise_std(s) for s in (0, 1, 2, 4, 9)] == [0.5, 0.375, 0.25, 0.0, 0.0]

    class Ctx:
        device = torch.device("cpu")

        def __init__(self, step):
            self.step = step

        def autocast(self):
            return torch.autocast("cpu", enabled=False)

        def optimize(self, name, loss):
            pass

    batch = (images, torch.full((8,), -1))
    torch.manual_seed(3)
    objective.train_step(objective.networks(), batch, Ctx(step=2))
    shown_real, shown_fake, shown_fake_g = recorder.seen
    noise = shown_real - images
    assert noise.std().item() == pytest.approx(0.25, rel=0.1)  # std at step 2 of 4
    assert (shown_fake - shown_fake_g).abs().max() > 0  # fresh noise for G's update too
    recorder.seen.clear()
    objective.train_step(objective.networks(), batch, Ctx(step=4))
    assert torch.equal(recorder.seen[0], images)  # annealed to zero: the data itself


def test_instance_noise_options_are_checked():
    from gst_core.errors import TrainingSetupError

    images = torch.zeros(2, 3, 16, 16)
    gen = ReplayGenerator(images, torch.zeros(2))
    d = discriminators.build("dcgan", image_size=16, width=8)
    with pytest.raises(TrainingSetupError, match="instance_noise must be >= 0"):
        GANObjective(gen, d, losses.build("hinge"), instance_noise=-1)
    with pytest.raises(TrainingSetupError, match="instance_noise_steps must be an integer"):
        GANObjective(gen, d, losses.build("hinge"), instance_noise=0.1, instance_noise_steps=0)


def test_gst_train_takes_the_counter_measures_from_toml(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        '[generator]\nname = "dcgan"\nimage_size = 16\nwidth = 8\nlatent_dim = 8\n'
        '[discriminator]\nname = "dcgan"\nimage_size = 16\nwidth = 8\nminibatch_std = true\n'
        '[loss]\nname = "hinge"\n'
        "[objective]\ninstance_noise = 0.1\ninstance_noise_steps = 2\n"
        '[data]\nname = "shapes"\nimage_size = 16\nper_class = 4\n'
        f'[train]\nsteps = 2\nbatch_size = 4\nrun_dir = "{tmp_path / "run"}"\nprogress = false\n'
    )
    assert main(["train", "gan", "--config", str(config)]) == 0


def test_a_narrow_generator_that_widens_is_not_collapsing():
    """Spread sequences: widening from a narrow start stays quiet; narrowing or stuck warns."""

    class Stub:
        class config:
            steps = 100

    def verdicts(spreads):
        watch = MetricCallback(torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0)
        return [
            bool(watch._collapsing(Stub, step + 1, {"spread": s})) for step, s in enumerate(spreads)
        ]

    assert verdicts([0.05, 0.2, 0.45, 0.9]) == [False, False, False, False]
    assert verdicts([0.9, 0.6, 0.3, 0.2]) == [False, False, False, True]  # 0.3 follows 0.6
    assert verdicts([0.1, 0.1, 0.1]) == [False, True, True]
    assert verdicts([0.9, 0.2, 0.8]) == [False, False, False]


def test_coverage_below_three_quarters_of_its_best_twice_running_warns():
    """Coverage sequences (spread held at 1): a lasting loss of a quarter of the data warns."""

    class Stub:
        class config:
            steps = 100

    def verdicts(coverages):
        watch = MetricCallback(
            torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0, collapse_coverage=0.75
        )
        return [
            bool(watch._collapsing(Stub, step + 1, {"spread": 1.0, "coverage": c}))
            for step, c in enumerate(coverages)
        ]

    assert verdicts([0.1, 0.4, 0.9, 0.95]) == [False] * 4  # a generator still learning
    # 3 of 8 modes dropped: 5/8 of the best; warned at the second low measurement.
    assert verdicts([0.9, 0.9, 0.5625, 0.5625, 0.5625]) == [False, False, False, True, True]
    assert verdicts([0.9, 0.5, 0.9, 0.5, 0.9]) == [False] * 5  # single dips: noise
    assert verdicts([0.8, 0.61, 0.61]) == [False] * 3  # 0.61 >= 0.75 * 0.8 = 0.6
    assert verdicts([0.8, 0.59, 0.59]) == [False, False, True]
    # The best is the best so far: a later, higher peak raises the bar.
    assert verdicts([0.6, 0.5, 0.9, 0.6, 0.6]) == [False, False, False, False, True]
    with pytest.raises(MetricError, match="collapse_coverage must be in"):
        MetricCallback(torch.zeros(3, 3, 4, 4), collapse_coverage=1.5)


def test_a_resumed_run_keeps_its_watch(tmp_path):
    """The watch's state (best coverage, "low at the last measurement") is rebuilt from
    metrics.jsonl up to the resumed step: a loss that began before a restart still warns at
    the second low measurement, and lines after the checkpoint's step are not replayed."""

    class Stub:
        class config:
            steps = 100

        run_dir = tmp_path
        step = 20

    lines = [{"step": 10, "spread": 1.0, "coverage": 0.9}, {"step": 20, "spread": 1.0,
             "coverage": 0.5}, {"step": 30, "spread": 1.0, "coverage": 0.1}]  # fmt: skip
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines) + '{"step": 4'  # cut by a kill
    )
    watch = MetricCallback(
        torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0, collapse_coverage=0.75
    )
    watch._replay_watch(Stub)
    assert (watch.best_coverage, watch.coverage_was_low) == (0.9, True)  # step 30 not replayed
    assert watch._collapsing(Stub, 30, {"spread": 1.0, "coverage": 0.5})
    fresh = MetricCallback(
        torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0, collapse_coverage=0.75
    )
    assert not fresh._collapsing(Stub, 30, {"spread": 1.0, "coverage": 0.5})  # what it was


RING = torch.tensor(
    [[0.8 * math.cos(2 * math.pi * k / 8), 0.8 * math.sin(2 * math.pi * k / 8)] for k in range(8)]
)


def ring_points(z, modes, stray=0.0, std=0.02):
    """Points of the 8-Gaussian ring (std 0.02; ``std`` for the draw) from ``modes`` only.

    A share ``stray`` of them lies anywhere on the circle between the modes, as a GAN's
    stray samples do.
    """
    phi = 0.5 * (1 + torch.erf(z / math.sqrt(2)))  # uniform in (0, 1)
    pick = (phi[:, 0] * len(modes)).long().clamp(max=len(modes) - 1)
    x = RING[torch.tensor(modes)[pick]] + std * z[:, 1:3]
    angle = 2 * math.pi * phi[:, 4]
    strays = phi[:, 3] < stray
    x[strays] = 0.8 * torch.stack([angle.cos(), angle.sin()], dim=1)[strays]
    return x


class RingGenerator(ImageGenerator):
    """Ring points as (2, 1, 1) images, from the modes in ``self.modes``."""

    def __init__(self, stray=0.0, modes=tuple(range(8)), std=0.02):
        super().__init__()
        self.latent_dim, self.num_classes, self.image_shape = 5, 0, (2, 1, 1)
        self.modes, self.stray, self.std = list(modes), stray, std
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z, labels=None):
        return (ring_points(z, self.modes, self.stray, self.std) * self.scale).reshape(-1, 2, 1, 1)


class PointDiscriminator(Discriminator):
    def __init__(self):
        super().__init__()
        self.num_classes, self.image_shape = 0, (2, 1, 1)
        self.w = nn.Parameter(torch.zeros(2))

    def forward(self, images, labels=None):
        return images.flatten(1) @ self.w


class Points(FeatureExtractor):
    """The point itself as the feature ([0, 1] back to [-1, 1])."""

    input_size = (1, 1)
    layers = ("pool",)

    def forward(self, images):
        return {"pool": images.flatten(1) * 2 - 1}


class DropModes(Callback):
    """From step ``at`` on, the generator makes only modes 0-4 (3 of 8 dropped)."""

    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer, step, metrics):
        if step + 1 >= self.at:  # before the measurement of step `at`
            trainer.networks["generator"].modes = [0, 1, 2, 3, 4]


class RingData(torch.utils.data.Dataset):
    def __init__(self, points):
        self.points = points

    def __len__(self):
        return len(self.points)

    def __getitem__(self, i):
        return self.points[i].reshape(2, 1, 1)


def ring_run(drop_at, stray=0.0, modes=tuple(range(8)), std=0.02, **rules):
    held_out = ring_points(
        torch.randn(400, 5, generator=torch.Generator().manual_seed(1)), list(range(8))
    )
    generator = RingGenerator(stray, modes, std)
    objective = GANObjective(generator, PointDiscriminator(), losses.build("hinge"))
    watch = MetricCallback(
        held_out.reshape(-1, 2, 1, 1),
        every=2,
        metrics=("prdc",),
        count=400,
        extractor=Points(),
        best_metric=None,
        batch_size=200,
        collapse_warmup=0,
        **rules,
    )
    callbacks = [watch] if drop_at is None else [DropModes(drop_at), watch]
    config = {
        "steps": 8,
        "batch_size": 8,
        "progress": False,
        "sample_every": 0,
        "checkpoint_every": 0,
        "optimizer": {"name": "SGD", "lr": 0.0},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(objective, RingData(held_out), config, callbacks=callbacks).fit()
    said = [str(w.message) for w in caught if issubclass(w.category, CollapseWarning)]
    return watch.history, said


def test_dropping_three_of_eight_ring_modes_warns_and_full_coverage_does_not():
    full, said = ring_run(drop_at=None, stray=0.05)
    assert [h["collapse"] for h in full] == [False] * 4 and not said
    assert min(h["coverage"] for h in full) > 0.95  # 1 - 2^-5 = 0.97 for a matching generator
    history, said = ring_run(drop_at=6, stray=0.05)
    coverage = [h["coverage"] for h in history]
    # 5 of the 8 modes are 5/8 of the data; the spread (the 5 modes still span the ring)
    # and recall (the stray samples' wide balls reach the dropped modes) do not see it.
    assert 0.57 < coverage[2] / coverage[1] < 0.68
    assert min(h["spread"] for h in history) > 0.8
    assert history[-1]["recall"] > 0.95
    assert [h["collapse"] for h in history] == [False, False, False, True]
    assert len(said) == 1 and said[0].startswith(
        "step 8: the generator may be collapsing: its samples reach only 5 of the real data's "
        "8 separate modes, where a batch of real images reaches 8.0"
    )
    # The coverage rule (off by default) reads the same loss.
    _, said = ring_run(drop_at=6, stray=0.05, collapse_coverage=0.75)
    assert "coverage of the held-out data fell to 0.6" in said[0]


def test_samples_that_look_real_but_cover_under_half_the_data_warn():
    """Against a matching generator's coverage: catches modes that never were covered."""

    class Stub:
        class config:
            steps = 100

    def verdicts(values):
        watch = MetricCallback(
            torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0, collapse_floor=0.5
        )
        watch.matched_coverage = 0.96  # what on_fit_start sets from the sample counts
        return [
            bool(watch._collapsing(Stub, step + 1, {"spread": 1.0, "precision": p, "coverage": c}))
            for step, (p, c) in enumerate(values)
        ]

    assert verdicts([(0.95, 0.47), (0.95, 0.47), (0.9, 0.46)]) == [False, True, True]
    assert verdicts([(0.95, 0.48), (0.95, 0.48)]) == [False, False]  # 0.48 = 0.5 * 0.96
    assert verdicts([(0.49, 0.1), (0.49, 0.1)]) == [False, False]  # samples not yet real
    assert verdicts([(0.95, 0.3), (0.95, 0.9), (0.95, 0.3)]) == [False, False, False]


def test_a_generator_that_never_covered_five_of_eight_modes_is_named():
    history, said = ring_run(drop_at=None, modes=(0, 3, 6))
    # 3 of 8 modes from the start: coverage ~3/8 of a matching generator's, never a loss.
    assert all(0.3 < h["coverage"] < 0.42 and h["precision"] > 0.9 for h in history)
    assert all(0.3 < h["modes"] < 0.45 for h in history)  # ~3/8 of the clusters
    assert [h["collapse"] for h in history] == [False, True, True, True]
    assert said[0].startswith("step 4: the generator may be collapsing: its samples reach only")


def test_expected_coverage_by_hand_and_by_simulation():
    # N = 2 reals, 1 fake, k = 1: the fake is nearer to a than b is, half the time.
    assert expected_coverage(2, 1, 1) == 0.5
    assert expected_coverage(3, 1, 1) == pytest.approx(1 / 3, abs=1e-15)  # nearest of 3
    # 4 reals, 2 fakes, k = 2: the 2 nearest of the 5 others are both real: C(3,2)/C(5,2).
    assert expected_coverage(4, 2, 2) == pytest.approx(1 - 3 / 10, abs=1e-15)
    g = torch.Generator().manual_seed(0)
    runs = [
        prdc(torch.randn(120, 3, generator=g), torch.randn(60, 3, generator=g), k=3).coverage
        for _ in range(200)
    ]
    mean = sum(runs) / len(runs)
    se = (sum((r - mean) ** 2 for r in runs) / (len(runs) - 1) / len(runs)) ** 0.5
    assert abs(mean - expected_coverage(120, 60, 3)) < 4 * se


class Stub:
    class config:
        steps = 100


def mode_verdicts(modes, matched=0.98):
    """The watch's verdicts on a sequence of mode-coverage values (spread held at 1)."""
    watch = MetricCallback(torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0)
    watch.mode_reach = [matched]  # what on_fit_start sets from the real clusters
    return [
        bool(watch._collapsing(Stub, step + 1, {"spread": 1.0, "modes": m}))
        for step, m in enumerate(modes)
    ]


def test_modes_under_a_real_batch_share_twice_running_warn():
    """Mode-coverage sequences against a real batch's 0.98: the threshold is 0.65 of it."""
    assert mode_verdicts([1.0, 0.8, 0.7, 1.0, 0.75, 0.9]) == [False] * 6  # stable
    # 3 of 8 modes lost (5/8) and kept lost: warned from the second low measurement on.
    assert mode_verdicts([1.0, 1.0, 0.625, 0.625, 0.5]) == [False, False, False, True, True]
    assert mode_verdicts([0.6, 1.0, 0.6, 1.0]) == [False] * 4  # single dips: noise
    assert mode_verdicts([0.64, 0.64]) == [False, False]  # 0.64 >= 0.65 * 0.98 = 0.637
    assert mode_verdicts([0.63, 0.63]) == [False, True]
    # A generator that never reached the modes warns too: the reference is the data's.
    assert mode_verdicts([0.3, 0.3]) == [False, True]
    with pytest.raises(MetricError, match="collapse_modes must be in"):
        MetricCallback(torch.zeros(3, 3, 4, 4), collapse_modes=1.0)
    with pytest.raises(MetricError, match="mode_clusters must be"):
        MetricCallback(torch.zeros(3, 3, 4, 4), mode_clusters=1)


def test_one_separate_mode_short_twice_running_warns():
    """With the data's separate components as modes, "auto" warns when fewer are reached
    than a real batch reaches but 1 time in 100: one short of 8 when a real batch reaches
    every one; a number reads a share, as for bins."""
    from gst_core.metrics.modes import real_modes

    points = ring_points(
        torch.randn(400, 5, generator=torch.Generator().manual_seed(1)), list(range(8))
    )

    def verdicts(reached, matched=1.0, **rules):
        watch = MetricCallback(torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0, **rules)
        watch.real_clusters = real_modes(points)
        watch.mode_reach = [matched] * 8  # each mode reached with the same chance
        assert watch.real_clusters.separated and watch.real_clusters.count == 8
        return [
            bool(watch._collapsing(Stub, step + 1, {"spread": 1.0, "modes": r / 8}))
            for step, r in enumerate(reached)
        ]

    assert verdicts([8, 8, 8]) == [False] * 3
    assert verdicts([8, 7, 7, 7]) == [False, False, True, True]
    assert verdicts([7, 8, 7, 8]) == [False] * 4  # single dips: noise
    # Each mode reached by a real batch 95% of the time: at most 6 of 8 happens 5.7% of
    # the time (1 - 0.95^8 - 8 * 0.05 * 0.95^7), at most 5 0.6%: only 5 warns.
    assert verdicts([6, 6], matched=0.95) == [False, False]
    assert verdicts([5, 5], matched=0.95) == [False, True]
    assert verdicts([7, 7], collapse_modes=0.65) == [False, False]  # 7/8 >= 0.65
    assert verdicts([5, 5], collapse_modes=0.65) == [False, True]
    assert verdicts([1, 1], collapse_modes=None) == [False, False]  # the rule off
    with pytest.raises(MetricError, match='collapse_modes must be in .0, 1., "auto" or None'):
        MetricCallback(torch.zeros(3, 3, 4, 4), collapse_modes="on")


def test_a_resumed_run_keeps_its_mode_watch(tmp_path):
    """ "Low at the last measurement" of the mode watch is rebuilt from metrics.jsonl too."""

    class Resumed(Stub):
        run_dir = tmp_path
        step = 20

    lines = [{"step": 10, "spread": 1.0, "modes": 1.0}, {"step": 20, "spread": 1.0,
             "modes": 0.6}, {"step": 30, "spread": 1.0, "modes": 1.0}]  # fmt: skip
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    watch = MetricCallback(torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0)
    watch.mode_reach = [1.0]
    watch._replay_watch(Resumed)
    assert watch.modes_were_low  # step 20 replayed, step 30 (after the checkpoint) not
    assert "modes are missing" in watch._collapsing(Resumed, 30, {"spread": 1.0, "modes": 0.6})
    fresh = MetricCallback(torch.zeros(3, 3, 4, 4), every=1, collapse_warmup=0)
    fresh.mode_reach = [1.0]
    assert not fresh._collapsing(Resumed, 30, {"spread": 1.0, "modes": 0.6})


def test_tight_modes_are_not_lost_modes():
    """A generator that makes all 8 modes, each tighter than the data's (std 0.008 against
    0.02), covers few reals on the modes' tails: coverage falls to ~3/4 of a matching
    generator's. Every real cluster is still reached, so the mode watch stays quiet;
    dropping 3 of the tight modes it names."""
    tight, said = ring_run(drop_at=None, std=0.008)
    assert all(h["coverage"] < 0.8 and h["precision"] > 0.9 for h in tight)
    assert all(h["modes"] == 1.0 and 0.8 < h["mode_peak"] < 1.5 for h in tight)
    assert not any(h["collapse"] for h in tight) and not said
    history, said = ring_run(drop_at=6, std=0.008)
    assert 0.55 < history[-1]["modes"] < 0.72  # 5 of 8 modes: about 5/8 of the clusters
    assert history[-1]["mode_peak"] > 1.3  # the kept modes hold 8/5 of their share
    assert [h["collapse"] for h in history] == [False, False, False, True]
    assert "only 5 of the real data's 8 separate modes" in said[0]  # the ring's components
    # Cut into k-means bins instead (sqrt(400 / 2) = 14 of them), the rule reads a share.
    _, said = ring_run(drop_at=6, std=0.008, mode_clusters=14)
    assert "of the real data's 14 clusters" in said[0]
