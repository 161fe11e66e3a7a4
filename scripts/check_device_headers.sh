#!/usr/bin/env bash
# Checks the device headers (device/tilescale/*.h) with nvcc:
#   1. each header compiles on its own, for sm_80 and sm_90a (device code only, warnings are errors);
#   2. tests/device/check_sm80.cu builds for sm_90a (or $ARCH) and runs on the GPU, comparing the
#      headers' results against host references; it prints one line per case with its max error.
# Exits nonzero if anything failed (a header that does not compile on its own does not stop step 2).
# Run from anywhere; needs nvcc on PATH (or $NVCC) and, for step 2, a GPU. SKIP_STANDALONE=1 skips
# step 1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NVCC="${NVCC:-nvcc}"
ARCH="${ARCH:-sm_90a}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

if [[ "${SKIP_STANDALONE:-0}" != 1 ]]; then
  for header in device/tilescale/*.h; do
    name="$(basename "$header")"
    printf '#include <tilescale/%s>\n' "$name" > "$tmp/standalone.cu"
    for arch in sm_80 sm_90a; do
      if ! "$NVCC" -std=c++17 -arch="$arch" -I device --Werror all-warnings -c "$tmp/standalone.cu" -o "$tmp/standalone.o"; then
        echo "FAIL $name does not compile on its own for $arch"
        failed=1
        continue 2
      fi
    done
    echo "ok   $name compiles standalone (sm_80, sm_90a)"
  done
fi

if "$NVCC" -std=c++17 -arch="$ARCH" -I device tests/device/check_sm80.cu -o "$tmp/check_sm80"; then
  "$tmp/check_sm80" || failed=1
else
  echo "FAIL tests/device/check_sm80.cu does not build"
  failed=1
fi
exit "$failed"
