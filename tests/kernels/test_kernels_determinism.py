"""``torch.use_deterministic_algorithms(True)``: the Triton path adds in a fixed order.

The interpreter runs programs one after another, so it cannot show a race; what
it can show is which kernels the launchers pick. Under deterministic mode no
launch may add with atomics (a GPU adds those in completion order), and the
results must be bit-identical run to run and the Gram exactly symmetric.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from kernel_helpers import (
    TRITON_DEVICE,
    deterministic,
    gram64,
    rel_err,
    requires_triton,
    style_grad64,
)

from gst_kernels import gram, multi_style_loss, style_loss

pytestmark = requires_triton
DEV = TRITON_DEVICE


class _Spy:
    """Stands in for a ``@triton.jit`` kernel: records each launch's grid and constexprs."""

    def __init__(self, kernel, run: bool = True) -> None:
        self.kernel, self.run, self.launches = kernel, run, []

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            self.launches.append((tuple(grid), kwargs))
            if self.run:
                return self.kernel[grid](*args, **kwargs)
            return None

        return launch


@contextlib.contextmanager
def _spied(monkeypatch, run: bool = True):
    from gst_kernels import triton_impl as ti

    spies = {}
    for name in ("_gram_kernel", "_combine_kernel", "_sym_matmul_kernel"):
        spies[name] = _Spy(getattr(ti, name), run)
        monkeypatch.setattr(ti, name, spies[name])
    yield spies


def _atomic_launches(spies) -> list:
    """Launches that add with fp32 atomics (a GPU adds those in completion order)."""
    return [
        (name, grid, kw)
        for name, spy in spies.items()
        for grid, kw in spy.launches
        if kw.get("USE_ATOMIC")
    ]


def test_split_gram_is_bit_identical_and_symmetric_without_atomics(monkeypatch) -> None:
    from gst_kernels.triton_impl import gram_config

    x = torch.randn(2, 37, 300, device=DEV)
    assert gram_config(x)["split"] > 1  # the default splits this reduction
    assert gram_config(x, deterministic=True)["split"] > 1  # so does deterministic mode
    with deterministic(), _spied(monkeypatch) as spies:
        g1 = gram(x, backend="triton", allow_tf32=False)
        g2 = gram(x, backend="triton", allow_tf32=False)
    assert _atomic_launches(spies) == []
    assert torch.equal(g1, g2)
    assert torch.equal(g1, g1.transpose(1, 2))  # exactly symmetric
    assert rel_err(g1, gram64(x)) < 1e-5


@pytest.mark.parametrize("grad", [True, False])
def test_losses_add_without_atomics(monkeypatch, grad: bool) -> None:
    xs = [torch.randn(2, 37, 300, device=DEV), torch.randn(1, 20, 7, 9, device=DEV)]
    ts = [torch.randn(37, 37, device=DEV), torch.randn(1, 20, 20, device=DEV)]
    xgs = [x.clone().requires_grad_(grad) for x in xs]
    with deterministic(), _spied(monkeypatch) as spies:
        loss = multi_style_loss(xgs, ts, [1.0, 0.5], backend="triton", allow_tf32=False)
        again = multi_style_loss(xgs, ts, [1.0, 0.5], backend="triton", allow_tf32=False)
        one = style_loss(xgs[0], ts[0], backend="triton", allow_tf32=False)
        if grad:
            loss.backward()
    assert _atomic_launches(spies) == []
    assert torch.equal(loss, again)
    want = ((gram64(xs[0]) - ts[0].double()) ** 2).mean() + 0.5 * (
        (gram64(xs[1]) - ts[1].double()) ** 2
    ).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    if grad:  # D from the combined partials feeds the backward
        for w, x, t, xg in zip((1.0, 0.5), xs, ts, xgs, strict=True):
            assert rel_err(xg.grad, w * style_grad64(x, t)) < 1e-4
    assert one.item() == pytest.approx(
        ((gram64(xs[0]) - ts[0].double()) ** 2).mean().item(), rel=1e-5
    )


def test_default_mode_still_splits_with_atomics(monkeypatch) -> None:
    """The fast path is unchanged outside deterministic mode."""
    x = torch.randn(2, 37, 300, device=DEV)
    with _spied(monkeypatch) as spies:
        gram(x, backend="triton", allow_tf32=False)
    assert [kw["USE_ATOMIC"] for _, kw in spies["_gram_kernel"].launches] == [True]
