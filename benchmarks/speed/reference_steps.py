"""The pix2pix and CycleGAN training steps in plain torch, as the papers and junyanz's code
describe them (no gst import).

pix2pix (Isola et al. 2017): D on (A, B) vs (A, G(A)) with the vanilla GAN loss (BCE with
logits), its loss halved; then G with GAN + 100 * L1, D frozen. CycleGAN (Zhu et al. 2017):
LSGAN (MSE to 1/0), both generators in one update with cycle weight 10 and identity 0.5 * 10,
then both discriminators on real vs a 50-image history of fakes, each loss halved. Adam 2e-4,
betas (0.5, 0.999), batch 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from reference_nets import HistoryPool


def adam(*nets):
    params = [p for n in nets for p in n.parameters()]
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class Pix2PixStep:
    def __init__(self, g, d):
        self.g, self.d = g, d
        self.opt_g, self.opt_d = adam(g), adam(d)

    def __call__(self, a, b):
        fake = self.g(a)
        self.d.requires_grad_(True)
        self.opt_d.zero_grad()
        real_s, fake_s = self.d(torch.cat([a, b], 1)), self.d(torch.cat([a, fake.detach()], 1))
        loss_d = 0.5 * (
            F.binary_cross_entropy_with_logits(real_s, torch.ones_like(real_s))
            + F.binary_cross_entropy_with_logits(fake_s, torch.zeros_like(fake_s))
        )
        loss_d.backward()
        self.opt_d.step()
        self.d.requires_grad_(False)
        self.opt_g.zero_grad()
        score = self.d(torch.cat([a, fake], 1))
        loss_g = F.binary_cross_entropy_with_logits(score, torch.ones_like(score))
        loss_g = loss_g + 100.0 * F.l1_loss(fake, b)
        loss_g.backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()


def lsgan(scores, real: bool):
    return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))


class CycleGANStep:
    def __init__(self, g_ab, g_ba, d_a, d_b):
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.opt_g, self.opt_d = adam(g_ab, g_ba), adam(d_a, d_b)
        self.pool_a, self.pool_b = HistoryPool(), HistoryPool()

    def __call__(self, a, b):
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        for d in (self.d_a, self.d_b):
            d.requires_grad_(False)
        self.opt_g.zero_grad()
        identity = F.l1_loss(self.g_ab(b), b) + F.l1_loss(self.g_ba(a), a)
        gan = lsgan(self.d_b(fake_b), True) + lsgan(self.d_a(fake_a), True)
        cycle = F.l1_loss(self.g_ba(fake_b), a) + F.l1_loss(self.g_ab(fake_a), b)
        loss_g = gan + 10.0 * cycle + 0.5 * 10.0 * identity
        loss_g.backward()
        self.opt_g.step()
        for d in (self.d_a, self.d_b):
            d.requires_grad_(True)
        self.opt_d.zero_grad()
        old_b, old_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        loss_d = 0.5 * (lsgan(self.d_b(b), True) + lsgan(self.d_b(old_b), False))
        loss_d = loss_d + 0.5 * (lsgan(self.d_a(a), True) + lsgan(self.d_a(old_a), False))
        loss_d.backward()
        self.opt_d.step()
        return loss_g.detach(), loss_d.detach()
