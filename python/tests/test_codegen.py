"""tilescale.generate_cuda: the CUDA a program turns into, with no GPU; and the Python examples print
the same CUDA as their C++ twins (bench/python_same_code.py, a few of its cases)."""
import os
import sys

import pytest

import tilescale
import tilescale.language as T

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import python_same_code  # noqa: E402


def _add(n=1024):
    @T.prim_func
    def add(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), C: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, 256), threads=256) as bx:
            for i in T.Parallel(256):
                C[bx * 256 + i] = A[bx * 256 + i] + B[bx * 256 + i]
    return add


def test_generate_cuda_needs_no_gpu():
    source = tilescale.generate_cuda(_add())
    assert 'extern "C" __global__' in source and " add(" in source
    assert tilescale.generate_cuda(_add(), arch="sm_80") == tilescale.generate_cuda(_add(), "sm_80")


def test_generate_cuda_follows_the_arch():
    gemm = python_same_code.python_gemm("M=256,N=256,K=256")
    assert "tl::tma_" in tilescale.generate_cuda(gemm, "sm_90a")  # Hopper's TMA
    assert "tl::tma_" not in tilescale.generate_cuda(gemm, "sm_80")


def test_generate_cuda_errors():
    with pytest.raises(TypeError, match="pass a function decorated with @T.prim_func"):
        tilescale.generate_cuda(lambda: None)
    with pytest.raises(tilescale.CompileError, match="sm_75"):
        tilescale.generate_cuda(_add(), "sm_75")


@pytest.mark.gpu
def test_generate_cuda_is_what_compile_loads():
    arch = tilescale._C.device_description(0).split()[-1]
    kernel = tilescale.compile(_add(), target="cuda")
    assert kernel.get_kernel_source() == tilescale.generate_cuda(_add(), arch)


@pytest.mark.parametrize("example,spec", [
    ("gemm", f"M=8192,N=8192,K=8192,{python_same_code.GEMM_FAST}"),
    ("flash_attention", "B=1,H=2,S=100,D=64,causal=1"),
    ("flash_attention", f"B=4,H=32,S=4096,D=128,{python_same_code.FA_FAST}"),
])
def test_python_examples_print_the_cxx_examples_cuda(tilescale_cli, example, spec):
    verdict, python, cxx = python_same_code.compare(tilescale_cli, example, spec, "sm_90a")
    assert verdict == "same", f"{example} [{spec}]: the Python example's CUDA differs from the C++ example's"


def test_the_same_code_check_sees_a_difference(tilescale_cli, monkeypatch):
    monkeypatch.setitem(python_same_code.PYTHON, "gemm", lambda spec: python_same_code.python_gemm(spec + ",stages=2"))
    verdict, python, cxx = python_same_code.compare(tilescale_cli, "gemm", "M=256,N=256,K=256", "sm_90a")
    assert verdict == "differ" and python != cxx
