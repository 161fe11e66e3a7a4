"""Where the host time of a Python kernel call goes: the parts of a call of a 3-tensor kernel beside
torch.add, each the median over 10 runs of 2000 back-to-back calls.

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_call_profile.py
"""
import statistics
import time

import torch

import tilescale
import tilescale.language as T

N = 256


@T.prim_func
def add3(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
    with T.Kernel(1, threads=N) as bx:
        for i in T.Parallel(N):
            C[i] = A[i] + B[i]


def us(fn, n=2000):
    out = []
    for _ in range(10):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t) / n * 1e6)
        torch.cuda.synchronize()
    return statistics.median(out)


class WithoutExchangeAPI(torch.Tensor):
    __dlpack_c_exchange_api__ = None


def main():
    k = tilescale.compile(add3, target="cuda")
    a, b, c = (torch.randn(N, device="cuda") for _ in range(3))
    s = torch.cuda.current_stream().cuda_stream
    old = [t.as_subclass(WithoutExchangeAPI) for t in (a, b, c)]
    call = tilescale._C.Kernel.__call__
    print(f"k(a, b, c)                        {us(lambda: k(a, b, c)):6.2f} us")
    print(f"Kernel.__call__(k, a, b, c)       {us(lambda: call(k, a, b, c)):6.2f} us  (no slot_tp_call)")
    print(f"k(a, b, c, stream=s)              {us(lambda: k(a, b, c, stream=s)):6.2f} us")
    print(f"a nanobind call, no arguments     {us(lambda: tilescale._C.cache_enabled()):6.2f} us")
    print(f"an empty lambda                   {us(lambda: None):6.2f} us")
    print(f"k(...) on a Tensor subclass     {us(lambda: k(*old)):6.2f} us  (attribute path; torch_function dispatch dominates)")
    print(f"torch.add(a, b, out=c)            {us(lambda: torch.add(a, b, out=c)):6.2f} us")
    print(f"a.__dlpack__()                    {us(lambda: a.__dlpack__()):6.2f} us")


if __name__ == "__main__":
    main()
