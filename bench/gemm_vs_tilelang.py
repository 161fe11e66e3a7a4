#!/usr/bin/env python3
"""tilescale's GEMM against TileLang's on the same program, and cuBLAS (torch.matmul), in one process
on one GPU, on the same torch tensors.

The program is the README's: C = A @ B, float16 in, float32 accumulated, each block a BM x BN tile of
C walking K in steps of BK through a `stages`-deep T.Pipelined loop, blocks rasterized in panels of
10 (T.use_swizzle), the tile stored through shared memory. Ours is python/examples/gemm.py's
`matmul`; TileLang's is the same source written against `tilelang.language` (TileLang's own
example_gemm.py plus the swizzle and the shared-memory store that ours has).

Each kernel runs once into its own NaN-filled output and is checked against a float32 torch product
(relative Frobenius error); then the three are timed interleaved with CUDA events, a 256 MB L2 flush
before each call, the order alternating between rounds; the median is reported with TFLOP/s and
ours/TileLang, ours/cuBLAS time ratios (below 1.00: ours is faster). TileLang comes from its wheel
(PYTHONPATH); without it the TileLang column says why and the rest still runs.

    PYTHONPATH=<dir with tilescale>:<dir with tilelang> python3 bench/gemm_vs_tilelang.py [--size 8192]
        [--knobs "BM=128,BN=128,BK=32,stages=3,threads=128;BM=128,BN=256,BK=64,stages=4,threads=256"] [--sources DIR]
"""

import argparse
import pathlib
import sys
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python" / "examples"))
from py_harness import fail_setup, time_interleaved  # noqa: E402

README_KNOBS = "BM=128,BN=128,BK=32,stages=3,threads=128"


def tilelang_matmul(M, N, K, BM, BN, BK, stages, threads):
    """TileLang's kernel for the program (its example_gemm.py, with ours' swizzle and staged store)."""
    import tilelang
    import tilelang.language as T

    @T.prim_func
    def gemm(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, BN), T.ceildiv(M, BM), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((BM, BK), "float16")
            B_shared = T.alloc_shared((BK, BN), "float16")
            C_local = T.alloc_fragment((BM, BN), "float")
            T.use_swizzle(10)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, BK), num_stages=stages):
                T.copy(A[by * BM, k * BK], A_shared)
                T.copy(B[k * BK, bx * BN], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            C_shared = T.alloc_shared((BM, BN), "float16")
            T.copy(C_local, C_shared)
            T.copy(C_shared, C[by * BM, bx * BN])

    return tilelang.compile(gemm, target="cuda")


def parse_knobs(spec):
    knobs = dict(BM=128, BN=128, BK=32, stages=3, threads=128)
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key not in knobs:
            fail_setup(f"unknown knob {key!r} in {spec!r}; the knobs are {', '.join(knobs)}")
        knobs[key] = int(value)
    return knobs


def relative_error(torch, out, ref):
    if not torch.isfinite(out).all():
        return float("inf")
    return ((out.float() - ref).norm() / ref.norm()).item()


def run(torch, size, knobs, reps, sources):
    import gemm as ours_example
    import tilescale

    M = N = K = size
    flops = 2.0 * M * N * K
    label = ",".join(f"{k}={v}" for k, v in knobs.items())
    gen = torch.Generator(device="cuda").manual_seed(size)
    a = torch.randn(M, K, device="cuda", dtype=torch.float16, generator=gen)
    b = torch.randn(K, N, device="cuda", dtype=torch.float16, generator=gen)
    ref = a.float() @ b.float()
    outs = {name: torch.full((M, N), float("nan"), device="cuda", dtype=torch.float16) for name in ("tilescale", "tilelang", "cublas")}

    program = ours_example.matmul(M, N, K, knobs["BM"], knobs["BN"], knobs["BK"], knobs["stages"], knobs["threads"])
    ours = tilescale.compile(program, target="cuda")
    if sources:
        pathlib.Path(sources, f"tilescale_{label.replace(',', '_')}.cu").write_text(tilescale.generate_cuda(program))
    impls = [("tilescale", lambda: ours(a, b, outs["tilescale"])), ("cublas", lambda: torch.matmul(a, b, out=outs["cublas"]))]
    try:
        theirs = tilelang_matmul(M, N, K, knobs["BM"], knobs["BN"], knobs["BK"], knobs["stages"], knobs["threads"])
        impls.insert(1, ("tilelang", lambda: theirs(a, b, outs["tilelang"])))
        if sources:
            pathlib.Path(sources, f"tilelang_{label.replace(',', '_')}.cu").write_text(theirs.get_kernel_source())
    except Exception as e:  # noqa: BLE001 -- a missing or failing peer leaves its column empty
        print(f"  TileLang unavailable: {type(e).__name__}: {e}")
        traceback.print_exc(limit=3)
    errors = {}
    for name, fn in impls:
        fn()
        torch.cuda.synchronize()
        errors[name] = relative_error(torch, outs[name], ref)
    times = time_interleaved(torch, impls, warmup=5, reps=reps)
    print(f"\n{size}^3 fp16, {label}")
    print(f"  {'':10} {'ms':>9} {'TFLOP/s':>9} {'rel err':>9}")
    for name, _ in impls:
        print(f"  {name:10} {times[name]:9.4f} {flops / times[name] / 1e9:9.1f} {errors[name]:9.2e}")
    for peer in ("tilelang", "cublas"):
        if peer in times:
            print(f"  tilescale / {peer} time: {times['tilescale'] / times[peer]:.3f}")
    return all(e < 1e-2 for e in errors.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--knobs", default=f"{README_KNOBS};BM=128,BN=256,BK=64,stages=4,threads=256")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--sources", help="write the CUDA of each kernel into this directory")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        fail_setup("torch is not installed")
    if not torch.cuda.is_available():
        fail_setup("no CUDA GPU")
    print(f"GPU: {torch.cuda.get_device_name()}")
    ok = True
    for spec in args.knobs.split(";"):
        ok &= run(torch, args.size, parse_knobs(spec), args.reps, args.sources)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
