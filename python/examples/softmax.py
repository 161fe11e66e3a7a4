"""softmax: Y = softmax(X) along each row, X and Y [M, N] in float16, the math in float32.

The twin of examples/softmax.cc. Each block owns block_M whole rows: it copies them into a float32
fragment (the copy converts), reduces the row maxima, exponentiates in place, reduces the row sums
and divides. The exponential is exp2 with log2(e) folded in, the form the GPU evaluates in one
instruction. block_M is chosen so that a block holds about 4096 elements.

    python softmax.py   # on a GPU with torch: 4096x1024 against torch; else the CPU backend, numpy
"""
import numpy as np

import tilescale
import tilescale.language as T

LOG2E = 1.4426950408889634


def rows_per_block(N):
    """A power of two, about 4096 / N, at least 1 and at most 64."""
    bm = 1
    while bm < 64 and 2 * bm * N <= 4096:
        bm *= 2
    return bm


def softmax(M, N, block_M=None, threads=128, dtype="float16", accum_dtype="float32"):
    block_M = block_M or rows_per_block(N)

    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block_M), threads=threads) as bx:
            x = T.alloc_fragment((block_M, N), accum_dtype)
            row_max = T.alloc_fragment((block_M,), accum_dtype)
            row_sum = T.alloc_fragment((block_M,), accum_dtype)
            T.copy(X[bx * block_M, 0], x)
            T.reduce_max(x, row_max, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = T.exp2(x[i, j] * LOG2E - row_max[i] * LOG2E)
            T.reduce_sum(x, row_sum, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] / row_sum[i]
            T.copy(x, Y[bx * block_M, 0])
    return main


def ref_program(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_cpu(M=100, N=256, seed=0):
    """On the CPU backend against numpy."""
    kernel = tilescale.compile(softmax(M, N), out_idx=[1], target="cpu")
    x = np.random.default_rng(seed).uniform(-2, 2, (M, N)).astype(np.float16)
    np.testing.assert_allclose(kernel(x).astype(np.float64), ref_program(x), rtol=2e-3, atol=1e-5)
    return kernel


def check_cuda(M=4096, N=1024):
    """On the GPU against torch."""
    import torch
    kernel = tilescale.compile(softmax(M, N), out_idx=[1], target="cuda")
    x = torch.empty(M, N, device="cuda", dtype=torch.float16).uniform_(-2, 2)
    torch.testing.assert_close(kernel(x), torch.softmax(x.float(), dim=1).half(), rtol=2e-3, atol=1e-5)
    return kernel


def main():
    if tilescale.torch_cuda_available():
        check_cuda()
        print("softmax: 4096x1024 on CUDA matches torch")
    else:
        check_cpu()
        print("softmax: 100x256 on the CPU backend matches numpy")


if __name__ == "__main__":
    main()
