#!/usr/bin/env bash
# Packed Nemotron-H on one GPU (a lent H200): the packed row's loss equals its documents' run one by one, tokens/s,
# for the segment-aware torch path and, when mamba_ssm / causal_conv1d can be built there, the fused kernels fed
# seq_idx. One prepared run of ~8-10 minutes (see bench/gpu_nemotron_h.py for what each JSON line means).
#
#   here, once:   bash bench/gpu_nemotron_h.sh fetch    # transformers wheel + kernel sdists into .whl/nemotron_h/
#   on the GPU:   bash bench/gpu_nemotron_h.sh          # device tool: carry [".whl/nemotron_h"], timeout_s 590
#   dry run here: BENCH_ARGS=--smoke bash bench/gpu_nemotron_h.sh   # CPU: the flow, not the kernels (a cp311 host
#                 cannot install the cp312 regex wheel: point WHEELS at a copy without it)
#
# The GPU image has torch and nvcc but an older transformers, and nothing can be fetched there: transformers 5.24
# (and a regex new enough for it) travel as wheels; mamba-ssm and causal-conv1d exist on PyPI only as sdists, so they are built there:
# mamba-ssm without its CUDA extension (Mamba-2's SSD kernels are Triton; only the Mamba-1 selective-scan op is
# stubbed out), causal-conv1d for sm_90 alone. The build runs on the CPUs while the torch phase uses the GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-.whl/nemotron_h}
TRANSFORMERS=5.24.0
REGEX=2026.11.19  # transformers checks regex >= 2025.10.22 at import; the image's may be older
MAMBA_SSM=2.3.2.post1
CAUSAL_CONV1D=1.7.0

if [[ "${1:-}" == "fetch" ]]; then
  PY=${PYTHON:-.venv/bin/python}  # needs torch: pip prepares the sdists' metadata with it
  mkdir -p "$WHEELS"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$WHEELS" "transformers==$TRANSFORMERS" "regex==$REGEX"
  MAMBA_SKIP_CUDA_BUILD=TRUE CAUSAL_CONV1D_SKIP_CUDA_BUILD=TRUE "$PY" -m pip download -q --no-deps \
    --no-build-isolation -d "$WHEELS" "mamba-ssm==$MAMBA_SSM" "causal-conv1d==$CAUSAL_CONV1D"
  ls -la "$WHEELS"
  exit 0
fi

BUDGET_S=${BUDGET_S:-570}  # stay inside the device call's timeout_s (590), leaving time to return $OUT
OUT=${OUT:-/tmp/gpu_nemotron_h}
mkdir -p "$OUT"
SITE=/tmp/site_transformers
KERNELS=/tmp/site_mamba_kernels
BUILD=/tmp/build_mamba_kernels
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, torch.version.cuda)"

python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHEELS"/*.whl \
  || { echo "cannot install the carried wheels (run 'bash bench/gpu_nemotron_h.sh fetch' here first)"; exit 1; }

build_kernels() {
  set -e
  rm -rf "$BUILD" && mkdir -p "$BUILD"
  tar xzf "$WHEELS/causal_conv1d-$CAUSAL_CONV1D.tar.gz" -C "$BUILD"
  tar xzf "$WHEELS/mamba_ssm-$MAMBA_SSM.tar.gz" -C "$BUILD"
  python3 - "$BUILD/causal_conv1d-$CAUSAL_CONV1D/setup.py" <<'PY'
import sys
path = sys.argv[1]
source = open(path).read()
marker = "    # HACK: The compiler flag"
assert marker in source, "causal-conv1d setup.py changed: cannot restrict the build to sm_90"
source = source.replace(marker, '    cc_flag = ["-gencode", "arch=compute_90,code=sm_90"]  # H200 only\n\n' + marker, 1)
open(path, "w").write(source)
PY
  CAUSAL_CONV1D_FORCE_BUILD=TRUE MAX_JOBS=16 NVCC_THREADS=2 timeout 300 python3 -m pip install -q --no-index \
    --no-deps --no-build-isolation --no-cache-dir --target "$KERNELS" "$BUILD/causal_conv1d-$CAUSAL_CONV1D"
  MAMBA_FORCE_BUILD=TRUE MAMBA_SKIP_CUDA_BUILD=TRUE python3 -m pip install -q --no-index --no-deps \
    --no-build-isolation --no-cache-dir --target "$KERNELS" "$BUILD/mamba_ssm-$MAMBA_SSM"
  sed -i 's/^import selective_scan_cuda$/selective_scan_cuda = None  # Mamba-1 CUDA op not built; Mamba-2 is Triton/' \
    "$KERNELS/mamba_ssm/ops/selective_scan_interface.py"
  PYTHONPATH="$KERNELS:$SITE" python3 -c "
import mamba_ssm.ops.triton.ssd_combined as ssd
assert ssd.causal_conv1d_fwd_function is not None, 'mamba_ssm does not see causal_conv1d'
print('fused kernels import')"
}
( ( build_kernels ) >"$OUT/kernels_build.log" 2>&1; echo $? >"$OUT/kernels_build.rc" ) &
BUILD_PID=$!

echo "== phase torch: segment-aware torch path (no mamba_ssm / causal_conv1d on the path)"
PYTHONPATH="$PWD:$SITE" timeout 240 python3 -m bench.gpu_nemotron_h --phase torch ${BENCH_ARGS:-} 2>&1 | tee "$OUT/torch.jsonl"
torch_rc=${PIPESTATUS[0]}

echo "== building the fused kernels (waiting for the background build)"
wait "$BUILD_PID"
remaining_s=$((BUDGET_S - SECONDS))
if [[ "$(cat "$OUT/kernels_build.rc")" == "0" && $remaining_s -lt 60 ]]; then
  echo "fused kernels built, but only ${remaining_s}s of the budget are left: fused phase skipped"
  fused_rc=0
elif [[ "$(cat "$OUT/kernels_build.rc")" == "0" ]]; then
  echo "== phase fused: mamba_ssm / causal_conv1d with seq_idx, and the segment-aware torch path beside it"
  # Triton compiles the SSD kernels for fp32 (check) and bf16 (speed) first: one row length only
  PYTHONPATH="$PWD:$KERNELS:$SITE" timeout "$remaining_s" python3 -m bench.gpu_nemotron_h --phase fused \
    --speed-tokens 65536 ${BENCH_ARGS:-} 2>&1 | tee "$OUT/fused.jsonl"
  fused_rc=${PIPESTATUS[0]}
else
  echo "fused kernels could not be installed here; last lines of the build log:"
  tail -n 25 "$OUT/kernels_build.log"
  fused_rc=0
fi
exit $(( torch_rc || fused_rc ))
