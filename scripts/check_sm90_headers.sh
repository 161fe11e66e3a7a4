#!/usr/bin/env bash
# Checks the Hopper device headers (device/tilescale/{mbarrier,tma,wgmma_sm90}.h) with nvcc:
#   1. each compiles on its own, for sm_80 and sm_90a (device code only, warnings are errors);
#   2. tests/device/check_sm90.cu builds for sm_90a (-gencode arch=compute_90a,code=sm_90a, linked
#      with -lcuda for cuTensorMapEncodeTiled) and runs on an sm_90 GPU: TMA loads/stores with
#      mbarriers, wgmma ss/rs for f16/bf16/fp8 read back through the documented register layout, and
#      a warp-specialized pipeline, each against a host reference; one PASS/FAIL line per case.
# Exits nonzero if anything failed. Run from anywhere; needs nvcc on PATH (or $NVCC) and, for step
# 2, an H100/H200 and its driver. SKIP_STANDALONE=1 skips step 1; NO_RUN=1 builds without running.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NVCC="${NVCC:-nvcc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

if [[ "${SKIP_STANDALONE:-0}" != 1 ]]; then
  for name in mbarrier.h tma.h wgmma_sm90.h; do
    printf '#include <tilescale/%s>\n' "$name" > "$tmp/standalone.cu"
    for arch in sm_80 sm_90a; do
      if ! "$NVCC" -std=c++17 -arch="$arch" -I device --Werror all-warnings -c "$tmp/standalone.cu" -o "$tmp/standalone.o"; then
        echo "FAIL $name does not compile on its own for $arch"
        failed=1
        continue 2
      fi
    done
    echo "PASS $name compiles standalone (sm_80, sm_90a)"
  done
fi

if "$NVCC" -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I device tests/device/check_sm90.cu -lcuda \
     -o "$tmp/check_sm90"; then
  if [[ "${NO_RUN:-0}" != 1 ]]; then
    "$tmp/check_sm90" || failed=1
  else
    echo "PASS tests/device/check_sm90.cu builds (not run: NO_RUN=1)"
  fi
else
  echo "FAIL tests/device/check_sm90.cu does not build"
  failed=1
fi
exit "$failed"
