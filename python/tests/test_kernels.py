"""TileLang-style kernels, changed only in their imports, run on the CPU backend against numpy."""
import numpy as np
import pytest

import tilescale
import tilescale.language as T


def matmul(M, N, K, block_M=64, block_N=64, block_K=32, dtype="float16", accum_dtype="float"):
    @T.prim_func
    def gemm(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=3):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            T.copy(C_local, C[by * block_M, bx * block_N])
    return gemm


def test_gemm(rng):
    kernel = tilescale.compile(matmul(256, 256, 256), out_idx=[2], target="cpu")
    a = rng.standard_normal((256, 256)).astype(np.float16)
    b = rng.standard_normal((256, 256)).astype(np.float16)
    c = kernel(a, b)
    assert isinstance(c, np.ndarray) and c.dtype == np.float16 and c.shape == (256, 256)
    ref = a.astype(np.float32) @ b.astype(np.float32)
    np.testing.assert_allclose(c.astype(np.float32), ref, rtol=1e-2, atol=1e-1)


def test_gemm_transposed_with_policy(rng):
    M, N, K, bM, bN, bK = 128, 64, 64, 64, 64, 32

    @T.prim_func
    def gemm_nt(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bN), T.ceildiv(M, bM), threads=128) as (bx, by):
            A_shared = T.alloc_shared((bM, bK), "float16")
            B_shared = T.alloc_shared((bN, bK), "float16")
            C_local = T.alloc_fragment((bM, bN), "float32")
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, bK), num_stages=2):
                T.copy(A[by * bM, k * bK], A_shared)
                T.copy(B[bx * bN, k * bK], B_shared)
                T.gemm(A_shared, B_shared, C_local, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
            T.copy(C_local, C[by * bM, bx * bN])

    kernel = tilescale.compile(gemm_nt, out_idx=-1, target="cpu")
    a = rng.standard_normal((M, K)).astype(np.float16)
    b = rng.standard_normal((N, K)).astype(np.float16)
    np.testing.assert_allclose(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32).T, rtol=1e-3, atol=1e-3)


def elementwise_add(N, block=256, dtype="float32"):
    @T.prim_func
    def add(A: T.Tensor((N,), dtype), B: T.Tensor((N,), dtype), C: T.Tensor((N,), dtype)):
        with T.Kernel(T.ceildiv(N, block), threads=128) as bx:
            for i in T.Parallel(block):
                C[bx * block + i] = A[bx * block + i] + B[bx * block + i]
    return add


def test_elementwise_add(rng):
    kernel = tilescale.compile(elementwise_add(1024), out_idx=[2], target="cpu")
    a, b = rng.standard_normal(1024).astype(np.float32), rng.standard_normal(1024).astype(np.float32)
    np.testing.assert_array_equal(kernel(a, b), a + b)
    c = np.zeros(1024, np.float32)
    assert kernel(a, b, c) is None  # all parameters given: the call writes C in place
    np.testing.assert_array_equal(c, a + b)


def test_if_else_on_symbolic_condition(rng):
    N = 512

    @T.prim_func
    def clamp_sign(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                if A[bx * 128 + i] > 0.5:
                    B[bx * 128 + i] = 1.0
                elif A[bx * 128 + i] < -0.5 and bx >= 0:
                    B[bx * 128 + i] = -1.0
                else:
                    B[bx * 128 + i] = 0.0

    a = rng.standard_normal(N).astype(np.float32)
    b = tilescale.compile(clamp_sign, out_idx=[1], target="cpu")(a)
    np.testing.assert_array_equal(b, np.where(a > 0.5, 1.0, np.where(a < -0.5, -1.0, 0.0)).astype(np.float32))


def test_python_if_keeps_python_semantics():
    N = 128

    def scale(double):
        @T.prim_func
        def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
            with T.Kernel(1, threads=128) as bx:
                for i in T.Parallel(N):
                    if double:  # a Python bool: only the branch taken is built
                        B[i] = A[i] * 2
                    else:
                        B[i] = A[i] * 3
        return main

    a = np.arange(N, dtype=np.float32)
    assert "3.0" not in scale(True).script()
    np.testing.assert_array_equal(tilescale.compile(scale(True), out_idx=[1], target="cpu")(a), a * 2)
    np.testing.assert_array_equal(tilescale.compile(scale(False), out_idx=[1], target="cpu")(a), a * 3)


def test_slice_copy(rng):
    B_, H, S, D, bM = 2, 3, 64, 16, 32

    @T.prim_func
    def slice_copy(Q: T.Tensor((B_, H, S, D), "float16"), O: T.Tensor((B_, H, S, D), "float16")):
        with T.Kernel(T.ceildiv(S, bM), H, B_, threads=128) as (bx, by, bz):
            Q_shared = T.alloc_shared((bM, D), "float16")
            T.copy(Q[bz, by, bx * bM:(bx + 1) * bM, :], Q_shared)
            for i, j in T.Parallel(bM, D):
                Q_shared[i, j] = Q_shared[i, j] + 1
            T.copy(Q_shared, O[bz, by, bx * bM:(bx + 1) * bM, :])

    q = rng.standard_normal((B_, H, S, D)).astype(np.float16)
    np.testing.assert_array_equal(tilescale.compile(slice_copy, out_idx=[1], target="cpu")(q), q + np.float16(1))


def test_serial_loop_alloc_var_and_while_with_break():
    N = 64

    @T.prim_func
    def prefix(A: T.Tensor((N,), "int32"), B: T.Tensor((N,), "int32"), C: T.Tensor((1,), "int32")):
        with T.Kernel(1, threads=32) as bx:
            acc = T.alloc_var("int32")
            acc = 0
            for i in range(N):
                acc += A[i]
                B[i] = acc
            count = T.alloc_var("int32", 0)
            while count < N:
                if A[count] < 0:
                    break
                count = count + 1
            if T.get_thread_binding() == 0:
                C[0] = count

    a = np.arange(N, dtype=np.int32) - 40
    a[a < 0] = 1
    a[50] = -1
    b, c = tilescale.compile(prefix, out_idx=[1, 2], target="cpu")(a)
    np.testing.assert_array_equal(b, np.cumsum(a).astype(np.int32))
    assert c[0] == 50


def test_reductions_cast_if_then_else_and_infinity(rng):
    M, N = 8, 64

    @T.prim_func
    def rowstats(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M,), "float32"), Z: T.Tensor((M, N), "float16")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((M, N), "float32")
            m = T.alloc_fragment((M,), "float32")
            T.copy(X, x)
            T.fill(m, -T.infinity("float32"))
            T.reduce_max(x, m, dim=1, clear=False)
            for i, j in T.Parallel(M, N):
                Z[i, j] = T.cast(T.if_then_else(x[i, j] > 0, x[i, j], T.max(x[i, j], -0.25)), "float16")
            T.copy(m, Y)

    x = rng.standard_normal((M, N)).astype(np.float32)
    y, z = tilescale.compile(rowstats, out_idx=[1, 2], target="cpu")(x)
    np.testing.assert_array_equal(y, x.max(axis=1))
    np.testing.assert_array_equal(z, np.maximum(x, -0.25).astype(np.float16))


def test_jit_memoizes_per_arguments(rng):
    @tilescale.jit(out_idx=[-1], target="cpu")
    def add(N, block=128):
        return elementwise_add(N, block)

    k1 = add(256)
    assert add(256) is k1 and add(256, block=64) is not k1
    a, b = rng.standard_normal(256).astype(np.float32), rng.standard_normal(256).astype(np.float32)
    np.testing.assert_array_equal(k1(a, b), a + b)
    assert "C" in k1.get_kernel_source()


def test_dynamic_shapes_allocate_outputs_from_inputs(rng):
    N = T.dynamic("N")

    @T.prim_func
    def double(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                if bx * 128 + i < N:
                    B[bx * 128 + i] = A[bx * 128 + i] * 2

    kernel = tilescale.compile(double, out_idx=[1], target="cpu")
    for n in (100, 300):
        a = rng.standard_normal(n).astype(np.float32)
        np.testing.assert_array_equal(kernel(a), a * 2)


@pytest.mark.gpu
def masked_scale(N, block=128):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), valid_len: T.int32, scale: T.float32, Y: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, block), threads=block) as bx:
            for i in T.Parallel(block):
                if bx * block + i < valid_len:
                    Y[bx * block + i] = X[bx * block + i] * scale
                else:
                    Y[bx * block + i] = 0
    return main


def test_scalar_parameters_in_conditions_and_arithmetic(rng):
    kernel = tilescale.compile(masked_scale(512), out_idx=[3], target="cpu")
    x = rng.standard_normal(512).astype(np.float32)
    for valid_len in (0, 1, 200, 512, 1000, -3):
        y = kernel(x, valid_len, 0.5)
        expected = np.where(np.arange(512) < valid_len, x * np.float32(0.5), 0).astype(np.float32)
        np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(kernel(x, np.int32(7), np.float32(2)), np.where(np.arange(512) < 7, x * 2, 0))


def test_scalar_in_a_capped_parallel_extent(rng):
    @T.prim_func
    def head(X: T.Tensor((512,), "float32"), n: T.int32, Y: T.Tensor((512,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(T.min(n, 512)):
                Y[i] = X[i] + 1
    kernel = tilescale.compile(head, target="cpu")
    x = rng.standard_normal(512).astype(np.float32)
    y = np.full(512, -7, np.float32)
    kernel(x, 100, y)
    np.testing.assert_array_equal(y[:100], x[:100] + 1)
    np.testing.assert_array_equal(y[100:], -7)


def test_gemm_on_cuda():
    torch = pytest.importorskip("torch")
    kernel = tilescale.compile(matmul(256, 256, 256), out_idx=[2], target="cuda")
    a = torch.randn(256, 256, dtype=torch.float16, device="cuda")
    b = torch.randn(256, 256, dtype=torch.float16, device="cuda")
    c = kernel(a, b)
    torch.testing.assert_close(c, (a.float() @ b.float()).half(), rtol=1e-2, atol=1e-1)


def test_scalar_parameters_on_cuda_on_torchs_current_stream():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for torch")
    kernel = tilescale.compile(masked_scale(4096), out_idx=[3], target="cuda")
    x = torch.randn(4096, device="cuda")
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):  # the kernel runs on torch's current stream: this one
        for valid_len in (0, 1, 1000, 4096, 5000, -3):
            y = kernel(x, valid_len, 0.25)
            expected = torch.where(torch.arange(4096, device="cuda") < valid_len, x * 0.25, torch.zeros_like(x))
            torch.testing.assert_close(y, expected, rtol=0, atol=0)
    side.synchronize()


def _cuda_torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for torch")
    return torch


class _DLPackOnly:
    """A tensor seen only through __dlpack__ (no torch type, no exchange API)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __dlpack__(self, **kwargs):
        return self.tensor.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.tensor.__dlpack_device__()


def test_torch_tensors_on_cuda_through_each_route():
    """torch's DLPack C exchange API (the fast path), a torch without it (read through the tensor's
    attributes: a subclass that hides the API stands in for one), and plain DLPack, each with a view
    that starts inside its storage."""
    torch = _cuda_torch()

    class WithoutExchangeAPI(torch.Tensor):
        __dlpack_c_exchange_api__ = None

    kernel = tilescale.compile(elementwise_add(1024), target="cuda")
    storage = torch.randn(3 * 1024, device="cuda")
    a, b = storage[1024:2048], storage[2048:]  # views at an offset of 4 and 8 KiB
    routes = {"exchange API": lambda t: t, "attributes": lambda t: t.as_subclass(WithoutExchangeAPI),
              "DLPack": _DLPackOnly}
    for route, make in routes.items():
        c = torch.full((1024,), float("nan"), device="cuda")
        kernel(make(a), make(b), make(c))
        torch.testing.assert_close(c, a + b, rtol=0, atol=0, msg=route)


def test_a_given_stream_and_outputs_on_the_inputs_device():
    torch = _cuda_torch()
    kernel = tilescale.compile(elementwise_add(1 << 20), out_idx=[2], target="cuda")
    a, b = torch.randn(1 << 20, device="cuda"), torch.randn(1 << 20, device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    for stream in (side, side.cuda_stream):  # a torch.cuda.Stream or its handle
        c = kernel(a, b, stream=stream)
        assert c.device == a.device
        side.synchronize()
        torch.testing.assert_close(c, a + b, rtol=0, atol=0)
    with pytest.raises(TypeError, match="cannot use a str as a stream"):
        kernel(a, b, stream="side")


def test_torch_tensors_on_the_cpu_backend_and_their_strides(rng):
    torch = pytest.importorskip("torch")
    kernel = tilescale.compile(elementwise_add(1024), target="cpu")
    a, b = torch.randn(1024), torch.randn(1024)
    c = torch.full((1024,), float("nan"))
    kernel(a, b, c)
    torch.testing.assert_close(c, a + b, rtol=0, atol=0)
    strided = torch.randn(2048)[::2]  # stride 2: the CPU backend reads it as it is
    kernel(strided, b, c)
    torch.testing.assert_close(c, strided + b, rtol=0, atol=0)
    with pytest.raises(tilescale.RuntimeError, match="float64"):
        kernel(a.double(), b, c)


def test_vectorized_loop_runs_whole_in_every_thread(rng):
    @T.prim_func
    def rows(X: T.Tensor((128, 8), "float32"), Y: T.Tensor((128, 8), "float32")):
        with T.Kernel(1, threads=128) as bx:
            tx = T.get_thread_binding()
            for v in T.vectorized(8):
                Y[tx, v] = X[tx, v] * 2
    kernel = tilescale.compile(rows, out_idx=[1], target="cpu")
    x = rng.standard_normal((128, 8)).astype(np.float32)
    np.testing.assert_array_equal(kernel(x), x * 2)


@pytest.mark.parametrize("BLOCK_N, REDUCE", [(32, 4), (4, 4), (12, 4)])
def test_two_dimensional_thread_block_gemv(rng, BLOCK_N, REDUCE):
    # TileLang's GEMV: BLOCK_N columns of the output per block, REDUCE threads splitting K; the
    # partial sums meet in shared memory. 4 x 4 and 12 x 4 blocks (16 and 48 threads) are not whole
    # warps, which a block need not be.
    N, K = 96, 256

    @T.prim_func
    def gemv(A: T.Tensor((K,), "float32"), B: T.Tensor((N, K), "float32"), C: T.Tensor((N,), "float32")):
        with T.Kernel(N // BLOCK_N, threads=(BLOCK_N, REDUCE)) as bx:
            tn = T.get_thread_binding(0)
            tk = T.get_thread_binding(1)
            acc = T.alloc_local((1,), "float32")
            partial = T.alloc_shared((REDUCE, BLOCK_N), "float32")
            acc[0] = 0.0
            for k in T.serial(K // REDUCE):
                acc[0] = acc[0] + A[k * REDUCE + tk] * B[bx * BLOCK_N + tn, k * REDUCE + tk]
            partial[tk, tn] = acc[0]
            if tk == 0:
                C[bx * BLOCK_N + tn] = partial[0, tn] + partial[1, tn] + partial[2, tn] + partial[3, tn]  # REDUCE == 4

    kernel = tilescale.compile(gemv, out_idx=[2], target="cpu")
    a = rng.standard_normal(K).astype(np.float32)
    b = rng.standard_normal((N, K)).astype(np.float32)
    np.testing.assert_allclose(kernel(a, b), b @ a, rtol=1e-4, atol=1e-4)
