"""Whether the Python examples (python/examples/gemm.py, flash_attention.py) generate the same CUDA as
their C++ twins (examples/gemm.cc, flash_attention.cc) at the same sizes and knobs.

The Python side is tilescale.generate_cuda, the C++ side `tilescale dump <example> --cuda`: neither
loads anything, so this runs without a GPU. Exit status 1 when a case differs (its diff is printed).

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_same_code.py <tilescale CLI>
    ... python3 bench/python_same_code.py build/tilescale --arch sm_80 --quick
"""
import argparse
import difflib
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python" / "examples"))
import flash_attention  # noqa: E402
import gemm  # noqa: E402

import tilescale  # noqa: E402

# The knobs the fast configurations use (bench/RESULTS.md): the README's GEMM at 8192^3 and the
# Hopper FlashAttention for D=128.
GEMM_FAST = "BM=128,BN=256,BK=64,threads=256,stages=4"
FA_FAST = "BM=128,BN=128,threads=256,stages=3"


def _sizes(spec):
    return {k: int(v) for k, v in (kv.split("=") for kv in spec.split(",") if kv)}


def python_gemm(spec):
    """gemm.matmul for the C++ example's size spec (its defaults where the spec says nothing)."""
    s = _sizes(spec)
    return gemm.matmul(s["M"], s["N"], s["K"], block_M=s.get("BM", 128), block_N=s.get("BN", 128),
                       block_K=s.get("BK", 32), num_stages=s.get("stages", 3), threads=s.get("threads", 128),
                       dtype="bfloat16" if s.get("bf16") else "float16", panel_size=s.get("raster", 10))


def python_flash_attention(spec):
    """flash_attention.flashattn for the C++ example's size spec."""
    s = _sizes(spec)
    return flash_attention.flashattn(s["B"], s["H"], s["S"], s["D"], is_causal=bool(s.get("causal", 0)),
                                     block_M=s.get("BM", 64), block_N=s.get("BN", 64), num_stages=s.get("stages", 2),
                                     threads=s.get("threads", 128), dtype="bfloat16" if s.get("bf16") else "float16")


PYTHON = {"gemm": python_gemm, "flash_attention": python_flash_attention}

# (C++ example, its --size spec); the Python twin is built from the same spec.
CASES = [
    ("gemm", "M=8192,N=8192,K=8192"),
    ("gemm", f"M=8192,N=8192,K=8192,{GEMM_FAST}"),
    ("gemm", f"M=8192,N=8192,K=8192,{GEMM_FAST},bf16=1"),
    ("gemm", "M=200,N=136,K=72"),
    ("gemm", "M=1024,N=1024,K=1024,raster=0,stages=2"),
    ("flash_attention", "B=1,H=4,S=512,D=64"),
    ("flash_attention", "B=1,H=4,S=512,D=64,causal=1"),
    ("flash_attention", f"B=4,H=32,S=4096,D=128,{FA_FAST}"),
    ("flash_attention", f"B=4,H=32,S=4096,D=128,causal=1,{FA_FAST}"),
    ("flash_attention", f"B=4,H=32,S=4096,D=128,causal=1,bf16=1,{FA_FAST}"),
    ("flash_attention", "B=1,H=2,S=100,D=64,causal=1"),
]
QUICK = [c for c in CASES if GEMM_FAST in c[1] or (FA_FAST in c[1] and "bf16" not in c[1])]


def compare(cli, example, spec, arch):
    """(verdict, python source, C++ source) for one case: "same", "differ", or "both refuse" when
    neither compiles it for `arch` and both say why in the same words (e.g. too much shared memory
    for sm_80); the source of a side that refused is its error message."""
    try:
        python, python_failed = tilescale.generate_cuda(PYTHON[example](spec), arch), False
    except tilescale.Error as e:
        python, python_failed = str(e), True
    run = subprocess.run([cli, "dump", example, "--cuda", "--arch", arch, "--size", spec], capture_output=True, text=True)
    cxx = run.stdout if run.returncode == 0 else run.stderr
    if python_failed and run.returncode != 0:
        return ("both refuse" if python in cxx else "differ"), python, cxx
    return ("same" if not python_failed and run.returncode == 0 and python.strip() == cxx.strip() else "differ"), python, cxx


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cli", help="the tilescale command-line program (build/tilescale)")
    parser.add_argument("--arch", action="append", help="sm_90a and sm_80 by default; repeat for several")
    parser.add_argument("--quick", action="store_true", help="the fast configurations only")
    args = parser.parse_args(argv)
    differ = 0
    for arch in args.arch or ["sm_90a", "sm_80"]:
        for example, spec in QUICK if args.quick else CASES:
            verdict, python, cxx = compare(args.cli, example, spec, arch)
            if verdict == "both refuse":
                print(f"{example} [{spec}] {arch}: both refuse it, in the same words: {python.splitlines()[0]}")
                continue
            print(f"{example} [{spec}] {arch}: the Python example's CUDA is "
                  f"{'the same as' if verdict == 'same' else 'NOT the same as'} the C++ example's ({len(python)} and "
                  f"{len(cxx)} characters)")
            if verdict != "same":
                differ += 1
                diff = difflib.unified_diff(cxx.splitlines(), python.splitlines(), "C++", "Python", lineterm="", n=1)
                print("\n".join(list(diff)[:40]))
    print(f"{differ} case(s) differ" if differ else "all the same")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
