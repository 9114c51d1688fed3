"""DiffAugment (Zhao et al. 2020) against a per-pixel reference of each op, written from the
authors' description: brightness, saturation, contrast; translation with zero fill; cutout."""

from __future__ import annotations

import pytest
import torch

from gst_core.diff_augment import AugmentParams, DiffAugment, parse_policy
from gst_core.errors import GstError
from gst_core.kinds import discriminators, generators, losses
from gst_core.training.trainer import Trainer
from gst_plugins.objectives.gan import GANObjective


def _reference_color(x, b, s, c):
    out = x.clone()
    for n in range(x.shape[0]):
        img = x[n] + b[n]
        for i in range(x.shape[2]):
            for j in range(x.shape[3]):
                m = img[:, i, j].mean()
                img[:, i, j] = (img[:, i, j] - m) * s[n] + m
        m = img.mean()
        out[n] = (img - m) * c[n] + m
    return out


def _reference_translate(x, shift):
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    for n in range(x.shape[0]):
        dy, dx = shift[n].tolist()
        for i in range(h):
            for j in range(w):
                if 0 <= i + dy < h and 0 <= j + dx < w:
                    out[n, :, i, j] = x[n, :, i + dy, j + dx]
    return out


def _reference_cutout(x, centre):
    out = x.clone()
    h, w = x.shape[-2:]
    ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
    for n in range(x.shape[0]):
        cy, cx = centre[n].tolist()
        for i in range(h):
            for j in range(w):
                if cy - ch // 2 <= i < cy - ch // 2 + ch and cx - cw // 2 <= j < cx - cw // 2 + cw:
                    out[n, :, i, j] = 0
    return out


@pytest.mark.parametrize("size", [(8, 8), (7, 10)])
def test_each_op_matches_the_per_pixel_reference(size):
    torch.manual_seed(0)
    x = torch.rand(5, 3, *size, dtype=torch.float64) * 2 - 1
    for op, reference, fields in (
        ("color", _reference_color, ("brightness", "saturation", "contrast")),
        ("translation", _reference_translate, ("shift",)),
        ("cutout", _reference_cutout, ("cutout",)),
    ):
        aug = DiffAugment(op)
        params = aug.draw(5, *size)
        got = aug.apply(x, params)
        expected = reference(
            x,
            *(getattr(params, f).double() if op == "color" else getattr(params, f) for f in fields),
        )
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12, msg=op)
        assert not torch.equal(got, x), op


def test_ranges_of_the_draws_are_the_papers():
    p = DiffAugment("color,translation,cutout").draw(4000, 32, 16)
    assert -0.5 <= p.brightness.min() and p.brightness.max() < 0.5
    assert 0 <= p.saturation.min() and p.saturation.max() < 2
    assert 0.5 <= p.contrast.min() and p.contrast.max() < 1.5
    assert p.shift[:, 0].abs().max() == 4 and p.shift[:, 1].abs().max() == 2  # 1/8 of 32, 16
    assert p.cutout[:, 0].max() == 32 and p.cutout[:, 1].max() == 16  # even sizes: 0..H


def test_real_and_fake_get_the_same_transform_and_gradients_flow():
    aug = DiffAugment("color,translation,cutout")
    real = torch.rand(4, 3, 8, 8)
    fake = real.clone().requires_grad_(True)
    a, b = aug(real, fake)
    assert torch.equal(a, b.detach())  # one draw for both
    b.sum().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    # A batch of k·n rows reuses the n draws (gan_style's fakes and negatives).
    a, b = aug(real, torch.cat([real, real]))
    assert torch.equal(b[:4], a) and torch.equal(b[4:], a)
    # Two calls draw independently.
    assert not torch.equal(aug(real), aug(real))


def test_policy_parsing():
    assert parse_policy("color, cutout") == ("color", "cutout")
    assert parse_policy(None) == () and not DiffAugment("")
    with pytest.raises(GstError, match="unknown op.*colour.*choose from color"):
        parse_policy("colour")
    assert DiffAugment("").apply(torch.ones(1, 3, 4, 4), AugmentParams()).sum() == 48


def test_the_gan_objective_augments_d_inputs_and_g_learns_through_it(monkeypatch):
    torch.manual_seed(0)
    g = generators.build("dcgan", image_size=16, width=8, latent_dim=8)
    d = discriminators.build("dcgan", image_size=16, width=8)
    objective = GANObjective(g, d, losses.build("hinge"), augment="translation,cutout")
    assert objective.config()["augment"] == "translation,cutout"
    seen = []
    original = d.forward

    def spy(x, *args, **kwargs):
        seen.append(x.detach().clone())
        return original(x, *args, **kwargs)

    monkeypatch.setattr(d, "forward", spy)
    data = torch.rand(8, 3, 16, 16) * 2 - 1

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return data[i], -1

    dataset = Images()
    before = [p.detach().clone() for p in g.parameters()]
    Trainer(objective, dataset, {"steps": 1, "batch_size": 8, "progress": False}).fit()
    real_seen = seen[0]  # D's first input: the (shuffled) real batch, augmented
    assert real_seen.shape == data.shape and (real_seen == 0).sum() > 8 * 3 * 16  # cut out
    assert len(seen) == 3  # real, fake, and the generator's fake: every D call
    assert any(not torch.equal(a, p) for a, p in zip(before, g.parameters(), strict=True))
