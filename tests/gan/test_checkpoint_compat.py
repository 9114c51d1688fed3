"""Checkpoints across versions, one network out of a checkpoint, learning rates by group name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from gst_core.checkpoint import CheckpointError, load_checkpoint, load_network
from gst_core.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_checkpoint_written_by_gst_0_1_resumes_to_its_weights(tmp_path):
    """gan_v0_1_step3.pt was written by gst 0.1 (before objectives became plugins) from
    fixtures/gan_v0_1.toml; gst 0.1 resumed it to step 5 giving gan_v0_1_resumed_to_5.pt.

    Equal to float32 rounding, not bit for bit: the fixture was written on another CPU, and
    torch's kernels round differently on other vector units (seen: 1 ulp on an AVX-512
    Xeon). Bit-exact resume on one machine: tests/gan/test_trainer.py, tests/reliability."""
    old = shutil.copy(FIXTURES / "gan_v0_1_step3.pt", tmp_path / "old.pt")
    run_dir = tmp_path / "run"
    args = ["train", "gan", "--resume", str(old), "--steps", "5", "--run-dir", str(run_dir)]
    assert main([*args, "--threads", "1"]) == 0
    now = load_checkpoint(run_dir)
    then = torch.load(FIXTURES / "gan_v0_1_resumed_to_5.pt", weights_only=True)
    assert now["step"] == then["step"] == 5
    for part in ("networks", "ema"):
        for net, weights in then[part].items():
            for key, value in weights.items():
                torch.testing.assert_close(
                    now[part][net][key], value, rtol=1e-6, atol=1e-8, msg=f"{part}.{net}.{key}"
                )
    # The old file is untouched, and `gst sample` reads it (no network_specs in it).
    assert "network_specs" not in load_checkpoint(old)
    assert load_network(old).latent_dim == 8


def test_load_network_takes_ema_or_raw_weights_and_names_what_exists(tmp_path):
    state = load_checkpoint(FIXTURES / "gan_v0_1_step3.pt")
    raw = load_network(state, "generator", ema=False)
    ema = load_network(state, "generator", ema=True)
    assert not raw.training and not ema.training
    key = "net.0.weight"
    assert torch.equal(raw.state_dict()[key], state["networks"]["generator"][key])
    assert torch.equal(ema.state_dict()[key], state["ema"]["generator"]["module." + key])
    assert not torch.equal(raw.state_dict()[key], ema.state_dict()[key])
    disc = load_network(state, "discriminator")  # no EMA copy: the raw weights
    for key, value in state["networks"]["discriminator"].items():
        assert torch.equal(disc.state_dict()[key], value)
    with pytest.raises(
        CheckpointError, match="has no network 'g_ab'; it holds discriminator, generator"
    ):
        load_network(state, "g_ab")


def test_learning_rate_flags_address_optimiser_groups_by_name(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text((FIXTURES / "gan_v0_1.toml").read_text())
    run_dir = tmp_path / "run"
    base = ["train", "gan", "--config", str(config), "--run-dir", str(run_dir), "--steps", "1"]
    assert main([*base, "--lr", "discriminator=4e-4", "--lr", "generator=1e-4"]) == 0
    optimizers = load_checkpoint(run_dir)["optimizers"]
    assert optimizers["discriminator"]["param_groups"][0]["lr"] == 4e-4
    assert optimizers["generator"]["param_groups"][0]["lr"] == 1e-4

    assert main([*base, "--run-dir", str(tmp_path / "all"), "--lr", "3e-3"]) == 0
    groups = load_checkpoint(tmp_path / "all")["optimizers"]
    assert {g["param_groups"][0]["lr"] for g in groups.values()} == {3e-3}

    capsys.readouterr()
    assert main([*base, "--run-dir", str(tmp_path / "bad"), "--lr", "g_ab=1e-4"]) == 2
    err = capsys.readouterr().err
    assert (
        "names ['g_ab'], but the gan objective's optimiser groups are ['discriminator', 'generator']"
        in err
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "unet_128", "width": 8},
        {"name": "resnet_6blocks", "width": 8},
        {"name": "transformer_net"},
    ],
)
def test_load_network_builds_without_random_init_and_equals_the_plain_load(spec):
    from gst_core.checkpoint import _build_on_meta
    from gst_core.kinds import registry

    torch.manual_seed(0)
    saved = registry("generator").build(dict(spec)).eval()
    state = {
        "networks": {"generator": saved.state_dict()},
        "network_specs": {"generator": {"kind": "generator", **spec}},
    }
    rng = torch.random.get_rng_state()
    loaded = load_network(state, "generator")
    # No random numbers were drawn: the weights came from the state, not an init.
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert type(loaded) is type(saved)
    for (key, value), (key2, value2) in zip(
        loaded.state_dict().items(), saved.state_dict().items(), strict=True
    ):
        assert key == key2 and value.device.type == "cpu" and torch.equal(value, value2), key
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded(x), saved(x))
    # A state that lacks a buffer cannot be assigned: None, so the caller builds normally
    # (and load_network reports the missing key).
    weights = dict(saved.state_dict())
    weights.pop(next(iter(weights)))
    assert _build_on_meta(registry("generator"), spec, weights) is None
    with pytest.raises(CheckpointError, match="do not fit"):
        load_network({**state, "networks": {"generator": weights}}, "generator")
