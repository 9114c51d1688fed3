"""Triton kernels for the Gram matrix, the style loss and their backward.

Imported lazily (only when the Triton backend runs), so ``import gst_kernels``
works without Triton. Under ``TRITON_INTERPRET=1`` the same kernels run on CPU
tensors; that is how the CI tests them.

Kernels:

* ``_gram_kernel``: one program per (upper-triangular C-tile pair, sample,
  K-split); samples and tiles share grid axis 0 (axis 1, the K-split, stops
  at 65535). Only tiles with ``ti <= tj`` are computed; each off-diagonal tile
  is written twice (as itself and mirrored), so the products cost half of a
  full ``F·Fᵀ``; a diagonal tile loads its rows once and uses them as both
  operands. The long ``N = H·W`` reduction is split over programs so a
  small C (64 channels at relu1_1 = one tile) still fills the GPU; partial
  tiles are combined with fp32 atomic adds, or, under
  ``torch.use_deterministic_algorithms(True)``, written to per-split slabs
  that ``_combine_kernel`` sums in a fixed order. Accumulation is fp32 whatever
  the input dtype. With ``LOSS`` set (forward-only style loss, no split) it
  never writes G: each program squares its finished tile minus the target and
  stores its share of the loss in its own slot.
* ``_combine_kernel``: G = Σ of the split partials in a fixed order (or G
  itself), optionally ``D = G − T`` in place of G (G itself is not needed
  again) and each program's share of ``w·mean(D²)`` in its own slot. The loss
  is a fixed-order sum of all layers' slots: no atomics on the loss.
* ``_sym_matmul_kernel``: ``dF = scale·(S + Sᵀ)·F``, the backward of every op
  (``S = dG`` for the Gram, ``S = D`` for the loss), written in F's layout.
  The transpose is a second, transposed load of the small, cache-resident S;
  the loss gradient is read from memory, so backward never syncs with the host.

Offsets within a sample are int32 unless they can reach 2³¹ (``INT64``).

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
    n_tiles,
    C,
    N,
    stride_fb,
    stride_fc,
    stride_fn,
    stride_tb,
    stride_gs,
    k_per_split,
    scale,
    loss_weight,
    BLOCK_C: tl.constexpr,
    BLOCK_K: tl.constexpr,
    USE_ATOMIC: tl.constexpr,
    LOSS: tl.constexpr,
    INT64: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,
):
    # Samples and tiles share the flat axis 0 (up to 2³¹ − 1 programs): axis 1 stops
    # at 65535, which a Gram per image patch exceeds. The tiles of one sample are
    # neighbours in launch order. Axis 1 is the K-split (at most 65535, see gram_config).
    pid = tl.program_id(0)
    pid_t = pid % n_tiles
    b = (pid // n_tiles).to(tl.int64)
    pid_k = tl.program_id(1)
    ti = tl.load(tiles_ptr + 2 * pid_t)
    tj = tl.load(tiles_ptr + 2 * pid_t + 1)
    rm = ti * BLOCK_C + tl.arange(0, BLOCK_C)
    rn = tj * BLOCK_C + tl.arange(0, BLOCK_C)
    rk = tl.arange(0, BLOCK_K)
    k_start = pid_k * k_per_split
    k_end = tl.minimum(k_start + k_per_split, N)

    # Offsets within a sample are int32 unless they can reach 2³¹ (INT64, chosen by
    # the launcher from the strides): int64 index arithmetic costs registers on
    # every address. The batch offset b·stride_fb is always int64.
    if INT64:
        om = rm.to(tl.int64)
        on = rn.to(tl.int64)
    else:
        om = rm
        on = rn
    base = f_ptr + b * stride_fb
    acc = tl.zeros((BLOCK_C, BLOCK_C), dtype=tl.float32)
    if ti == tj:
        # diagonal tile: both operands are the same rows, so load them once
        # (half the traffic; at relu1_1, C = 64, this is the only tile)
        for k in range(k_start, k_end, BLOCK_K):
            kk = k + rk
            ok = kk.to(tl.int64) if INT64 else kk
            a = tl.load(
                base + om[:, None] * stride_fc + ok[None, :] * stride_fn,
                mask=(rm[:, None] < C) & (kk[None, :] < k_end),
                other=0.0,
            )
            acc = tl.dot(a, tl.trans(a), acc, input_precision=INPUT_PRECISION)
    else:
        for k in range(k_start, k_end, BLOCK_K):
            kk = k + rk
            ok = kk.to(tl.int64) if INT64 else kk
            a = tl.load(
                base + om[:, None] * stride_fc + ok[None, :] * stride_fn,
                mask=(rm[:, None] < C) & (kk[None, :] < k_end),
                other=0.0,
            )
            bt = tl.load(
                base + on[None, :] * stride_fc + ok[:, None] * stride_fn,
                mask=(rn[None, :] < C) & (kk[:, None] < k_end),
                other=0.0,
            )
            acc = tl.dot(a, bt, acc, input_precision=INPUT_PRECISION)
    acc = acc * scale

    mask = (rm[:, None] < C) & (rn[None, :] < C)
    upper = rm[:, None] * C + rn[None, :]  # G[rm, rn]
    mirror = rn[None, :] * C + rm[:, None]  # G[rn, rm], holding the same values
    if LOSS:
        # forward-only, unsplit: this program's share of Σ (G − T)², stored at its own
        # slot (no atomics: the launcher sums the slots in a fixed order)
        t_base = t_ptr + b * stride_tb
        d = tl.where(mask, acc - tl.load(t_base + upper, mask=mask, other=0.0).to(tl.float32), 0.0)
        part = tl.sum(tl.sum(d * d, axis=1), axis=0)
        if ti != tj:
            e = tl.where(
                mask, acc - tl.load(t_base + mirror, mask=mask, other=0.0).to(tl.float32), 0.0
            )
            part += tl.sum(tl.sum(e * e, axis=1), axis=0)
        tl.store(loss_ptr + pid, part * loss_weight)
    else:
        # stride_gs: the K-split's own (B, C, C) slab of partials (deterministic mode),
        # 0 when the splits add atomically into G or there is no split
        g_base = g_ptr + pid_k.to(tl.int64) * stride_gs + b * C * C
        if USE_ATOMIC:
            tl.atomic_add(g_base + upper, acc, mask=mask)
            if ti != tj:
                tl.atomic_add(g_base + mirror, acc, mask=mask)
        else:
            tl.store(g_base + upper, acc, mask=mask)
            if ti != tj:
                tl.store(g_base + mirror, acc, mask=mask)


@triton.jit
def _combine_kernel(
    p_ptr,
    g_ptr,
    t_ptr,
    loss_ptr,
    total,
    splits,
    CC,
    stride_tb,
    loss_weight,
    BLOCK: tl.constexpr,
    LOSS: tl.constexpr,
    INT64: tl.constexpr,
):
    # G = Σ_s P[s] over the K-split partials in the order s = 0, 1, …: the same
    # order for every entry, so G[i, j] and G[j, i] are equal bit for bit and every
    # run gives the same bits. splits = 1 reads G itself (p_ptr = g_ptr).
    # With LOSS: D = G − T into g_ptr and this program's share of w·mean(D²) into
    # its own loss slot.
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < total
    p_ptrs = p_ptr + offs
    g = tl.load(p_ptrs, mask=mask, other=0.0)
    for _ in range(1, splits):
        p_ptrs += total  # pointer arithmetic: 64-bit however many splits
        g += tl.load(p_ptrs, mask=mask, other=0.0)
    if LOSS:
        t_offs = (offs // CC) * stride_tb + offs % CC
        t = tl.load(t_ptr + t_offs, mask=mask, other=0.0).to(tl.float32)
        d = tl.where(mask, g - t, 0.0)
        tl.store(g_ptr + offs, d, mask=mask)
        tl.store(loss_ptr + pid, tl.sum(d * d, axis=0) * loss_weight)
    else:
        tl.store(g_ptr + offs, g, mask=mask)


@triton.jit
def _sym_matmul_kernel(
    s_ptr,
    f_ptr,
    out_ptr,
    gscale_ptr,
    C,
    N,
    num_n,
    stride_fb,
    stride_fc,
    stride_fn,
    stride_ob,
    stride_oc,
    stride_on,
    scale,
    HAS_GSCALE: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    INT64: tl.constexpr,
    SPLIT_S: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,
):
    # One flat axis for (sample, N-block, C-block), C-blocks innermost: the C-blocks
    # of one N-block are neighbours in launch order and read the same F columns,
    # which then come from L2 rather than DRAM. Flat because grid axes 1 and 2 stop
    # at 65535 (N/BLOCK_N exceeds it at 4096², the batch with a Gram per patch).
    num_m = tl.cdiv(C, BLOCK_M)
    pid = tl.program_id(0)
    pid_m = pid % num_m
    pid_n = (pid // num_m) % num_n
    b = (pid // (num_m * num_n)).to(tl.int64)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    if INT64:
        om = rm.to(tl.int64)
        on = rn.to(tl.int64)
    else:
        om = rm
        on = rn
    s_base = s_ptr + b * C * C
    f_base = f_ptr + b * stride_fb
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, C, BLOCK_K):
        kk = k + rk
        sm = (rm[:, None] < C) & (kk[None, :] < C)
        s = tl.load(s_base + rm[:, None] * C + kk[None, :], mask=sm, other=0.0)
        s += tl.load(s_base + kk[None, :] * C + rm[:, None], mask=sm, other=0.0)  # + Sᵀ
        fm = (kk[:, None] < C) & (rn[None, :] < N)
        ok = kk.to(tl.int64) if INT64 else kk
        f = tl.load(f_base + ok[:, None] * stride_fc + on[None, :] * stride_fn, mask=fm, other=0.0)
        f = f.to(tl.float32)
        if SPLIT_S:
            # fp16/bf16 F is exact in tf32, S (fp32) is not: S = S_hi + S_lo with
            # S_hi its top 11 significant bits (exact in tf32) and the rest in S_lo,
            # so two tf32 tensor-core products give about fp32 accuracy (error ≈ 2⁻²¹·|S|)
            s_hi = (s.to(tl.uint32, bitcast=True) & 0xFFFFE000).to(tl.float32, bitcast=True)
            acc = tl.dot(s_hi, f, acc, input_precision="tf32")
            acc = tl.dot(s - s_hi, f, acc, input_precision="tf32")
        else:
            acc = tl.dot(s, f, acc, input_precision=INPUT_PRECISION)
    acc = acc * scale
    if HAS_GSCALE:
        acc = acc * tl.load(gscale_ptr).to(tl.float32)
    om_mask = (rm[:, None] < C) & (rn[None, :] < N)
    tl.store(
        out_ptr + b * stride_ob + om[:, None] * stride_oc + on[None, :] * stride_on,
        acc.to(out_ptr.dtype.element_ty),
        mask=om_mask,
    )


# ---------------------------------------------------------------- launchers

_INT32_LIMIT = 2**31
GRID_AXIS_LIMIT = 65535  # CUDA grid axes 1 and 2 (axis 0 takes up to 2³¹ − 1)


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


def deterministic_mode() -> bool:
    """Whether ``torch.use_deterministic_algorithms(True)`` is in force (warn-only too)."""
    return torch.are_deterministic_algorithms_enabled()


def needs_int64(t: torch.Tensor) -> bool:
    """Whether element offsets within one sample of ``t`` (B, C, N) can reach 2³¹.

    64 channels at about 5800² do, or a batch folded into the channels. (Masked
    lanes of a tile past C or N may wrap in int32; they are never loaded.)
    """
    _, c, n = t.shape
    return (c - 1) * abs(t.stride(1)) + (n - 1) * abs(t.stride(2)) >= _INT32_LIMIT


def _is_half(dtype: torch.dtype) -> bool:
    return dtype in (torch.float16, torch.bfloat16)


def gram_config(
    f: torch.Tensor,
    *,
    allow_tf32: bool = False,
    deterministic: bool = False,
    block_c: int | None = None,
    block_k: int | None = None,
    split: int | None = None,
) -> dict:
    """Tile sizes, K-split and warps for the Gram kernel on ``f`` of shape (B, C, N).

    Heuristic, untuned on hardware: 128×128 C-tiles for C ≥ 256 (twice the
    reuse per load where the product is compute-bound), 16–64 below (tl.dot
    needs ≥ 16 in every dimension), and enough K-splits for about two programs
    per SM, each split keeping at least four K-blocks so the atomics stay rare.
    BLOCK_K per path, so that none spills registers on sm_90 (triton 3.7.1
    ptxas, tests/kernels/sm90_compile.py): tf32 at 128-tiles takes 32, IEEE fp32
    (CUDA-core FMAs, the default: torch's tf32 flag is off) only 16 (at 32 and
    64 it needs 255 registers and spills), fp16/bf16 64.

    ``deterministic`` (``torch.use_deterministic_algorithms``): the splits write
    partial Grams that a second kernel sums in a fixed order instead of adding
    atomically; the split is capped so the partials (split·B·C² floats) stay
    within a quarter of the feature bytes.
    """
    b, c, n = f.shape
    half = _is_half(f.dtype)
    bc = block_c or (128 if c >= 256 else _pow2_at_least(c, 16, 64))
    if block_k:
        bk = block_k
    elif bc < 128 or half:
        bk = 64
    else:
        bk = 32 if allow_tf32 else 16
    tiles = triton.cdiv(c, bc)
    n_tiles = tiles * (tiles + 1) // 2
    if split is None:
        min_blocks = 1 if f.device.type != "cuda" else 4
        want = math.ceil(2 * _num_sms(f.device) / (n_tiles * b))
        split = max(1, min(want, triton.cdiv(n, bk * min_blocks)))
        if deterministic:
            split = min(split, max(1, n * f.element_size() // (16 * c)))
    split = min(split, GRID_AXIS_LIMIT)
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
        "atomic": split > 1 and not deterministic,
        "int64": needs_int64(f),
        "precision": gram_precision(f.dtype, allow_tf32),
    }


def gram_precision(dtype: torch.dtype, allow_tf32: bool) -> str:
    """``tl.dot``'s input precision for the Gram: it only matters for fp32 operands, so
    fp16/bf16 always get one value (one compiled variant, not two identical ones)."""
    return "tf32" if allow_tf32 or _is_half(dtype) else "ieee"


def launch_gram(
    f: torch.Tensor,
    allow_tf32: bool,
    *,
    out: torch.Tensor | None = None,
    target: torch.Tensor | None = None,
    loss: torch.Tensor | None = None,
    loss_weight: float = 0.0,
    deterministic: bool | None = None,
    combine: bool = True,
    **cfg_overrides: int,
) -> torch.Tensor | None:
    """Gram of ``f`` (B, C, N) into ``out`` (B, C, C) fp32; returns ``out``.

    Split across K: by default the splits add with fp32 atomics (``out`` must be
    zero-filled; it is when allocated here); under ``deterministic`` (default:
    ``torch.are_deterministic_algorithms_enabled()``) they write partials that
    ``_combine_kernel`` sums in a fixed order. ``combine=False`` returns those
    partials, (split, B, C, C), uncombined, for a caller that combines them with
    its own target (the loss: one combine launch instead of two).

    With ``target`` and ``loss`` (forward-only fused loss, unsplit only): no G is
    written; program ``p`` stores ``loss_weight · Σ_tile (G − T)²`` in ``loss[p]``
    (``loss`` needs ``n_tiles·B`` slots, see :func:`fused_loss_slots`). Returns None.
    """
    b, c, n = f.shape
    det = deterministic_mode() if deterministic is None else deterministic
    cfg = gram_config(f, allow_tf32=allow_tf32, deterministic=det, **cfg_overrides)
    fused = target is not None
    split = cfg["split"]
    if fused and split != 1:
        raise ValueError("the fused Gram-loss kernel needs an unsplit reduction (split=1)")
    if fused and (loss is None or loss.numel() < cfg["n_tiles"] * b):
        raise ValueError(f"the fused Gram-loss kernel needs {cfg['n_tiles'] * b} loss slots")
    if out is None and not fused:
        alloc = torch.zeros if cfg["atomic"] else torch.empty
        out = alloc(b, c, c, dtype=torch.float32, device=f.device)
    partials = None
    if split > 1 and not cfg["atomic"]:  # deterministic: one (B, C, C) slab per split
        partials = torch.empty(split, b, c, c, dtype=torch.float32, device=f.device)
    tiles = _upper_tiles(cfg["tiles"], f.device)
    dummy = tiles  # unused pointer arguments still need a tensor
    dest = partials if partials is not None else out
    with _on(f.device):
        _gram_kernel[gram_grid(cfg, b)](
            f,
            dest if dest is not None else dummy,
            target if fused else dummy,
            loss if fused else dummy,
            tiles,
            cfg["n_tiles"],
            c,
            n,
            f.stride(0),
            f.stride(1),
            f.stride(2),
            (target.stride(0) if fused and target.dim() == 3 else 0),
            (b * c * c if partials is not None else 0),
            cfg["k_per_split"],
            1.0 / (c * n),
            loss_weight,
            BLOCK_C=cfg["block_c"],
            BLOCK_K=cfg["block_k"],
            USE_ATOMIC=cfg["atomic"],
            LOSS=fused,
            INT64=cfg["int64"],
            INPUT_PRECISION=cfg["precision"],
            num_warps=cfg["num_warps"],
            num_stages=cfg["num_stages"],
        )
    if partials is not None:
        if not combine:
            return partials
        launch_combine(partials, out, splits=split)
    return out


def gram_grid(cfg: dict, batch: int) -> tuple[int, int]:
    """(tiles·samples on the flat axis 0, K-splits on axis 1)."""
    return (cfg["n_tiles"] * batch, cfg["split"])


def fused_loss_slots(f: torch.Tensor, allow_tf32: bool) -> int:
    """Loss slots the fused (forward-only, unsplit) Gram-loss launch writes: one per program."""
    return gram_config(f, allow_tf32=allow_tf32, split=1)["n_tiles"] * f.shape[0]


COMBINE_BLOCK = 1024


def combine_slots(g: torch.Tensor) -> int:
    """Loss slots ``launch_combine`` writes for a (B, C, C) Gram: one per program."""
    return triton.cdiv(g.numel(), COMBINE_BLOCK)


def launch_combine(
    p: torch.Tensor,
    g: torch.Tensor,
    *,
    splits: int = 1,
    target: torch.Tensor | None = None,
    loss: torch.Tensor | None = None,
    weight: float = 0.0,
) -> None:
    """``g ← Σ_s p[s]`` in a fixed order; with ``target``: ``g ← Σ_s p[s] − target`` and
    ``loss[i] = weight · (program i's share of mean(D²))`` (``combine_slots(g)`` slots).

    ``p`` is (splits, B, C, C), or ``g`` itself with ``splits=1`` (in place).
    """
    b, c, _ = g.shape
    total = g.numel()
    has_loss = target is not None
    with _on(g.device):
        _combine_kernel[(combine_slots(g),)](
            p,
            g,
            target if has_loss else g,
            loss if has_loss else g,
            total,
            splits,
            c * c,
            (c * c if has_loss and target.dim() == 3 else 0),
            weight / total,
            BLOCK=COMBINE_BLOCK,
            LOSS=has_loss,
            INT64=splits * total + COMBINE_BLOCK >= _INT32_LIMIT,
        )


def sym_matmul_config(
    c: int, dtype: torch.dtype = torch.float32, allow_tf32: bool = True, *, interpreted: bool
) -> dict:
    """Tiles, warps and ``tl.dot`` precision of the backward product for C channels.

    fp32 takes tf32 when allowed and IEEE otherwise; fp16/bf16 F is exact in
    tf32, so it always runs on tf32 tensor cores, with S split into two tf32
    terms (``split_s``) unless tf32 is allowed. sm_90 / triton 3.7.1 ptxas
    (tests/kernels/sm90_compile.py): 64×128 tiles, BLOCK_K=32 at 8 warps, no
    spills on any of these paths. The interpreter gets narrower N-tiles so small
    test shapes still cover several of them.
    """
    bm = _pow2_at_least(c, 16, 64)
    half = _is_half(dtype)
    return {
        "block_m": bm,
        "block_n": 64 if interpreted else 128,
        "block_k": _pow2_at_least(c, 16, 32),
        "num_warps": 4 if bm < 64 else 8,
        "precision": "tf32" if allow_tf32 or half else "ieee",
        "split_s": half and not allow_tf32,
    }


def launch_sym_matmul(
    s: torch.Tensor,
    f: torch.Tensor,
    scale: float,
    allow_tf32: bool,
    gscale: torch.Tensor | None = None,
) -> torch.Tensor:
    """``scale · gscale · (S + Sᵀ) · F`` per sample, in ``f``'s dtype and memory layout.

    The layout matters: channels-last features give a (B, C, N) view with
    strides (C·N, 1, C), and a gradient in that layout reaches the network
    without a feature-sized copy (autograd converts a mismatched one).
    """
    b, c, n = f.shape
    out = torch.empty_like(f)  # preserve_format: f's strides when dense, else contiguous
    cfg = sym_matmul_config(c, f.dtype, allow_tf32, interpreted=interpreter_enabled())
    num_n = triton.cdiv(n, cfg["block_n"])
    with _on(f.device):
        _sym_matmul_kernel[sym_matmul_grid(cfg, c, n, b)](
            s,
            f,
            out,
            gscale if gscale is not None else s,
            c,
            n,
            num_n,
            f.stride(0),
            f.stride(1),
            f.stride(2),
            out.stride(0),
            out.stride(1),
            out.stride(2),
            scale,
            HAS_GSCALE=gscale is not None,
            BLOCK_M=cfg["block_m"],
            BLOCK_N=cfg["block_n"],
            BLOCK_K=cfg["block_k"],
            INT64=needs_int64(f) or needs_int64(out),
            SPLIT_S=cfg["split_s"],
            INPUT_PRECISION=cfg["precision"],
            num_warps=cfg["num_warps"],
            num_stages=3,
        )
    return out


def sym_matmul_grid(cfg: dict, c: int, n: int, batch: int) -> tuple[int]:
    """One flat axis: C-blocks × N-blocks × samples."""
    return (triton.cdiv(c, cfg["block_m"]) * triton.cdiv(n, cfg["block_n"]) * batch,)


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
    """``Σ_i w_i · mean((G_i − T_i)²)`` over layers.

    Forward per layer: with a gradient needed, the Gram kernel writes G into a
    slice of one shared buffer, then the combine kernel turns it into
    ``D = G − T`` (summing the K-split partials first in deterministic mode)
    and stores its programs' shares of the loss in slots of one loss buffer.
    Without a gradient and an unsplit reduction, the fused kernel writes its
    shares straight from registers and no G. The loss is one fixed-order sum
    of the slots: no atomics on the loss, so it is a fresh tensor (``loss += x``
    works) and bit-identical run to run whenever G is (deterministic mode, or
    unsplit reductions). Backward: one ``_sym_matmul`` launch per layer.
    Saved: the inputs (no copies) and D (Σ B·C_i² floats).
    """

    @staticmethod
    def forward(ctx, weights: tuple[float, ...], allow_tf32: bool, *tensors: torch.Tensor):  # type: ignore[override]
        layers = len(weights)
        feats, targets = tensors[:layers], tensors[layers:]
        device = feats[0].device
        need_grad = any(ctx.needs_input_grad[2:])
        det = deterministic_mode()
        cfgs = [gram_config(f, allow_tf32=allow_tf32, deterministic=det) for f in feats]
        fuse = [not need_grad and cfg["split"] == 1 for cfg in cfgs]
        sizes = [
            0 if fz else f.shape[0] * f.shape[1] ** 2 for f, fz in zip(feats, fuse, strict=True)
        ]
        slots = [
            fused_loss_slots(f, allow_tf32) if fz else triton.cdiv(size, COMBINE_BLOCK)
            for f, fz, size in zip(feats, fuse, sizes, strict=True)
        ]
        # every layer's G in one buffer, zero-filled only where splits add atomically
        alloc = torch.zeros if any(cfg["atomic"] for cfg in cfgs) else torch.empty
        buf = alloc(sum(sizes), dtype=torch.float32, device=device)
        parts = torch.empty(sum(slots), dtype=torch.float32, device=device)
        diffs: list[torch.Tensor | None] = []
        offset = slot = 0
        for f, t, w, fz, size, n_slots in zip(
            feats, targets, weights, fuse, sizes, slots, strict=True
        ):
            b, c, _ = f.shape
            t = t.contiguous()
            part = parts[slot : slot + n_slots]
            slot += n_slots
            if fz:
                launch_gram(
                    f,
                    allow_tf32,
                    target=t,
                    loss=part,
                    loss_weight=w / (b * c * c),
                    split=1,
                    deterministic=det,
                )
                diffs.append(None)
                continue
            g = buf[offset : offset + size].view(b, c, c)
            offset += size
            p = launch_gram(f, allow_tf32, out=g, deterministic=det, combine=False)
            # G itself (splits = 1), or deterministic mode's per-split partials
            launch_combine(
                p, g, splits=p.shape[0] if p.dim() == 4 else 1, target=t, loss=part, weight=w
            )
            diffs.append(g)
        ctx.weights = weights
        ctx.allow_tf32 = allow_tf32
        ctx.target_meta = [(t.shape, t.dtype) for t in targets]
        ctx.save_for_backward(*feats, *[d if d is not None else buf[:0] for d in diffs])
        return parts.sum()  # fixed order (torch's reductions use no atomics)

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
