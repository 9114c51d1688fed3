"""The fused optimiser update: on by default where torch has one, interchangeable on resume."""

from __future__ import annotations

import pytest
import torch

from gst_core.training import Trainer
from gst_core.training.optimizer_impl import implementation_kwargs

from .helpers import make_objective, network_weights

FAST = {"batch_size": 16, "progress": False, "log_every": 1, "sample_every": 0}
# [train.optimizer] replaces the default spec as a whole, so the loop's spec repeats it.
LOOP = {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999], "fused": False}


def _run(tmp_path, shapes16, name, steps, optimizer=None, resume=None, seed=0):
    config = {**FAST, "steps": steps, "run_dir": str(tmp_path / name)}
    if optimizer is not None:
        config["optimizer"] = optimizer
    trainer = Trainer(make_objective(seed=seed), shapes16, config)
    return trainer.fit(resume=resume) if resume else trainer.fit()


def _implementations(trainer):
    return {
        name: (opt.param_groups[0].get("fused"), opt.param_groups[0].get("foreach"))
        for name, opt in trainer.optimizers.items()
    }


def test_the_choice_follows_the_class_the_device_and_the_run_settings():
    cpu, meta = torch.device("cpu"), torch.device("meta")
    assert implementation_kwargs(torch.optim.Adam, {}, cpu) == {"fused": True}
    assert implementation_kwargs(torch.optim.SGD, {"lr": 0.1}, cpu) == {"fused": True}
    assert implementation_kwargs(torch.optim.RMSprop, {}, cpu) == {}  # torch has no fused one
    assert implementation_kwargs(torch.optim.Adam, {"fused": False}, cpu) == {}
    assert implementation_kwargs(torch.optim.Adam, {"foreach": True}, cpu) == {}
    assert implementation_kwargs(torch.optim.Adam, {}, meta) == {}
    # Not measured on a GPU: CUDA keeps torch's own default.
    assert implementation_kwargs(torch.optim.Adam, {}, torch.device("cuda")) == {}


def test_fused_by_default_equals_the_loop_within_float32_rounding(tmp_path, shapes16):
    fused = _run(tmp_path, shapes16, "fused", 4)
    loop = _run(tmp_path, shapes16, "loop", 4, optimizer=LOOP)
    assert set(_implementations(fused).values()) == {(True, None)}
    assert set(_implementations(loop).values()) == {(False, None)}
    a, b = network_weights(fused), network_weights(loop)
    changed = False
    for key in a:
        assert torch.allclose(a[key].double(), b[key].double(), rtol=1e-4, atol=1e-6), key
        changed |= not torch.equal(a[key], b[key])
    # Not the same code path under another name: the kernels round differently somewhere.
    assert changed
    # The implementation is not a recorded hyper-parameter of the default run.
    assert "fused" not in fused.config.as_dict().get("optimizer", {})


@pytest.mark.parametrize(("first", "second"), [(None, LOOP), (LOOP, None)])
def test_a_checkpoint_resumes_with_the_other_implementation(tmp_path, shapes16, first, second):
    _run(tmp_path, shapes16, "split", 2, optimizer=first)
    resumed = _run(
        tmp_path, shapes16, "split", 4, optimizer=second, resume=tmp_path / "split", seed=9
    )
    assert resumed.step == 4
    wanted = (False, None) if second else (True, None)
    assert set(_implementations(resumed).values()) == {wanted}
    # Same steps as an uninterrupted run with that implementation, up to float32 rounding.
    whole = _run(tmp_path, shapes16, "whole", 4, optimizer=second)
    a, b = network_weights(whole), network_weights(resumed)
    for key in a:
        assert torch.allclose(a[key].double(), b[key].double(), rtol=1e-4, atol=1e-6), key
