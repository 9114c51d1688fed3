"""Triton kernels for the Gram matrix, the style loss and their backward.

Imported lazily (only when the Triton backend runs), so ``import gst_kernels``
works without Triton. Under ``TRITON_INTERPRET=1`` the same kernels run on CPU
tensors; that is how the CI tests them.

Kernels:

* ``_gram_kernel``: one program per (upper-triangular C-tile pair, sample,
  K-split). Only tiles with ``ti <= tj`` are computed; each off-diagonal tile
  is written twice (as itself and mirrored), so the products cost half of a
  full ``F·Fᵀ``; a diagonal tile loads its rows once and uses them as both
  operands. The long ``N = H·W`` reduction is split over programs so a
  small C (64 channels at relu1_1 = one tile) still fills the GPU; partial
  tiles are combined with fp32 atomic adds. Accumulation is fp32 whatever the
  input dtype. With ``LOSS`` set (forward-only style loss, no split) it never
  writes G: each program squares its finished tile minus the target and adds
  it to the loss.
* ``_diff_loss_kernel``: ``D = G − T`` in place of G (G itself is not needed
  again) and ``w·mean(D²)`` atomically added into one scalar. Several layers
  add into the same scalar, so a multi-layer loss needs no extra sum.
* ``_sym_matmul_kernel``: ``dF = scale·(S + Sᵀ)·F``, the backward of every op
  (``S = dG`` for the Gram, ``S = D`` for the loss). The transpose is a second,
  transposed load of the small, cache-resident S; the loss gradient is read
  from memory, so backward never syncs with the host.

Launch configurations come from a heuristic, not ``triton.autotune``:
autotune with several configs does not run without a GPU driver, and this
code was written on a machine without a GPU (tuning on an H100 is open).
"""

from __future__ import annotations

import contextlib
import functools
import math

import torch
import triton
import triton.language as tl
from torch.autograd.function import once_differentiable

from .backend import interpreter_enabled

__all__ = ["TritonGram", "TritonMultiStyleLoss", "gram_config"]


@triton.jit
def _gram_kernel(
    f_ptr,
    g_ptr,
    t_ptr,
    loss_ptr,
    tiles_ptr,
    C,
    N,
    stride_fb,
    stride_fc,
    stride_fn,
    stride_tb,
    k_per_split,
    scale,
    loss_weight,
    BLOCK_C: tl.constexpr,
    BLOCK_K: tl.constexpr,
    USE_ATOMIC: tl.constexpr,
    LOSS: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,
):
    pid_t = tl.program_id(0)
    b = tl.program_id(1).to(tl.int64)
    pid_k = tl.program_id(2)
    ti = tl.load(tiles_ptr + 2 * pid_t)
    tj = tl.load(tiles_ptr + 2 * pid_t + 1)
    rm = ti * BLOCK_C + tl.arange(0, BLOCK_C)
    rn = tj * BLOCK_C + tl.arange(0, BLOCK_C)
    rk = tl.arange(0, BLOCK_K)
    k_start = pid_k * k_per_split
    k_end = tl.minimum(k_start + k_per_split, N)

    base = f_ptr + b * stride_fb
    a_ptrs = (
        base + rm[:, None] * stride_fc + (k_start + rk)[None, :] * stride_fn
    )  # (BLOCK_C, BLOCK_K)
    b_ptrs = (
        base + rn[None, :] * stride_fc + (k_start + rk)[:, None] * stride_fn
    )  # (BLOCK_K, BLOCK_C)
    acc = tl.zeros((BLOCK_C, BLOCK_C), dtype=tl.float32)
    if ti == tj:
        # diagonal tile: both operands are the same rows, so load them once
        # (half the traffic; at relu1_1, C = 64, this is the only tile)
        for k in range(k_start, k_end, BLOCK_K):
            kk = k + rk
            a = tl.load(a_ptrs, mask=(rm[:, None] < C) & (kk[None, :] < k_end), other=0.0)
            acc = tl.dot(a, tl.trans(a), acc, input_precision=INPUT_PRECISION)
            a_ptrs += BLOCK_K * stride_fn
    else:
        for k in range(k_start, k_end, BLOCK_K):
            kk = k + rk
            a = tl.load(a_ptrs, mask=(rm[:, None] < C) & (kk[None, :] < k_end), other=0.0)
            bt = tl.load(b_ptrs, mask=(rn[None, :] < C) & (kk[:, None] < k_end), other=0.0)
            acc = tl.dot(a, bt, acc, input_precision=INPUT_PRECISION)
            a_ptrs += BLOCK_K * stride_fn
            b_ptrs += BLOCK_K * stride_fn
    acc = acc * scale

    mask = (rm[:, None] < C) & (rn[None, :] < C)
    upper = rm[:, None] * C + rn[None, :]  # G[rm, rn]
    mirror = rn[None, :] * C + rm[:, None]  # G[rn, rm], holding the same values
    if LOSS:
        t_base = t_ptr + b * stride_tb
        d = tl.where(mask, acc - tl.load(t_base + upper, mask=mask, other=0.0).to(tl.float32), 0.0)
        part = tl.sum(tl.sum(d * d, axis=1), axis=0)
        if ti != tj:
            e = tl.where(
                mask, acc - tl.load(t_base + mirror, mask=mask, other=0.0).to(tl.float32), 0.0
            )
            part += tl.sum(tl.sum(e * e, axis=1), axis=0)
        tl.atomic_add(loss_ptr, part * loss_weight)
    else:
        g_base = g_ptr + b * C * C
        if USE_ATOMIC:
            tl.atomic_add(g_base + upper, acc, mask=mask)
            if ti != tj:
                tl.atomic_add(g_base + mirror, acc, mask=mask)
        else:
            tl.store(g_base + upper, acc, mask=mask)
            if ti != tj:
                tl.store(g_base + mirror, acc, mask=mask)


@triton.jit
def _diff_loss_kernel(
    g_ptr, t_ptr, loss_ptr, total, CC, stride_tb, loss_weight, BLOCK: tl.constexpr
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < total
    t_offs = (offs // CC) * stride_tb + offs % CC
    g = tl.load(g_ptr + offs, mask=mask, other=0.0)
    t = tl.load(t_ptr + t_offs, mask=mask, other=0.0).to(tl.float32)
    d = tl.where(mask, g - t, 0.0)
    tl.store(g_ptr + offs, d, mask=mask)
    tl.atomic_add(loss_ptr, tl.sum(d * d, axis=0) * loss_weight)


@triton.jit
def _sym_matmul_kernel(
    s_ptr,
    f_ptr,
    out_ptr,
    gscale_ptr,
    C,
    N,
    stride_fb,
    stride_fc,
    stride_fn,
    scale,
    HAS_GSCALE: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,
):
    # The C-blocks of one N-block are neighbours in launch order: they read the
    # same F columns, which then come from L2 rather than DRAM. One flat axis,
    # because grid axes 1 and 2 stop at 65535 (N/BLOCK_N exceeds it at 4096²).
    num_m = tl.cdiv(C, BLOCK_M)
    pid_m = tl.program_id(0) % num_m
    pid_n = tl.program_id(0) // num_m
    b = tl.program_id(1).to(tl.int64)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    s_base = s_ptr + b * C * C
    f_base = f_ptr + b * stride_fb
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, C, BLOCK_K):
        kk = k + rk
        sm = (rm[:, None] < C) & (kk[None, :] < C)
        s = tl.load(s_base + rm[:, None] * C + kk[None, :], mask=sm, other=0.0)
        s += tl.load(s_base + kk[None, :] * C + rm[:, None], mask=sm, other=0.0)  # + Sᵀ
        fm = (kk[:, None] < C) & (rn[None, :] < N)
        f = tl.load(f_base + kk[:, None] * stride_fc + rn[None, :] * stride_fn, mask=fm, other=0.0)
        acc = tl.dot(s, f.to(tl.float32), acc, input_precision=INPUT_PRECISION)
    acc = acc * scale
    if HAS_GSCALE:
        acc = acc * tl.load(gscale_ptr).to(tl.float32)
    om = (rm[:, None] < C) & (rn[None, :] < N)
    tl.store(
        out_ptr + b * C * N + rm[:, None] * N + rn[None, :],
        acc.to(out_ptr.dtype.element_ty),
        mask=om,
    )


# ---------------------------------------------------------------- launchers


@functools.lru_cache(maxsize=64)
def _upper_tiles(num_tiles: int, device: torch.device) -> torch.Tensor:
    """The (ti, tj) pairs with ti <= tj, as an int32 table on ``device``."""
    pairs = [(i, j) for i in range(num_tiles) for j in range(i, num_tiles)]
    return torch.tensor(pairs, dtype=torch.int32, device=device).reshape(-1)


@functools.lru_cache(maxsize=8)
def _num_sms(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 4  # interpreter: a few programs, enough to exercise the split path


def _on(device: torch.device) -> contextlib.AbstractContextManager:
    """Launch on the tensor's GPU, not the current one (multi-GPU processes)."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def _pow2_at_least(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, triton.next_power_of_2(x)))


def gram_config(
    f: torch.Tensor,
    *,
    block_c: int | None = None,
    block_k: int | None = None,
    split: int | None = None,
) -> dict[str, int]:
    """Tile sizes, K-split and warps for the Gram kernel on ``f`` of shape (B, C, N).

    Heuristic, untuned on hardware: 128×128 C-tiles for C ≥ 256 (twice the
    reuse per load where the product is compute-bound), 16–64 below (tl.dot
    needs ≥ 16 in every dimension), and enough K-splits for about two programs
    per SM, each split keeping at least four K-blocks so the atomics stay rare.
    Compiled for sm_90 with triton 3.7.1 as the JIT specialises contiguous
    aligned inputs (tests/kernels/sm90_compile.py): 128-tiles at 8 warps use
    182 registers, 64-tiles at 4 warps 88–104, no spills, ≤ 96 KiB shared memory.
    """
    b, c, n = f.shape
    bc = block_c or (128 if c >= 256 else _pow2_at_least(c, 16, 64))
    bk = block_k or (32 if bc == 128 and f.dtype == torch.float32 else 64)
    tiles = triton.cdiv(c, bc)
    n_tiles = tiles * (tiles + 1) // 2
    if split is None:
        min_blocks = 1 if f.device.type != "cuda" else 4
        want = math.ceil(2 * _num_sms(f.device) / (n_tiles * b))
        split = max(1, min(want, triton.cdiv(n, bk * min_blocks)))
    k_per_split = triton.cdiv(triton.cdiv(n, split), bk) * bk
    split = triton.cdiv(n, k_per_split)
    return {
        "block_c": bc,
        "block_k": bk,
        "tiles": tiles,
        "n_tiles": n_tiles,
        "split": split,
        "k_per_split": k_per_split,
        "num_warps": 8 if bc == 128 else 4,
        "num_stages": 3,
    }


def _precision(allow_tf32: bool) -> str:
    return "tf32" if allow_tf32 else "ieee"


def launch_gram(
    f: torch.Tensor,
    allow_tf32: bool,
    *,
    out: torch.Tensor | None = None,
    target: torch.Tensor | None = None,
    loss: torch.Tensor | None = None,
    loss_weight: float = 0.0,
    **cfg_overrides: int,
) -> torch.Tensor | None:
    """Gram of ``f`` (B, C, N) into ``out`` (B, C, C) fp32, or, with ``target`` and
    ``loss``, ``loss += loss_weight · Σ (G − T)²`` without writing G (only when unsplit).

    ``out`` must be zero-filled when the config splits K (atomics add into it).
    """
    b, c, n = f.shape
    cfg = gram_config(f, **cfg_overrides)
    fused = target is not None
    if fused and cfg["split"] != 1:
        raise ValueError("the fused Gram-loss kernel needs an unsplit reduction (split=1)")
    if out is None and not fused:
        alloc = torch.zeros if cfg["split"] > 1 else torch.empty
        out = alloc(b, c, c, dtype=torch.float32, device=f.device)
    tiles = _upper_tiles(cfg["tiles"], f.device)
    grid = (cfg["n_tiles"], b, cfg["split"])
    dummy = tiles  # unused pointer arguments still need a tensor
    with _on(f.device):
        _gram_kernel[grid](
            f,
            out if out is not None else dummy,
            target if fused else dummy,
            loss if fused else dummy,
            tiles,
            c,
            n,
            f.stride(0),
            f.stride(1),
            f.stride(2),
            (target.stride(0) if fused and target.dim() == 3 else 0),
            cfg["k_per_split"],
            1.0 / (c * n),
            loss_weight,
            BLOCK_C=cfg["block_c"],
            BLOCK_K=cfg["block_k"],
            USE_ATOMIC=cfg["split"] > 1,
            LOSS=fused,
            INPUT_PRECISION=_precision(allow_tf32),
            num_warps=cfg["num_warps"],
            num_stages=cfg["num_stages"],
        )
    return out


def launch_diff_loss(
    g: torch.Tensor, target: torch.Tensor, loss: torch.Tensor, weight: float
) -> None:
    """``g ← g − target`` in place and ``loss += weight · mean((g − target)²)``."""
    b, c, _ = g.shape
    total = g.numel()
    block = DIFF_BLOCK
    with _on(g.device):
        _diff_loss_kernel[(triton.cdiv(total, block),)](
            g,
            target,
            loss,
            total,
            c * c,
            (c * c if target.dim() == 3 else 0),
            weight / total,
            BLOCK=block,
        )


DIFF_BLOCK = 1024


def sym_matmul_config(c: int, *, interpreted: bool) -> tuple[int, int, int, int]:
    """(BLOCK_M, BLOCK_N, BLOCK_K, num_warps) of the backward product for C channels.

    sm_90 / triton 3.7.1 ptxas (tests/kernels/sm90_compile.py): 64×128 tiles with
    BLOCK_K=32 at 8 warps use about 120 registers, no spills, ≤ 80 KiB shared
    memory. The interpreter gets narrower N-tiles so small test shapes still
    cover several of them.
    """
    bm = _pow2_at_least(c, 16, 64)
    return bm, 64 if interpreted else 128, _pow2_at_least(c, 16, 32), 4 if bm < 64 else 8


def launch_sym_matmul(
    s: torch.Tensor,
    f: torch.Tensor,
    scale: float,
    allow_tf32: bool,
    gscale: torch.Tensor | None = None,
) -> torch.Tensor:
    """``scale · gscale · (S + Sᵀ) · F`` per sample, as a contiguous tensor of ``f``'s dtype."""
    b, c, n = f.shape
    out = torch.empty(b, c, n, dtype=f.dtype, device=f.device)
    bm, bn, bk, num_warps = sym_matmul_config(c, interpreted=interpreter_enabled())
    grid = (triton.cdiv(c, bm) * triton.cdiv(n, bn), b)
    with _on(f.device):
        _sym_matmul_kernel[grid](
            s,
            f,
            out,
            gscale if gscale is not None else s,
            c,
            n,
            f.stride(0),
            f.stride(1),
            f.stride(2),
            scale,
            HAS_GSCALE=gscale is not None,
            BLOCK_M=bm,
            BLOCK_N=bn,
            BLOCK_K=bk,
            INPUT_PRECISION=_precision(allow_tf32),
            num_warps=num_warps,
            num_stages=3,
        )
    return out


# ---------------------------------------------------------------- autograd


class TritonGram(torch.autograd.Function):
    @staticmethod
    def forward(ctx, f: torch.Tensor, allow_tf32: bool) -> torch.Tensor:  # type: ignore[override]
        ctx.allow_tf32 = allow_tf32
        ctx.save_for_backward(f)
        return launch_gram(f, allow_tf32)

    @staticmethod
    @once_differentiable
    def backward(ctx, dg: torch.Tensor):  # type: ignore[override]
        (f,) = ctx.saved_tensors
        _, c, n = f.shape
        df = launch_sym_matmul(dg.float().contiguous(), f, 1.0 / (c * n), ctx.allow_tf32)
        return df, None


class TritonMultiStyleLoss(torch.autograd.Function):
    """``Σ_i w_i · mean((G_i − T_i)²)`` over layers, accumulated into one scalar.

    Forward per layer: with a gradient needed, the Gram kernel writes G into a
    slice of one shared buffer (one memset for all layers), then the
    diff-loss kernel turns it into ``D = G − T`` and adds the loss. Without a
    gradient and an unsplit reduction, the fused kernel adds the loss straight
    from registers and writes no G. Backward: one ``_sym_matmul`` launch per layer.
    Saved: the inputs (no copies) and D (Σ B·C_i² floats).
    """

    @staticmethod
    def forward(ctx, weights: tuple[float, ...], allow_tf32: bool, *tensors: torch.Tensor):  # type: ignore[override]
        layers = len(weights)
        feats, targets = tensors[:layers], tensors[layers:]
        device = feats[0].device
        need_grad = any(ctx.needs_input_grad[2:])
        cfgs = [gram_config(f) for f in feats]
        fuse = [not need_grad and cfg["split"] == 1 for cfg in cfgs]
        sizes = [
            0 if fz else f.shape[0] * f.shape[1] ** 2 for f, fz in zip(feats, fuse, strict=True)
        ]
        # one allocation: every layer's G, then the loss scalar at the end
        buf = torch.zeros(sum(sizes) + 1, dtype=torch.float32, device=device)
        loss = buf[-1:]
        diffs: list[torch.Tensor | None] = []
        offset = 0
        for f, t, w, fz, size in zip(feats, targets, weights, fuse, sizes, strict=True):
            b, c, _ = f.shape
            t = t.contiguous()
            if fz:
                launch_gram(
                    f, allow_tf32, target=t, loss=loss, loss_weight=w / (b * c * c), split=1
                )
                diffs.append(None)
                continue
            g = buf[offset : offset + size].view(b, c, c)
            offset += size
            launch_gram(f, allow_tf32, out=g)
            launch_diff_loss(g, t, loss, w)
            diffs.append(g)
        ctx.weights = weights
        ctx.allow_tf32 = allow_tf32
        ctx.target_meta = [(t.shape, t.dtype) for t in targets]
        ctx.save_for_backward(*feats, *[d if d is not None else buf[:0] for d in diffs])
        return loss.reshape(())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        layers = len(ctx.weights)
        saved = ctx.saved_tensors
        feats, diffs = saved[:layers], saved[layers:]
        grad = grad.float().reshape(1).contiguous()
        dfs: list[torch.Tensor | None] = []
        dts: list[torch.Tensor | None] = []
        for i, (f, d, w) in enumerate(zip(feats, diffs, ctx.weights, strict=True)):
            b, c, n = f.shape
            k = 2.0 * w / (b * c * c)  # d(w·mean(D²))/dD
            dfs.append(
                launch_sym_matmul(d, f, k / (c * n), ctx.allow_tf32, gscale=grad)
                if ctx.needs_input_grad[2 + i]
                else None
            )
            if ctx.needs_input_grad[2 + layers + i]:
                shape, dtype = ctx.target_meta[i]
                dt = d * (-k * grad)
                dts.append((dt.sum(0) if len(shape) == 2 else dt).to(dtype))
            else:
                dts.append(None)
        return (None, None, *dfs, *dts)
