"""The Python examples (python/examples/): each checked on the CPU backend against numpy at a small
size, and on CUDA against torch when both are here."""
import importlib
import os
import pathlib
import sys

import pytest

import tilescale

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

EXAMPLES = ["gemm", "softmax", "layernorm", "flash_attention"]


def _example(name):
    return importlib.import_module(name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_on_cpu(name):
    _example(name).check_cpu()


@pytest.mark.parametrize("kwargs", [dict(is_causal=True), dict(seq_len=100), dict(seq_len=100, is_causal=True)])
def test_flash_attention_masks_on_cpu(kwargs):
    _example("flash_attention").check_cpu(**kwargs)


def test_softmax_and_layernorm_with_one_row_per_block_on_cpu():
    _example("softmax").check_cpu(M=5, N=4096)
    _example("layernorm").check_cpu(M=3, N=2048)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_main_runs(name, capsys):
    _example(name).main()
    assert "matches" in capsys.readouterr().out


@pytest.mark.gpu
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_on_cuda_against_torch(name):
    pytest.importorskip("torch")
    if not tilescale.torch_cuda_available():
        pytest.skip(f"no CUDA for torch and tilescale here: {tilescale.why_not_cuda() or 'torch sees no CUDA device'}")
    _example(name).check_cuda()


# examples/gemm.cc's program at its default sizes (`tilescale dump gemm`): the Python GEMM with its
# default tiles builds the same program, so the two generate the same code.
GEMM_CXX_DEFAULT = '''@T.prim_func
def gemm(A: T.Tensor((1024, 1024), "float16"), B: T.Tensor((1024, 1024), "float16"), C: T.Tensor((1024, 1024), "float16")):
    with T.Kernel(8, 8, 1, threads=128) as (bx, by, bz):
        A_shared = T.alloc_shared((128, 32), "float16")
        B_shared = T.alloc_shared((32, 128), "float16")
        C_local = T.alloc_fragment((128, 128), "float32")
        T.use_swizzle(panel_size=10, order="row")
        T.fill(C_local, 0.0)
        for k in T.Pipelined(32, num_stages=3):
            T.copy(A[by * 128 : +128, k * 32 : +32], A_shared)
            T.copy(B[k * 32 : +32, bx * 128 : +128], B_shared)
            T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0)
        C_shared = T.alloc_shared((128, 128), "float16")
        T.copy(C_local, C_shared)
        T.copy(C_shared, C[by * 128 : +128, bx * 128 : +128])'''


def test_gemm_builds_the_cxx_example_program():
    assert _example("gemm").matmul(1024, 1024, 1024).script().rstrip() == GEMM_CXX_DEFAULT


def test_flash_attention_with_every_shared_tile_allocated_at_the_top_fits_on_hopper():
    """The example allocates every shared tile first, as TileLang writes it. A tile lives from its
    first use (plan_shared_memory), so O_shared, first written after the loop, takes the bytes of
    Q_shared, dead by then: D=128, 128x128 tiles and 3 stages fit on sm_90a."""
    source = (pathlib.Path(__file__).parent / ".." / "examples" / "flash_attention.py").read_text()
    first = "            V_shared = T.alloc_shared((block_N, dim), dtype)\n"
    assert first + "            O_shared = T.alloc_shared((block_M, dim), dtype)" in source
    knobs = dict(block_M=128, block_N=128, num_stages=3, threads=256)
    cuda = tilescale.generate_cuda(_example("flash_attention").flashattn(4, 32, 4096, 128, False, **knobs), "sm_90a")
    assert "half_t* O_shared = reinterpret_cast<half_t*>(smem + 0);" in cuda
    assert "half_t* Q_shared = reinterpret_cast<half_t*>(smem + 0);" in cuda
