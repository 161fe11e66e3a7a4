import statistics, time, torch, tilescale, tilescale.language as T
N = 256
@T.prim_func
def add3(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
    with T.Kernel(1, threads=N) as bx:
        for i in T.Parallel(N):
            C[i] = A[i] + B[i]
k = tilescale.compile(add3, target="cuda")
a, b, c = (torch.randn(N, device="cuda") for _ in range(3))
s = torch.cuda.current_stream().cuda_stream
def us(fn, n=2000):
    out = []
    for _ in range(10):
        t = time.perf_counter()
        for _ in range(n): fn()
        out.append((time.perf_counter() - t) / n * 1e6)
        torch.cuda.synchronize()
    return statistics.median(out)
print(f"a.__dlpack__()            {us(lambda: a.__dlpack__()):6.2f} us")
print(f"binding call(list, s)     {us(lambda: k.kernel.call([a, b, c], s)):6.2f} us")
print(f"JITKernel(a, b, c)        {us(lambda: k(a, b, c)):6.2f} us")
print(f"_current_stream           {us(lambda: k._current_stream([a, b, c])):6.2f} us")
print(f"a.data_ptr(),shape,stride {us(lambda: (a.data_ptr(), a.shape, a.stride(), a.dtype, a.device)):6.2f} us")
print(f"torch.add                 {us(lambda: torch.add(a, b, out=c)):6.2f} us")
