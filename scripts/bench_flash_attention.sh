#!/usr/bin/env bash
# FlashAttention forward against torch's scaled_dot_product_attention: builds (Release) the C ABI
# library tilescale_capi and runs bench/flash_attention_sdpa.py with it. Needs python3 with a CUDA
# build of PyTorch and an NVIDIA GPU; says which is missing otherwise (exit 2).
# Arguments go to the script, e.g.
#   ./scripts/bench_flash_attention.sh --quick
#   ./scripts/bench_flash_attention.sh --knobs "BM=128,BN=128,threads=256,stages=3"
# TILESCALE_BUILD_DIR picks the build folder (default build/), TILESCALE_JOBS the parallel jobs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || { echo "error: $PYTHON not found; this benchmark runs from Python with PyTorch" >&2; exit 2; }
if ! torch_line="$("$PYTHON" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' 2>&1)"; then
  echo "error: PyTorch is not importable by $PYTHON (${torch_line##*$'\n'}); install a CUDA build of torch, or set PYTHON" >&2
  exit 2
fi
read -r torch_version torch_cuda torch_gpu <<<"$(tail -n1 <<<"$torch_line")"
if [ "$torch_cuda" = None ]; then
  echo "error: torch $torch_version is a CPU-only build; the benchmark needs a CUDA build of PyTorch" >&2
  exit 2
fi
if [ "$torch_gpu" != True ]; then
  echo "error: torch $torch_version (CUDA $torch_cuda) sees no GPU on this machine ($(nvidia-smi -L 2>&1 | head -n1)); run it on a machine with an NVIDIA GPU" >&2
  exit 2
fi

ts_ensure_tools
if [ -f "$TS_BUILD/CMakeCache.txt" ]; then ts_configure; else ts_configure -DTILESCALE_BUILD_TESTS=OFF; fi
ts_say "building tilescale_capi in $TS_BUILD"
ninja -C "$TS_BUILD" -j "$TS_JOBS" tilescale_capi
ts_say "torch $torch_version (CUDA $torch_cuda): $PYTHON bench/flash_attention_sdpa.py${*:+ $*}"
PYTHONUNBUFFERED=1 exec "$PYTHON" "$TS_ROOT/bench/flash_attention_sdpa.py" --lib "$TS_BUILD/libtilescale_capi.so" "$@"
