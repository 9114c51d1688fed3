"""Every registered generator, discriminator and adversarial loss, exercised from the registry."""

from __future__ import annotations

import inspect

import pytest
import torch

from gst_core.interfaces import AdversarialLoss, DiscriminatorPenalty
from gst_core.kinds import discriminators, generators, losses
from gst_plugins._shared.blocks import ArchitectureError

from .helpers import build_tiny


def _loss_class(name: str):
    factory = losses.get(name)
    return factory if inspect.isclass(factory) else type(factory())


ADVERSARIAL = [n for n in losses.names() if issubclass(_loss_class(n), AdversarialLoss)]
PENALTIES = [n for n in losses.names() if issubclass(_loss_class(n), DiscriminatorPenalty)]


def test_the_builtin_names_are_registered():
    assert {"dcgan", "dcgan_conditional"} <= set(generators.names())
    assert {"dcgan", "projection", "patchgan"} <= set(discriminators.names())
    assert {"non_saturating", "minimax", "lsgan", "hinge", "wasserstein"} <= set(ADVERSARIAL)
    assert {"r1", "gradient_penalty"} <= set(PENALTIES)


def _inputs_for(gen, batch: int):
    labels = torch.arange(batch) % gen.num_classes if gen.num_classes else None
    if gen.input_kind == "latent":
        return gen.sample_latent(batch), labels
    if gen.input_kind == "features":  # a decoder of an extractor's feature maps (AdaIN)
        return torch.randn(batch, gen.in_channels, 4, 4), labels
    c, h, w = gen.image_shape
    side = max(16, getattr(gen, "size_multiple", 1))  # a U-Net needs 2**num_downs
    c = getattr(gen, "in_channels", c)
    return torch.rand(batch, c, h or side, w or side) * 2 - 1, labels


@pytest.mark.parametrize("name", generators.names())
def test_generator_contract(name):
    torch.manual_seed(0)
    gen = build_tiny("generator", name, **({"num_classes": 3} if "conditional" in name else {}))
    x, labels = _inputs_for(gen, 4)
    out = gen(x, labels)
    if gen.input_kind == "latent":
        assert out.shape == (4, *gen.image_shape)
    if gen.input_kind == "features":  # an unbounded RGB image, upscale times larger
        assert out.shape == (4, 3, 4 * gen.upscale, 4 * gen.upscale)
    else:
        assert out.min() >= -1 and out.max() <= 1
    out.square().mean().backward()
    grads = [p.grad for p in gen.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    if gen.num_classes:
        with pytest.raises(ArchitectureError, match="class-conditional"):
            gen(x, None)
        # the label changes the image: conditioning reaches the output
        gen.eval()
        z = x[:1].repeat(2, 1) if gen.input_kind == "latent" else x[:1].repeat(2, 1, 1, 1)
        pair = gen(z, torch.tensor([0, 1]))
        assert not torch.allclose(pair[0], pair[1])
    else:
        with pytest.raises(ArchitectureError, match="unconditional"):
            gen(x, torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize("name", discriminators.names())
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_discriminator_contract(name, spectral_norm):
    torch.manual_seed(0)
    conditional = name == "projection"
    extra = {"num_classes": 3} if conditional else {}
    if name == "patchgan":
        extra["num_layers"] = 2
    disc = build_tiny("discriminator", name, spectral_norm=spectral_norm, **extra)
    size = disc.image_shape[1] or 32
    images = (torch.rand(4, disc.image_shape[0], size, size) * 2 - 1).requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 0]) if conditional else None
    scores = disc(images, labels)
    assert scores.shape[0] == 4 and (scores.dim() == 1 or scores.shape[1] == 1)
    scores.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is not None for p in disc.parameters() if p.requires_grad)
    if conditional:
        other = disc(images.detach(), torch.tensor([1, 2, 0, 1]))
        assert not torch.allclose(scores.detach(), other)
        with pytest.raises(ArchitectureError):
            disc(images, None)


@pytest.mark.parametrize("size", [32, 64])
def test_dcgan_pair_at_paper_sizes(size):
    gen = generators.build("dcgan", image_size=size, width=8, latent_dim=16)
    disc = discriminators.build("dcgan", image_size=size, width=8)
    images = gen(gen.sample_latent(2))
    assert images.shape == (2, 3, size, size)
    assert disc(images).shape == (2,)


def test_bad_architecture_arguments_are_clear():
    with pytest.raises(ArchitectureError, match="power of two"):
        generators.build("dcgan", image_size=48)
    with pytest.raises(ArchitectureError, match="num_classes"):
        generators.build("dcgan_conditional", num_classes=0)
    gen = generators.build("dcgan", image_size=16, width=4, latent_dim=8)
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        gen(torch.zeros(2, 7))


@pytest.mark.parametrize("name", ADVERSARIAL)
@pytest.mark.parametrize("shape", [(6,), (3, 1, 4, 4)])
def test_adversarial_loss_contract(name, shape):
    loss = losses.build(name)
    # Scores in (0.1, 0.6): inside every loss's active region (hinge margins, LSGAN targets).
    real = (torch.rand(shape) * 0.5 + 0.1).requires_grad_(True)
    fake = (torch.rand(shape) * 0.5 + 0.1).requires_grad_(True)
    d_loss, g_loss = loss.discriminator_loss(real, fake), loss.generator_loss(fake)
    assert d_loss.dim() == 0 and g_loss.dim() == 0
    assert torch.equal(loss(real, fake), d_loss)
    d_loss.backward()
    assert real.grad is not None and fake.grad is not None
    # D wants real scores up and fake scores down; G wants fake scores up.
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake.grad = None
    g_loss.backward()
    assert (fake.grad < 0).all()


@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_contract(name):
    disc = build_tiny("discriminator", "dcgan", spectral_norm=True)
    real, fake = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    penalty = losses.build(name)
    value = penalty(disc, real, fake)
    assert value.dim() == 0 and value >= 0
    value.backward()
    # (biases of the last layer do not change ∇ₓD, so they rightly get no gradient)
    grads = [p.grad for p in disc.parameters() if p.grad is not None]
    assert len(grads) >= 2 and any(g.abs().sum() > 0 for g in grads)
