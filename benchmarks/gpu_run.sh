#!/usr/bin/env bash
# Kernel correctness tests and benchmarks on a CUDA GPU, in one call.
#
#   benchmarks/gpu_run.sh [all|tests|targets|grid|compile]   (default: all = tests targets grid)
#
# Needs a Python with CUDA torch 2.13.0 and triton 3.7.1 (the GPU machine has no
# internet: install them beforehand). PY picks the interpreter (default: .venv/bin/python,
# else python3). JSON goes to benchmarks/results/<gpu>-<stage>.json, and is copied to
# $OUT when that is set (the device tool brings $OUT back); each table also as markdown (.md).
#
# Rough durations on one H100 (estimates, not yet measured): tests ~1 min, targets ~3 min,
# grid (no torch.compile) ~6 min, compile (512² only) ~8 min; each fits a 10-minute call.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
unset TRITON_INTERPRET  # real kernels, not the CPU interpreter

"$PY" - <<'PYEOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("gpu_run.sh: torch sees no CUDA GPU (torch %s); nothing to do" % torch.__version__)
import triton
print("GPU:", torch.cuda.get_device_name(), "| torch", torch.__version__, "| triton", triton.__version__)
PYEOF

SLUG=$("$PY" -c "import re, torch; n = torch.cuda.get_device_name().lower(); m = re.search(r'(h100|h200|a100|l40s?|b200)', n); print(m.group(1) if m else re.sub(r'[^a-z0-9]+', '-', n).strip('-'))")
RESULTS=benchmarks/results
mkdir -p "$RESULTS"

gst() { "$PY" -c "import sys; from gst_core.cli import main; sys.exit(main(sys.argv[1:]))" "$@"; }

save() {  # copy a result file to $OUT too
    if [ -n "${OUT:-}" ]; then mkdir -p "$OUT/results" && cp "$1" "$OUT/results/"; fi
}

stage_tests() {
    # GPU-only tests (tf32, bf16, large shapes, memory) and every kernel test on the real GPU
    "$PY" -m pytest tests/kernels -q -rs -p no:cacheprovider 2>&1 | tee "$RESULTS/$SLUG-tests.txt"
    save "$RESULTS/$SLUG-tests.txt"
}

stage_targets() {
    # The issue's targets, measured in one run as ratios:
    #  multi-layer style loss fwd+bwd, VGG19 layers at 512², batch 4, fp32 with tf32
    gst bench kernels --device cuda --sizes 512 --batch 4 --dtype float32 \
        --ops multi_style_loss --providers eager compile gst-torch triton --budget 2 \
        --markdown --json "$RESULTS/$SLUG-target-multi.json" | tee "$RESULTS/$SLUG-target-multi.md"
    save "$RESULTS/$SLUG-target-multi.json"; save "$RESULTS/$SLUG-target-multi.md"
    #  Gram forward vs torch.bmm (the C <= 256 layers are relu1_1..relu3_1)
    gst bench kernels --device cuda --sizes 256 512 1024 --batch 1 4 --dtype float32 \
        --ops gram --providers eager triton --budget 0.5 \
        --markdown --json "$RESULTS/$SLUG-target-gram.json" | tee "$RESULTS/$SLUG-target-gram.md"
    save "$RESULTS/$SLUG-target-gram.json"; save "$RESULTS/$SLUG-target-gram.md"
}

stage_grid() {
    # The full grid without torch.compile (which recompiles every shape)
    gst bench kernels --device cuda --sizes 256 512 1024 --batch 1 4 --dtype float32 bfloat16 \
        --providers eager gst-torch triton --budget 0.3 \
        --markdown --json "$RESULTS/$SLUG-grid.json" | tee "$RESULTS/$SLUG-grid.md"
    save "$RESULTS/$SLUG-grid.json"; save "$RESULTS/$SLUG-grid.md"
}

stage_compile() {
    gst bench kernels --device cuda --sizes 512 --batch 1 4 --dtype float32 bfloat16 \
        --providers eager compile triton --budget 0.3 \
        --markdown --json "$RESULTS/$SLUG-compile-512.json" | tee "$RESULTS/$SLUG-compile-512.md"
    save "$RESULTS/$SLUG-compile-512.json"; save "$RESULTS/$SLUG-compile-512.md"
}

for stage in "${@:-all}"; do
    case "$stage" in
        all) stage_tests; stage_targets; stage_grid ;;
        tests|targets|grid|compile) "stage_$stage" ;;
        *) echo "gpu_run.sh: unknown stage '$stage' (all|tests|targets|grid|compile)" >&2; exit 2 ;;
    esac
done
