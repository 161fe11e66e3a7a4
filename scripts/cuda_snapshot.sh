#!/usr/bin/env bash
# The CUDA tilescale generates for every example at several sizes and knobs, for sm_80 and sm_90a,
# with and without TMA, one file per case in <dir>: a refactoring of the compiler that must not
# change generated code is checked by diffing two snapshots (no GPU needed).
#
#   scripts/cuda_snapshot.sh build/tilescale /tmp/before   # on the old code
#   scripts/cuda_snapshot.sh build/tilescale /tmp/after    # on the new code
#   diff -r /tmp/before /tmp/after && echo "generated code unchanged"
#
# With a third argument `--ptx` it writes the PTX NVRTC makes of each case instead: a change to the
# CUDA text that leaves the PTX identical leaves the machine code identical too.
set -euo pipefail
usage="usage: scripts/cuda_snapshot.sh <tilescale CLI> <dir> [--ptx]"
cli=${1:?$usage}
dir=${2:?$usage}
form=${3:---cuda}
ext=${form#--}; [ "$ext" = cuda ] && ext=cu
mkdir -p "$dir"

# example|size spec ("" for the defaults)
cases=(
  "gemm|" "gemm|M=8192,N=8192,K=8192,BM=128,BN=256,BK=64,threads=256,stages=4" "gemm|bf16=1,M=200,N=136,K=72"
  "gemm|fp8=1" "gemm|persistent=1" "gemm|raster=0,stages=2" "gemm_relu|" "softmax|" "layernorm|"
  "elementwise_add|" "transpose|" "masked_scale|"
  "flash_attention|" "flash_attention|causal=1" "flash_attention|B=4,H=32,S=4096,D=128,bf16=1,BM=128,BN=128,threads=256,stages=3"
  "flash_attention|B=4,H=32,S=4096,D=128,causal=1,BM=128,BN=128,threads=256,stages=3" "flash_attention|B=1,H=2,S=100,D=64,causal=1"
  "simple_shift|" "allgather_push|" "allgather_pull|" "all_to_all|" "pre_attn_all2all|" "pre_attn_all2all_transpose|"
  "post_attn_all2all_transpose|" "allgather_gemm|" "gemm_rs|" "reduce_scatter|" "allreduce|" "cannon|" "summa|"
)
n=0
for arch in sm_80 sm_90a; do
  for tma in 1 0; do
    for c in "${cases[@]}"; do
      example=${c%%|*} size=${c#*|}
      name="$arch.tma$tma.$example${size:+.${size//[,=]/_}}"
      args=(dump "$example" "$form" --arch "$arch")
      [ -n "$size" ] && args+=(--size "$size")
      TILESCALE_TMA=$tma "$cli" "${args[@]}" > "$dir/$name.$ext" 2>&1 || true  # a refusal is a result too
      n=$((n + 1))
    done
  done
done
echo "$n cases in $dir"
