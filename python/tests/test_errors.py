"""Errors while building point at the user's file and line; C++ errors keep their type and message."""
import os

import numpy as np
import pytest

import tilescale
import tilescale.language as T

HERE = os.path.abspath(__file__)


def line_of(text):
    with open(HERE) as f:
        for n, line in enumerate(f, 1):
            if text in line and "line_of(" not in line:
                return n
    raise AssertionError(text)


def test_compile_error_names_file_and_line():
    with pytest.raises(tilescale.CompileError) as e:
        @T.prim_func
        def bad(A: T.Tensor((64, 64), "float16")):
            with T.Kernel(1, threads=128) as bx:
                A_shared = T.alloc_shared((32, 32), "float16")
                T.copy(A[0, 0], A[0, 0])  # both element references: no extent to infer
    msg = str(e.value)
    assert f"{HERE}:{line_of('T.copy(A[0, 0], A[0, 0])')}:" in msg
    assert "cannot infer the tile extent of T::copy from A to A" in msg
    assert "T.copy(A[0, 0], A[0, 0])" in msg
    assert isinstance(e.value, tilescale.Error) and isinstance(e.value, RuntimeError)


def test_symbolic_value_as_python_bool_names_the_line():
    with pytest.raises(TypeError) as e:
        @T.prim_func
        def bad(A: T.Tensor((64,), "float32")):
            with T.Kernel(1, threads=128) as bx:
                for i in T.Parallel(64):
                    flag = bool(A[i] > 0)  # a symbolic value cannot become a Python bool
    assert f"{HERE}:{line_of('flag = bool(A[i] > 0)')}:" in str(e.value)
    assert "cannot use the symbolic expression" in str(e.value) and "T.if_then_else" in str(e.value)


def test_unsupported_feature_is_not_implemented_with_its_name():
    with pytest.raises(NotImplementedError) as e:
        @T.prim_func
        def bad(A: T.Tensor((64,), "float32")):
            with T.Kernel(1, threads=128) as bx:
                T.sync_threads()
    assert "T.sync_threads" in str(e.value) and f"{HERE}:{line_of('T.sync_threads()')}:" in str(e.value)


def test_continue_in_a_symbolic_loop_is_not_implemented():
    with pytest.raises(NotImplementedError, match="continue"):
        @T.prim_func
        def bad(A: T.Tensor((64,), "float32")):
            with T.Kernel(1, threads=1) as bx:
                for i in T.serial(64):
                    if A[i] > 0:
                        continue
                    A[i] = 0.0


def test_verify_errors_name_the_prim_func():
    with pytest.raises(tilescale.CompileError) as e:
        @T.prim_func
        def mismatched(A: T.Tensor((64, 64), "float16")):
            with T.Kernel(1, threads=128) as bx:
                A_shared = T.alloc_shared((32, 16), "float16")
                B_shared = T.alloc_shared((16, 32), "float16")
                T.copy(A_shared, B_shared)
    assert "in @T.prim_func mismatched" in str(e.value) and "extents differ" in str(e.value)


def test_missing_annotation():
    with pytest.raises(TypeError, match=r"parameter n is not annotated with T.Tensor\(shape, dtype\) or a scalar type "
                                        r"\(T.int32, T.int64, T.float32\)"):
        @T.prim_func
        def bad(A: T.Tensor((64,), "float32"), n):
            pass


def test_scalar_parameter_of_an_unsupported_type():
    with pytest.raises(tilescale.CompileError, match="float16"):
        @T.prim_func
        def bad(A: T.Tensor((64,), "float32"), h: T.float16):
            with T.Kernel(1, threads=64) as bx:
                for i in T.Parallel(64):
                    A[i] = h


def test_unknown_dtype():
    with pytest.raises(ValueError, match="cannot use 'float17' as a dtype"):
        T.Tensor((4,), "float17")


def add_kernel():
    @T.prim_func
    def add(A: T.Tensor((128,), "float32"), B: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(128):
                B[i] = A[i] + 1
    return tilescale.compile(add, out_idx=[1], target="cpu")


def test_call_with_wrong_shape_raises_the_runtime_error():
    with pytest.raises(tilescale.RuntimeError, match="A"):
        add_kernel()(np.zeros(64, np.float32))


def test_call_with_wrong_dtype_raises_the_runtime_error():
    with pytest.raises(tilescale.RuntimeError, match="float32"):
        add_kernel()(np.zeros(128, np.float64))


def test_call_with_wrong_argument_count():
    with pytest.raises(TypeError, match=r"cannot call add with 3 arguments; it takes 1 \(A\), or all 2 \(A, B\)"):
        add_kernel()(np.zeros(128, np.float32), np.zeros(128, np.float32), np.zeros(128, np.float32))


def test_call_with_a_list():
    with pytest.raises(TypeError, match="cannot pass a list as A of add"):
        add_kernel()([0.0] * 128)


def scaled_kernel():
    @T.prim_func
    def scaled(A: T.Tensor((128,), "float32"), n: T.int32, B: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(128):
                B[i] = A[i] * n
    return tilescale.compile(scaled, out_idx=[2], target="cpu")


def test_scalar_argument_of_the_wrong_kind():
    k = scaled_kernel()
    a = np.ones(128, np.float32)
    with pytest.raises(tilescale.RuntimeError, match="n"):
        k(a, 0.5)
    with pytest.raises(TypeError, match="cannot pass a ndarray as n of scaled; it is a scalar parameter \\(int32\\)"):
        k(a, np.ones(2))
    with pytest.raises(TypeError, match="cannot pass a bool as n of scaled"):
        k(a, True)
    with pytest.raises(tilescale.RuntimeError, match="n"):
        k(a, 2**40)  # beyond int32


def test_scalar_cannot_be_an_output():
    @T.prim_func
    def f(A: T.Tensor((128,), "float32"), n: T.int32):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(128):
                A[i] = n
    with pytest.raises(ValueError, match="parameter n is a scalar; outputs are tensors"):
        tilescale.compile(f, out_idx=[1], target="cpu")


def test_pass_configs_are_not_dropped_silently():
    @T.prim_func
    def f(A: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            for i in T.Parallel(64):
                A[i] = 1.0
    with pytest.warns(UserWarning, match=r"ignores pass_configs \['tl.disable_tma_lower'\]"):
        tilescale.compile(f, target="cpu", pass_configs={"tl.disable_tma_lower": True})
