"""gemm: C = A @ B with A [M, K], B [K, N] and C [M, N] in float16, accumulated in float32.

The canonical TileLang GEMM, the twin of examples/gemm.cc with its default tiles (so the two build
the same program): each block owns a 128x128 tile of C in a float32 fragment and walks K in steps
of 32, staging the A and B tiles through shared memory in a 3-stage software pipeline; blocks are
rasterized in panels of 10 for L2 reuse, and the finished tile goes to C through a shared tile
(allocated after the loop so that it may reuse the pipeline's memory). Sizes that are not multiples
of the tile need no special code: tiles read past the end are zeros, writes past the end dropped.

    python gemm.py      # on a GPU with torch: 1024^3 against torch; else the CPU backend, small, numpy
"""
import numpy as np

import tilescale
import tilescale.language as T


def matmul(M, N, K, block_M=128, block_N=128, block_K=32, num_stages=3, threads=128, dtype="float16",
           accum_dtype="float32", panel_size=10):
    @T.prim_func
    def gemm(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            if panel_size > 0:  # 0: no rasterization, as the C++ example's raster=0
                T.use_swizzle(panel_size)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            C_shared = T.alloc_shared((block_M, block_N), dtype)
            T.copy(C_local, C_shared)
            T.copy(C_shared, C[by * block_M, bx * block_N])
    return gemm


def check_cpu(M=200, N=136, K=72, seed=0):
    """On the CPU backend against numpy (float64 product of the float16 inputs)."""
    kernel = tilescale.compile(matmul(M, N, K), out_idx=[2], target="cpu")
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (M, K)).astype(np.float16)
    b = rng.uniform(-1, 1, (K, N)).astype(np.float16)
    c = kernel(a, b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(c.astype(np.float64), ref, rtol=1e-2, atol=1e-2)
    return kernel


def check_cuda(M=1024, N=1024, K=1024):
    """On the GPU against torch."""
    import torch
    kernel = tilescale.compile(matmul(M, N, K), out_idx=[2], target="cuda")
    a = torch.randn(M, K, device="cuda", dtype=torch.float16)
    b = torch.randn(K, N, device="cuda", dtype=torch.float16)
    c = kernel(a, b)
    torch.testing.assert_close(c, (a.float() @ b.float()).half(), rtol=1e-2, atol=1e-2)
    return kernel


def main():
    if tilescale.torch_cuda_available():
        check_cuda()
        print("gemm: 1024x1024x1024 on CUDA matches torch")
    else:
        check_cpu()
        print("gemm: 200x136x72 on the CPU backend matches numpy")


if __name__ == "__main__":
    main()
