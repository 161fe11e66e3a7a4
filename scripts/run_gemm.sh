#!/usr/bin/env bash
# Quick start, part 1: build tilescale (Release) and run the GEMM example against its C++
# reference. Without a usable GPU it runs on the CPU backend and says so.
# Extra arguments go to `tilescale run gemm`, e.g. ./scripts/run_gemm.sh --size 512
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ts_ensure_tools
# The tests are not needed here; a build folder that already has them keeps them.
if [ -f "$TS_BUILD/CMakeCache.txt" ]; then ts_configure; else ts_configure -DTILESCALE_BUILD_TESTS=OFF; fi
ts_say "building the tilescale command in $TS_BUILD"
ninja -C "$TS_BUILD" -j "$TS_JOBS" tilescale_cli
if ! nvidia-smi -L >/dev/null 2>&1; then
  ts_say "no NVIDIA GPU found on this machine: the example runs on the CPU backend"
fi
ts_say "$TS_BUILD/tilescale run gemm${*:+ $*}"
exec "$TS_BUILD/tilescale" run gemm "$@"
