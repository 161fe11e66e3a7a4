"""Per-call host time of a tilescale kernel called from Python on torch tensors, beside torch.add.

C = A + B over three float32 tensors of 256 elements on the GPU (one block), called back to back in
bursts of 1000 calls (short enough that the GPU queue never fills), each followed by a
synchronisation that is not timed. After 3 warm-up bursts of each, 20 bursts of ours and 20 of
torch's alternate; the median of each is printed.

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_call_overhead.py
"""
import statistics
import time

import torch

import tilescale
import tilescale.language as T

N, BURST, BURSTS = 256, 1000, 20


@T.prim_func
def add3(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
    with T.Kernel(1, threads=N) as bx:
        for i in T.Parallel(N):
            C[i] = A[i] + B[i]


def burst_us(fn):
    """Host microseconds per call over one burst, then an untimed synchronisation."""
    start = time.perf_counter()
    for _ in range(BURST):
        fn()
    us = (time.perf_counter() - start) / BURST * 1e6
    torch.cuda.synchronize()
    return us


def us_per_call(*fns):
    """The median host time per call of each of fns, their bursts interleaved after a warm-up."""
    for fn in fns:
        for _ in range(3):
            burst_us(fn)
    samples = [[] for _ in fns]
    for _ in range(BURSTS):
        for fn, out in zip(fns, samples):
            out.append(burst_us(fn))
    return [statistics.median(out) for out in samples]


def main():
    kernel = tilescale.compile(add3, target="cuda")
    a, b = torch.randn(N, device="cuda"), torch.randn(N, device="cuda")
    c = torch.full((N,), float("nan"), device="cuda")
    kernel(a, b, c)
    torch.testing.assert_close(c, a + b, rtol=0, atol=0)
    ours, peer = us_per_call(lambda: kernel(a, b, c), lambda: torch.add(a, b, out=c))
    print("host time per call, 3 float32 tensors of 256 elements (median of 20 interleaved bursts of 1000 calls)")
    print(f"  tilescale kernel(a, b, c)   {ours:6.2f} us")
    print(f"  torch.add(a, b, out=c)      {peer:6.2f} us")
    print(f"  ratio                       {ours / peer:6.2f}")


if __name__ == "__main__":
    main()
