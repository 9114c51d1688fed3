"""The side-by-side benchmark's plain-torch references (benchmarks/speed/) are the same
networks and the same pix2pix step as gst's: with gst's weights copied in, the same outputs
and the same first-step losses. Narrow networks (width 8) keep it cheap."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "speed"))
import reference_nets as ref  # noqa: E402
from reference_steps import Pix2PixStep  # noqa: E402

from gst_core.kinds import registry  # noqa: E402
from gst_core.training import Trainer  # noqa: E402
from gst_core.training.build import build_objective  # noqa: E402
from gst_plugins.datasets.i2i_shapes import PairedShapes  # noqa: E402


def test_resnet_9blocks_and_instance_patchgan_match_gst():
    torch.manual_seed(0)
    g = registry("generator").build({"name": "resnet_9blocks", "width": 8}).eval()
    d = registry("discriminator").build({"name": "patchgan", "width": 8, "channels": 3}).eval()
    rg, rd = ref.resnet_9blocks(ngf=8).eval(), ref.patchgan_70(3, ndf=8, norm="instance").eval()
    ref.copy_weights(g, rg)
    ref.copy_weights(d, rd)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(rg(x), g(x), rtol=0, atol=1e-6)
        torch.testing.assert_close(rd(x), d(x), rtol=0, atol=1e-6)


def test_pix2pix_first_step_losses_match_gst():
    torch.manual_seed(0)
    config = {
        "generator": {"name": "unet_256", "width": 8},
        "discriminator": {"name": "patchgan", "width": 8, "norm": "batch"},
    }
    objective = build_objective("pix2pix", config)
    trainer = Trainer(
        objective,
        PairedShapes(image_size=256, count=2, seed=0),
        {"steps": 1, "batch_size": 1, "progress": False,
         "optimizer": {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]}},
    )  # fmt: skip
    nets = trainer.networks
    rg, rd = ref.unet_256(ngf=8), ref.patchgan_70(6, ndf=8)
    ref.copy_weights(nets["generator"], rg)
    ref.copy_weights(nets["discriminator"], rd)
    a, b = torch.rand(1, 3, 256, 256) * 2 - 1, torch.rand(1, 3, 256, 256) * 2 - 1
    torch.manual_seed(1)  # the same dropout masks
    loss_d, loss_g = Pix2PixStep(rg, rd)(a, b)
    torch.manual_seed(1)
    metrics = objective.train_step(trainer.step_networks, {"A": a, "B": b}, trainer)
    assert float(metrics["loss_d"]) == pytest.approx(float(loss_d), rel=1e-5)
    assert float(metrics["loss_g"]) == pytest.approx(float(loss_g), rel=1e-5)
    # And the updated generators agree (eval mode: no dropout, running batch statistics).
    with torch.no_grad():
        torch.testing.assert_close(rg.eval()(a), nets["generator"].eval()(a), rtol=0, atol=1e-5)
