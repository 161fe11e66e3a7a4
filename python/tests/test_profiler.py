"""kernel.get_profiler(): TileLang's do_bench, assert_allclose and run_once on the CPU backend."""
import numpy as np
import pytest

import tilescale
import tilescale.language as T


def add_kernel(N=256):
    @T.prim_func
    def add(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                C[i] = A[i] + B[i]
    return tilescale.compile(add, out_idx=[2], target="cpu")


def scaled_kernel():
    @T.prim_func
    def scaled(A: T.Tensor((64,), "int32"), n: T.int32, B: T.Tensor((64,), "int32")):
        with T.Kernel(1, threads=64) as bx:
            for i in T.Parallel(64):
                B[i] = A[i] * n
    return tilescale.compile(scaled, out_idx=[2], target="cpu")


def test_assert_allclose_passes_on_a_correct_kernel():
    add_kernel().get_profiler().assert_allclose(lambda a, b: a + b, rtol=0, atol=0)


def test_assert_allclose_names_the_output_and_the_worst_element():
    def wrong(a, b):
        c = a + b
        c[17] += 5
        return c
    with pytest.raises(AssertionError, match=r"output C of add is not close to the reference: 1 of 256 elements "
                                             r"differ \(rtol=1e-05, atol=1e-05\); the worst is at \(17,\)"):
        add_kernel().get_profiler().assert_allclose(wrong, rtol=1e-5, atol=1e-5, max_mismatched_ratio=0)


def test_assert_allclose_tolerates_max_mismatched_ratio():
    def one_off(a, b):
        c = a + b
        c[3] += 1
        return c
    add_kernel().get_profiler().assert_allclose(one_off, max_mismatched_ratio=0.01)  # 1 of 256 < 1%


def test_random_inputs_are_not_zeros():
    a, b = add_kernel().get_profiler()._get_inputs()
    assert a.dtype == np.float32 and a.shape == (256,) and np.count_nonzero(a) == 256 and not np.array_equal(a, b)


def test_assert_allclose_with_scalars_and_integer_inputs():
    profiler = scaled_kernel().get_profiler()
    a, n = profiler._get_inputs(scalars={"n": 3})
    assert a.dtype == np.int32 and n == 3 and np.abs(a).max() <= 4 and np.count_nonzero(a) > 0
    profiler.assert_allclose(lambda a, n: a * n, scalars={"n": 3}, rtol=0, atol=0)
    scaled_kernel().get_profiler(scalars={"n": -2}).assert_allclose(lambda a, n: a * n, rtol=0, atol=0)


def test_a_scalar_without_a_value():
    with pytest.raises(ValueError, match=r"cannot make inputs for scaled because scalar parameter n has no value; "
                                         r"pass scalars=\{'n': ...\}"):
        scaled_kernel().get_profiler().assert_allclose(lambda a, n: a * n)


def test_a_scalar_that_is_not_a_parameter():
    with pytest.raises(ValueError, match="cannot give scalars m to scaled because it has no such scalar parameter; "
                                         "its scalar parameters are: n"):
        scaled_kernel().get_profiler().run_once(scalars={"n": 1, "m": 2})


def test_output_count_mismatch():
    with pytest.raises(AssertionError, match="add returned 1 outputs \\(C\\) but the reference returned 2"):
        add_kernel().get_profiler().assert_allclose(lambda a, b: [a + b, a])


def test_output_shape_mismatch():
    with pytest.raises(AssertionError, match=r"output C of add has shape \(256,\) but the reference has \(128,\)"):
        add_kernel().get_profiler().assert_allclose(lambda a, b: (a + b)[:128])


def test_unknown_supply_type():
    with pytest.raises(ValueError, match="cannot supply inputs of kind 'gaussian'; use one of"):
        add_kernel().get_profiler(tensor_supply_type="gaussian")


def test_symbolic_dimension_needs_input_tensors():
    n = T.dynamic("n")

    @T.prim_func
    def copy(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            for i in T.Parallel(64):
                B[i] = A[i]
    profiler = tilescale.compile(copy, out_idx=[1], target="cpu").get_profiler()
    with pytest.raises(ValueError, match="cannot make a random input for A of copy because its dimension 0 is "
                                         "symbolic; pass input_tensors"):
        profiler.run_once()
    a = np.arange(64, dtype=np.float32)
    np.testing.assert_array_equal(profiler.run_once(input_tensors=[a]), a)


def test_run_once_returns_the_outputs():
    c = add_kernel().get_profiler().run_once()
    assert isinstance(c, np.ndarray) and c.shape == (256,)


def test_do_bench_times_in_milliseconds():
    profiler = add_kernel().get_profiler()
    ms = profiler.do_bench(n_warmup=1, n_repeat=3)
    assert 0 < ms < 1000
    calls = []
    assert profiler.do_bench(lambda a, b: calls.append(1), n_warmup=2, n_repeat=5) >= 0
    assert len(calls) == 1 + 2 + 5  # the estimate, the warm-up runs, the timed runs
    assert profiler.do_bench(warmup=1, rep=2) > 0  # budgets in milliseconds
