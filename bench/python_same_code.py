"""Whether the Python GEMM example (python/examples/gemm.py) generates the same CUDA as the C++ one.

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_same_code.py <tilescale CLI>
"""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python" / "examples"))
import gemm  # noqa: E402

import tilescale  # noqa: E402

size = dict(M=8192, N=8192, K=8192)
python_source = tilescale.compile(gemm.matmul(**size), target="cuda").get_kernel_source()
cli = subprocess.run([sys.argv[1], "dump", "gemm", "--cuda", "--size", ",".join(f"{k}={v}" for k, v in size.items())],
                     capture_output=True, text=True, check=True).stdout
same = python_source.strip() == cli.strip()
print(f"gemm {size}: the Python example's CUDA is {'the same as' if same else 'NOT the same as'} the C++ example's "
      f"({len(python_source)} and {len(cli)} characters)")
