"""The Python GEMM example (python/examples/gemm.py) timed by its profiler (do_bench: CUDA events,
L2 flushed between runs), to set beside `tilescale bench gemm`, the C++ example's numbers.

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_gemm_bench.py
"""
import sys; sys.path.insert(0, "python/examples")
import gemm, tilescale
for n in (4096, 8192):
    k = tilescale.compile(gemm.matmul(n, n, n), out_idx=[2], target="cuda")
    ms = k.get_profiler().do_bench()
    print(f"Python gemm {n}^3 fp16: {ms:.3f} ms, {2 * n**3 / ms / 1e9:.0f} TFLOP/s")
