"""``--compile``: torch.compile of a generator agrees with eager; where it cannot, eager + a line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

import gst_core.apply.compiled as compiled
from gst_core.apply.compiled import CompileWarning, compile_generator, cpu_compiler
from gst_core.cli import main
from gst_core.kinds import registry

#: Inductor's CPU code reorders float sums: measured 6e-7..8e-7 on this small net's [-1, 1]
#: outputs, 1.8e-5 for resnet_9blocks and 7.6e-6 for transformer_net at 256²
#: (benchmarks/results/apply_compile_cpu.json).
TOLERANCE = 1e-4


def photo_batch(side: int = 32) -> torch.Tensor:
    crops = [data.rocket()[:side, :side], data.coffee()[:side, :side]]
    return torch.stack([torch.from_numpy(c).permute(2, 0, 1).float() / 127.5 - 1 for c in crops])


def small_generator() -> torch.nn.Module:
    torch.manual_seed(0)
    return registry("generator").build({"name": "resnet", "n_blocks": 1, "width": 4}).eval()


@pytest.mark.slow
@pytest.mark.skipif(cpu_compiler() is None, reason="torch.compile on a CPU needs a C++ compiler")
def test_compiled_generator_agrees_with_eager():
    generator, x = small_generator(), photo_batch()
    with torch.inference_mode():
        eager = generator(x)
        compile_generator(generator)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = generator(x)
    assert not [w for w in caught if issubclass(w.category, CompileWarning)]
    assert generator.forward.compiled is not None  # compiled, not fallen back to eager
    assert out.shape == eager.shape
    assert float((out - eager).abs().max()) <= TOLERANCE


def test_a_failed_compile_runs_eagerly_with_one_warning(monkeypatch):
    def broken_compile(fn):
        def run(*args, **kwargs):
            raise RuntimeError("inductor: C++ compile failed\nlong log ...")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    generator, x = small_generator(), photo_batch()
    with torch.inference_mode():
        eager = generator(x)
        compile_generator(generator)
        with pytest.warns(CompileWarning, match="failed .RuntimeError: inductor: C.. compile"):
            first = generator(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once, not per image
            second = generator(x)
    assert torch.equal(first, eager) and torch.equal(second, eager)


def test_no_cpu_compiler_means_eager_and_a_line_saying_so(monkeypatch):
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    generator = small_generator()
    forward = generator.forward
    with pytest.warns(CompileWarning, match="no C.. compiler .g... found"):
        assert compile_generator(generator) is generator
    assert generator.forward == forward


def test_translate_and_stylize_model_take_compile(tmp_path, cyclegan_run, monkeypatch, capsys):
    calls = []

    def recording_compile(fn):
        calls.append(fn)
        return fn  # eager, but through the --compile path

    monkeypatch.setattr(torch, "compile", recording_compile)
    monkeypatch.setattr(compiled, "cpu_compiler", lambda: "/usr/bin/g++")
    photo = tmp_path / "photo.png"
    Image.fromarray(data.rocket()[:40, :48]).save(photo)
    base = [str(cyclegan_run), str(photo), "--threads", "1"]
    assert main(["translate", *base[:2], "-o", str(tmp_path / "a"), "--compile"]) == 0
    assert main(["translate", *base[:2], "-o", str(tmp_path / "b")]) == 0
    assert len(calls) == 1
    a = np.asarray(Image.open(tmp_path / "a" / "photo.png"))
    assert np.array_equal(a, np.asarray(Image.open(tmp_path / "b" / "photo.png")))
    assert main(["stylize", "--model", *base[:2], "-o", str(tmp_path / "c"), "--compile"]) == 0
    assert len(calls) == 2
    # No compiler: the command still works, with the one line on stderr.
    monkeypatch.setattr(compiled, "cpu_compiler", lambda: None)
    capsys.readouterr()
    assert main(["stylize", "--model", *base[:2], "-o", str(tmp_path / "d"), "--compile"]) == 0
    err = capsys.readouterr().err
    assert "gst: warning: --compile: no C++ compiler" in err and "Warning:" not in err
    assert main(["translate", *base[:2], "-o", str(tmp_path / "e"), "--compile"]) == 0
    assert "gst: warning: --compile: no C++ compiler" in capsys.readouterr().out
