"""flash_attention: O = softmax(Q @ K^T / sqrt(D)) @ V, forward, for Q, K, V, O [B, H, S, D] in
float16 with float32 accumulation; `is_causal` masks the keys after each query.

The twin of examples/flash_attention.cc (the same program, names included, for the same sizes and
knobs: the two generate the same CUDA), TileLang's FlashAttention structure. Block (bx, by, bz)
owns block_M queries of head by of batch bz: their Q tile stays in shared memory while the keys and
values stream past in block_N-row tiles (a num_stages-deep pipeline). Per key tile the scores go
through an online softmax: the running row maximum is updated, what was accumulated so far is
rescaled by exp(old max - new max), and the new probabilities, rounded to float16, are multiplied
into acc_o by a second gemm with V. Exponentials are exp2 with log2(e) folded into the scale.

Masking: keys past S and, when causal, keys after the query get a score of -inf (exp2 makes them 0);
only the tiles that hold such a key run the mask. A causal block stops at the last key tile its
queries can see and the blocks run the longest query tiles first.

    python flash_attention.py   # on a GPU with torch: [1, 4, 512, 64] against torch; else CPU, numpy
"""
import math

import numpy as np

import tilescale
import tilescale.language as T

LOG2E = 1.4426950408889634


def flashattn(batch, heads, seq_len, dim, is_causal=False, block_M=64, block_N=64, num_stages=2, threads=128,
              dtype="float16", accum_dtype="float32"):
    scale = 1.0 / math.sqrt(dim) * LOG2E
    shape = (batch, heads, seq_len, dim)
    needs_mask = is_causal or seq_len % block_N != 0

    # Named as the C++ example names its program and parameters, so that the two print the same CUDA.
    @T.prim_func(name="flash_attention_causal" if is_causal else "flash_attention")
    def main(Q: T.Tensor(shape, dtype), K: T.Tensor(shape, dtype), V: T.Tensor(shape, dtype),
             O: T.Tensor(shape, dtype)):
        with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=threads) as (block_x, by, bz):
            bx = T.ceildiv(seq_len, block_M) - 1 - block_x if is_causal else block_x
            Q_shared = T.alloc_shared((block_M, dim), dtype)
            K_shared = T.alloc_shared((block_N, dim), dtype)
            V_shared = T.alloc_shared((block_N, dim), dtype)
            O_shared = T.alloc_shared((block_M, dim), dtype)  # lives from its first use, after the loop
            acc_s = T.alloc_fragment((block_M, block_N), accum_dtype)
            acc_s_cast = T.alloc_fragment((block_M, block_N), dtype)
            acc_o = T.alloc_fragment((block_M, dim), accum_dtype)
            scores_max = T.alloc_fragment((block_M,), accum_dtype)
            scores_max_prev = T.alloc_fragment((block_M,), accum_dtype)
            scores_scale = T.alloc_fragment((block_M,), accum_dtype)
            scores_sum = T.alloc_fragment((block_M,), accum_dtype)
            logsum = T.alloc_fragment((block_M,), accum_dtype)

            T.copy(Q[bz, by, bx * block_M, 0], Q_shared)
            T.fill(acc_o, 0)
            T.fill(logsum, 0)
            T.fill(scores_max, -T.infinity(accum_dtype))
            loop_range = T.ceildiv(seq_len, block_N)
            if is_causal:
                loop_range = T.min(loop_range, T.ceildiv((bx + 1) * block_M, block_N))
            for k in T.Pipelined(loop_range, num_stages=num_stages):
                T.copy(K[bz, by, k * block_N, 0], K_shared)
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullRow,
                       clear_accum=True)
                if needs_mask:
                    # Only the tiles that reach past the block's first query (causal) or past S hold
                    # keys to hide.
                    last_key = (k + 1) * block_N - 1
                    partial = last_key > bx * block_M if is_causal else last_key >= seq_len
                    if is_causal and seq_len % block_N != 0:
                        partial = partial or last_key >= seq_len
                    if partial:
                        for i, j in T.Parallel(block_M, block_N):
                            key = k * block_N + j
                            visible = key <= bx * block_M + i if is_causal else key < seq_len
                            if is_causal and seq_len % block_N != 0:
                                visible = visible and key < seq_len
                            acc_s[i, j] = T.if_then_else(visible, acc_s[i, j], -T.infinity(accum_dtype))
                T.copy(V[bz, by, k * block_N, 0], V_shared)
                T.copy(scores_max, scores_max_prev)
                T.reduce_max(acc_s, scores_max, dim=1, clear=False)
                for i in T.Parallel(block_M):
                    scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
                for i, j in T.Parallel(block_M, dim):
                    acc_o[i, j] *= scores_scale[i]
                for i, j in T.Parallel(block_M, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
                T.reduce_sum(acc_s, scores_sum, dim=1)
                for i in T.Parallel(block_M):
                    logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
                T.copy(acc_s, acc_s_cast)
                T.gemm(acc_s_cast, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] /= logsum[i]
            T.copy(acc_o, O_shared)
            T.copy(O_shared, O[bz, by, bx * block_M, 0])
    return main


def ref_program(Q, K, V, is_causal):
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if is_causal:
        S = q.shape[-2]
        scores = np.where(np.tril(np.ones((S, S), dtype=bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


def check_cpu(batch=1, heads=2, seq_len=128, dim=64, is_causal=False, seed=0):
    """On the CPU backend against numpy. V in [0, 2) makes every output a convex combination of
    positive values (about 1), so the comparison measures the kernel, not the rounding of P."""
    kernel = tilescale.compile(flashattn(batch, heads, seq_len, dim, is_causal), out_idx=[3], target="cpu")
    rng = np.random.default_rng(seed)
    shape = (batch, heads, seq_len, dim)
    q = rng.uniform(-2, 2, shape).astype(np.float16)
    k = rng.uniform(-2, 2, shape).astype(np.float16)
    v = rng.uniform(0, 2, shape).astype(np.float16)
    np.testing.assert_allclose(kernel(q, k, v).astype(np.float64), ref_program(q, k, v, is_causal), rtol=2e-3,
                               atol=2e-3)
    return kernel


def check_cuda(batch=1, heads=4, seq_len=512, dim=64, is_causal=False):
    """On the GPU against torch."""
    import torch
    kernel = tilescale.compile(flashattn(batch, heads, seq_len, dim, is_causal), out_idx=[3], target="cuda")
    shape = (batch, heads, seq_len, dim)
    q = torch.empty(shape, device="cuda", dtype=torch.float16).uniform_(-2, 2)
    k = torch.empty(shape, device="cuda", dtype=torch.float16).uniform_(-2, 2)
    v = torch.empty(shape, device="cuda", dtype=torch.float16).uniform_(0, 2)
    ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=is_causal)
    torch.testing.assert_close(kernel(q, k, v), ref.half(), rtol=2e-3, atol=2e-3)
    return kernel


def main():
    if tilescale.torch_cuda_available():
        check_cuda()
        check_cuda(is_causal=True)
        print("flash_attention: [1, 4, 512, 64] on CUDA matches torch (causal and not)")
    else:
        check_cpu()
        check_cpu(is_causal=True)
        print("flash_attention: [1, 2, 128, 64] on the CPU backend matches numpy (causal and not)")


if __name__ == "__main__":
    main()
