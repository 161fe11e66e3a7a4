"""layernorm: Y = (X - mean) / sqrt(var + eps) * gamma + beta over each row of X [M, N], with X,
gamma [N], beta [N] and Y in float16, the statistics in float32 (eps = 1e-5, the biased variance of
torch.nn.LayerNorm).

The twin of examples/layernorm.cc. Each block owns block_M whole rows in a float32 fragment. The
mean and the variance are two reduce_sums, the variance over the centred values (two passes, which
do not lose digits to cancellation as E[x^2] - E[x]^2 does). gamma and beta are staged once per block
in shared memory, where any thread can read any column. Rows past M read as zeros and are never
written back.

    python layernorm.py   # on a GPU with torch: 4096x1024 against torch; else the CPU backend, numpy
"""
import numpy as np

import tilescale
import tilescale.language as T

EPS = 1e-5


def rows_per_block(N):
    """A power of two, about 4096 / N, at least 1 and at most 64."""
    bm = 1
    while bm < 64 and 2 * bm * N <= 4096:
        bm *= 2
    return bm


def layernorm(M, N, block_M=None, threads=128, dtype="float16", accum_dtype="float32"):
    block_M = block_M or rows_per_block(N)
    inv_n = 1.0 / N

    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), gamma: T.Tensor((N,), dtype), beta: T.Tensor((N,), dtype),
             Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block_M), threads=threads) as bx:
            gamma_shared = T.alloc_shared((N,), dtype)
            beta_shared = T.alloc_shared((N,), dtype)
            x = T.alloc_fragment((block_M, N), accum_dtype)
            squares = T.alloc_fragment((block_M, N), accum_dtype)
            mean = T.alloc_fragment((block_M,), accum_dtype)
            rstd = T.alloc_fragment((block_M,), accum_dtype)
            T.copy(gamma, gamma_shared)
            T.copy(beta, beta_shared)
            T.copy(X[bx * block_M, 0], x)

            T.reduce_sum(x, mean, dim=1)
            for i in T.Parallel(block_M):
                mean[i] = mean[i] * inv_n
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] - mean[i]
                squares[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(squares, rstd, dim=1)
            for i in T.Parallel(block_M):
                rstd[i] = T.rsqrt(rstd[i] * inv_n + EPS)

            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] * rstd[i] * T.cast(gamma_shared[j], accum_dtype) + T.cast(beta_shared[j], accum_dtype)
            T.copy(x, Y[bx * block_M, 0])
    return main


def ref_program(x, gamma, beta):
    x = x.astype(np.float64)
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * gamma.astype(np.float64) + beta.astype(np.float64)


def check_cpu(M=70, N=128, seed=0):
    """On the CPU backend against numpy."""
    kernel = tilescale.compile(layernorm(M, N), out_idx=[3], target="cpu")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 3, (M, N)).astype(np.float16)  # rows with a mean far from zero
    gamma = rng.uniform(0.5, 1.5, N).astype(np.float16)
    beta = rng.uniform(-1, 1, N).astype(np.float16)
    y = kernel(x, gamma, beta)
    np.testing.assert_allclose(y.astype(np.float64), ref_program(x, gamma, beta), rtol=2e-3, atol=5e-3)
    return kernel


def check_cuda(M=4096, N=1024):
    """On the GPU against torch."""
    import torch
    kernel = tilescale.compile(layernorm(M, N), out_idx=[3], target="cuda")
    x = torch.empty(M, N, device="cuda", dtype=torch.float16).uniform_(-1, 3)
    gamma = torch.empty(N, device="cuda", dtype=torch.float16).uniform_(0.5, 1.5)
    beta = torch.empty(N, device="cuda", dtype=torch.float16).uniform_(-1, 1)
    ref = torch.nn.functional.layer_norm(x.float(), (N,), gamma.float(), beta.float(), eps=EPS).half()
    torch.testing.assert_close(kernel(x, gamma, beta), ref, rtol=2e-3, atol=5e-3)
    return kernel


def main():
    if tilescale.torch_cuda_available():
        check_cuda()
        print("layernorm: 4096x1024 on CUDA matches torch")
    else:
        check_cpu()
        print("layernorm: 70x128 on the CPU backend matches numpy")


if __name__ == "__main__":
    main()
