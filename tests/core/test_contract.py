"""Every registered component of all six kinds honours what gst_core/interfaces.py declares.

Each test is parametrised over its registry's names, so a new built-in (or an
installed plugin) is checked as soon as it is registered. Components are built
small and offline; the members the core reads (``in_channels``, ``size_multiple``,
``comparable``, ``cli_options``, ``paired``, ...) are checked for their declared
types, and forward passes for the shapes and ranges the contracts state.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from gst_core.images import save_image
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorPenalty,
    FeatureExtractor,
    FeatureLoss,
    ImageDataset,
    ImageGenerator,
    Loss,
    Objective,
)
from gst_core.kinds import registry
from gst_core.training.callbacks import Callback
from gst_core.training.config import TrainConfig

# Keyword arguments that keep each component tiny, used where its factory takes them.
SMALL = {
    "generator": {"image_size": 16, "width": 8, "latent_dim": 8, "num_downs": 5, "n_blocks": 1},
    "discriminator": {"image_size": 16, "width": 8, "num_layers": 2},
    "feature_extractor": {"channels": 8, "num_scales": 2, "width_multiplier": 0.125},
    "dataset": {"image_size": 16, "count": 4, "per_class": 2, "num_classes": 2, "size": 32},
}
NEEDS_WEIGHTS = {
    "vgg16",
    "vgg19",
    "inception",
    "vgg_normalised",
}  # built with weights="random" here


def build_small(kind: str, name: str, **extra: Any) -> Any:
    factory = registry(kind).get(name)
    params = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in SMALL.get(kind, {}).items() if k in params}
    if name == "transformer_net":
        kwargs.update(channels=8, residual_blocks=1)
    kwargs.update(extra)
    return registry(kind).build(name, **kwargs)


def _optional_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and value > 0)


# -- generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", registry("generator").names())
def test_generator_declares_its_contract(name):
    torch.manual_seed(0)
    gen = build_small("generator", name)
    assert isinstance(gen, ImageGenerator)
    assert gen.input_kind in ("latent", "image", "features")
    assert isinstance(gen.num_classes, int) and gen.num_classes >= 0
    assert len(gen.image_shape) == 3 and all(isinstance(s, int) for s in gen.image_shape)
    assert _optional_int(gen.in_channels) and _optional_int(gen.out_channels)
    assert isinstance(gen.size_multiple, int) and gen.size_multiple >= 1
    labels = torch.arange(2) % gen.num_classes if gen.num_classes else None
    gen.eval()
    with torch.no_grad():
        if gen.input_kind == "latent":
            assert isinstance(gen.latent_dim, int) and gen.latent_dim > 0
            out = gen(gen.sample_latent(2), labels)
            assert out.shape == (2, *gen.image_shape)
        elif gen.input_kind == "features":  # AdaIN's decoder: an unbounded RGB image
            out = gen(torch.randn(2, gen.in_channels, 4, 4), labels)
            assert out.shape == (2, 3, 4 * gen.upscale, 4 * gen.upscale)
            return
        else:
            side = gen.size_multiple * max(1, 16 // gen.size_multiple)
            x = torch.rand(2, gen.in_channels or 3, side, side) * 2 - 1
            out = gen(x, labels)
            assert out.shape == (2, gen.out_channels or gen.image_shape[0], side, side)
    assert out.min() >= -1 and out.max() <= 1


# -- discriminators -------------------------------------------------------------------------


@pytest.mark.parametrize("name", registry("discriminator").names())
def test_discriminator_declares_its_contract(name):
    torch.manual_seed(0)
    disc = build_small("discriminator", name)
    assert isinstance(disc, Discriminator)
    assert isinstance(disc.num_classes, int) and disc.num_classes >= 0
    channels, h, w = disc.image_shape
    images = torch.rand(2, channels, h or 16, w or 16) * 2 - 1
    labels = torch.tensor([0, 1]) if disc.num_classes else None
    scores = disc(images, labels)
    assert scores.shape == (2,) or (scores.dim() == 4 and scores.shape[:2] == (2, 1))
    assert torch.isfinite(scores).all()


# -- losses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", registry("loss").names())
def test_loss_declares_its_contract(name):
    torch.manual_seed(0)
    loss = build_small("loss", name)
    assert isinstance(loss, Loss)
    if isinstance(loss, AdversarialLoss):
        real, fake = torch.randn(4), torch.randn(4, 1, 3, 3)
        for value in (loss.discriminator_loss(real, real), loss.generator_loss(fake)):
            assert value.dim() == 0 and torch.isfinite(value)
        assert torch.equal(loss(real, real), loss.discriminator_loss(real, real))
    elif isinstance(loss, DiscriminatorPenalty):
        assert isinstance(loss.weight, float | int) and loss.weight >= 0
        disc = build_small("discriminator", "dcgan")
        real = torch.rand(2, 3, 16, 16) * 2 - 1
        value = loss(disc, real, (torch.rand(2, 3, 16, 16) * 2 - 1).detach())
        assert value.dim() == 0 and torch.isfinite(value) and value >= 0
    elif isinstance(loss, FeatureLoss):
        assert isinstance(loss.owner, str) and loss.owner
        # The extractor attribute it names is declared on FeatureExtractor.
        assert hasattr(FeatureExtractor, loss.default_layers_attr)
        loss.set_layers(["a"])
        features = {"a": torch.rand(2, 4, 5, 5)}
        value = loss(features, loss.targets({"a": torch.rand(2, 4, 5, 5)}))
        assert value.dim() == 0 and value >= 0
    else:  # an image loss (total variation)
        value = loss(torch.rand(2, 3, 8, 8))
        assert value.dim() == 0 and value >= 0


# -- feature extractors ---------------------------------------------------------------------


@pytest.mark.parametrize("name", registry("feature_extractor").names())
def test_feature_extractor_declares_its_contract(name):
    torch.manual_seed(0)
    extra = {"weights": "random"} if name in NEEDS_WEIGHTS else {}
    extractor = build_small("feature_extractor", name, **extra)
    assert isinstance(extractor, FeatureExtractor)
    assert isinstance(extractor.comparable, bool)
    size = extractor.input_size
    assert size is None or (len(size) == 2 and all(isinstance(s, int) and s > 0 for s in size))
    assert extractor.resize_method is None or isinstance(extractor.resize_method, str)
    available = set(extractor.available_layers)
    assert set(extractor.layers) <= available
    assert set(extractor.default_content_layers) <= available
    assert set(extractor.default_style_layers) <= available
    assert set(extractor.default_loss_weights) <= {"content_weight", "style_weight", "tv_weight"}
    assert extractor.activation_bytes_per_pixel() >= 0
    assert not any(p.requires_grad for p in extractor.parameters())  # frozen
    side = 75 if name in ("inception", "fid_auto") else 32
    with torch.no_grad():
        features = extractor(torch.rand(2, 3, side, side))
    assert tuple(features) == tuple(extractor.layers)  # exactly its taps, in network order
    assert all(f.shape[0] == 2 and torch.isfinite(f).all() for f in features.values())


# -- objectives -----------------------------------------------------------------------------

TINY_GAN = {
    "generator": {"name": "dcgan", "image_size": 16, "width": 8, "latent_dim": 8},
    "discriminator": {"name": "dcgan", "image_size": 16, "width": 8},
    "loss": {"name": "hinge"},
}
TINY_PATCHGAN = {"name": "patchgan", "width": 8, "num_layers": 2}
TINY_STYLE = {
    "generator": {"name": "transformer_net", "channels": 8, "residual_blocks": 1},
    "feature_extractor": {"name": "random_multiscale", "channels": 8, "num_scales": 2},
    "objective": {"style_size": 32},
}
# A small config for each built-in objective; one without an entry is checked by its class.
TINY_CONFIGS: dict[str, dict[str, Any]] = {
    "gan": TINY_GAN,
    "pix2pix": {
        "generator": {"name": "unet", "num_downs": 5, "width": 8},
        "discriminator": TINY_PATCHGAN,
    },
    "cyclegan": {
        "generator": {"name": "resnet", "n_blocks": 1, "width": 8},
        "discriminator": TINY_PATCHGAN,
    },
    "fast_style": TINY_STYLE,
    "gan_style": {**TINY_STYLE, "discriminator": TINY_PATCHGAN},
}
TRAIN_OPTIONS = {f.name for f in dataclasses.fields(TrainConfig)}


def _objective_class(name: str) -> type:
    factory = registry("objective").get(name)
    assert inspect.isclass(factory) and issubclass(factory, Objective), factory
    return factory


@pytest.mark.parametrize("name", registry("objective").names())
def test_objective_declares_what_gst_train_reads(name):
    cls = _objective_class(name)
    assert isinstance(cls.cli_options, Mapping)
    for flag, (key, help_text, *value_type) in cls.cli_options.items():
        assert flag and not flag.startswith("-") and "." in key and help_text
        assert all(callable(t) for t in value_type) and len(value_type) <= 1  # (type,)
    assert isinstance(cls.default_data, Mapping)
    if cls.default_data:
        assert cls.default_data["name"] in registry("dataset").names()
    assert set(cls.default_train) <= TRAIN_OPTIONS
    TrainConfig.from_mapping(dict(cls.default_train))  # valid [train] options
    assert isinstance(cls.ema_networks, tuple)


@pytest.mark.parametrize("name", sorted(TINY_CONFIGS))
def test_objective_built_from_config_records_how_to_rebuild_its_networks(name):
    torch.manual_seed(0)
    objective = _objective_class(name).from_config(TINY_CONFIGS[name], source="tiny.toml")
    networks = objective.networks()
    assert networks and all(isinstance(n, nn.Module) for n in networks.values())
    assert set(objective.ema_networks) <= set(networks)
    groups = objective.optimizer_groups()
    assert sorted(n for nets in groups.values() for n in nets) == sorted(networks)
    json.dumps(objective.config())  # recorded in checkpoints and config.json
    assert isinstance(objective.state_dict(), dict)
    for net_name, spec in objective.network_specs.items():
        assert net_name in networks
        spec = dict(spec)
        rebuilt = registry(spec.pop("kind")).build(spec)
        assert rebuilt.state_dict().keys() == networks[net_name].state_dict().keys()
        for key, value in rebuilt.state_dict().items():
            assert value.shape == networks[net_name].state_dict()[key].shape, (net_name, key)


# -- datasets -------------------------------------------------------------------------------


def _image_folders(tmp_path, *names: str) -> None:
    torch.manual_seed(0)
    for folder in names:
        for i in range(2):
            save_image(torch.rand(1, 3, 20, 20), tmp_path / folder / f"{i}.png")


ROOTS = {"folder": ("cats",), "paired": ("A", "B"), "unpaired": ("trainA", "trainB")}


@pytest.mark.parametrize("name", registry("dataset").names())
def test_dataset_declares_its_contract(name, tmp_path):
    extra: dict[str, Any] = {}
    if name in ROOTS:
        _image_folders(tmp_path, *ROOTS[name])
        extra["root"] = str(tmp_path)
    data = build_small("dataset", name, **extra)
    assert isinstance(data, Dataset)
    num_classes = getattr(data, "num_classes", ImageDataset.num_classes)
    assert isinstance(num_classes, int) and num_classes >= 0
    assert isinstance(getattr(data, "classes", ()), Sequence)
    assert isinstance(getattr(data, "paired", ImageDataset.paired), bool)
    assert len(data) > 0
    item = data[0]
    if isinstance(item, Mapping):  # image pairs
        images = [item["A"], item["B"]]
    else:
        image, label = item
        images = [image]
        assert isinstance(label, int) and (label == -1 or 0 <= label < max(1, num_classes))
    for image in images:
        assert image.dim() == 3 and image.dtype.is_floating_point
        assert image.min() >= -1 and image.max() <= 1
    shape = getattr(data, "image_shape", None)
    if shape is not None and not isinstance(item, Mapping):
        assert tuple(images[0].shape) == tuple(shape)


def test_callbacks_run_on_rank_0_only_unless_they_declare_all_ranks():
    assert Callback.all_ranks is False


def test_the_trainer_refuses_fid_options_without_the_callback_that_reads_them():
    from gst_core.errors import TrainingSetupError
    from gst_core.training import MetricCallback, Trainer

    assert set(MetricCallback.train_options) >= {"fid_every", "fid_real"}
    objective = _objective_class("gan").from_config(TINY_GAN)
    data = build_small("dataset", "shapes")
    options = {"steps": 1, "batch_size": 2, "progress": False}
    options.update(fid_every=1, fid_real="held-out")
    with pytest.raises(TrainingSetupError, match="pass callbacks=\\[MetricCallback.from_config"):
        Trainer(objective, data, options)
    metric = MetricCallback.from_config(options)
    assert Trainer(objective, data, options, callbacks=[metric]).callbacks[-1] is metric
