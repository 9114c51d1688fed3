"""``[train] compile = true`` / ``gst train --compile``: the same steps and checkpoints as eager."""

from __future__ import annotations

import pytest
import torch

from gst_core.apply.compiled import cpu_compiler, is_compiled
from gst_core.checkpoint import load_checkpoint
from gst_core.training import Trainer

from .helpers import make_objective, network_weights

FAST = {"batch_size": 8, "progress": False, "log_every": 1, "sample_every": 0}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(cpu_compiler() is None, reason="torch.compile on a CPU needs g++"),
]


def _run(tmp_path, shapes16, name, steps, compile_, resume=None):
    config = {**FAST, "steps": steps, "run_dir": str(tmp_path / name), "compile": compile_}
    trainer = Trainer(make_objective(seed=3 if resume else 0), shapes16, config)
    return trainer.fit(resume=resume) if resume else trainer.fit()


def test_compiled_steps_match_eager_and_checkpoints_interchange(tmp_path, shapes16):
    eager = _run(tmp_path, shapes16, "eager", 3, False)
    compiled = _run(tmp_path, shapes16, "compiled", 3, True)
    assert all(is_compiled(net) for net in compiled.networks.values())
    assert not any(is_compiled(net) for net in eager.networks.values())
    a, b = network_weights(eager), network_weights(compiled)
    assert a.keys() == b.keys()  # no _orig_mod. prefixes: the checkpoints are interchangeable
    for key in a:
        # Inductor fuses and reorders float32 arithmetic: equal up to its rounding.
        assert torch.allclose(a[key], b[key], rtol=1e-3, atol=1e-5), key
    saved = load_checkpoint(tmp_path / "compiled")
    assert set(saved["networks"]["generator"]) == {
        k.split(".", 1)[1] for k in a if k.startswith("generator.")
    }
    # A compiled run's checkpoint resumes eagerly, and on to the same weights as eager.
    resumed = _run(tmp_path, shapes16, "compiled", 5, False, resume=tmp_path / "compiled")
    whole = _run(tmp_path, shapes16, "whole", 5, False)
    assert resumed.step == 5
    for key, value in network_weights(whole).items():
        assert torch.allclose(value, network_weights(resumed)[key], rtol=1e-3, atol=1e-5), key
