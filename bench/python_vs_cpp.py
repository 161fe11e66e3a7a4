#!/usr/bin/env python3
"""The Python front end against the C++ one: each Python example (python/examples/gemm.py,
flash_attention.py) and its C++ twin (examples/gemm.cc, flash_attention.cc, through the C ABI:
libtilescale_capi.so, include/tilescale/capi.h) built with the same sizes and knobs, in one process
on one GPU, on the same torch tensors.

For each case the script compiles both (the Python one with tilescale.compile, the C++ one with the C
ABI's constructor), runs each once into its own NaN-filled output, checks the two outputs against
each other (the same CUDA on the same inputs: they should be bitwise equal) and each against torch,
then times them interleaved with CUDA events, a 256 MB L2 flush before each call (as the profiler's
do_bench), the order alternating between rounds; the median is reported. Cases:

  gemm             8192^3 float16, knobs --gemm-knobs (the README's: BM=128,BN=256,BK=64,threads=256,stages=4)
  flash_attention  B=4 H=32 S=4096 D=128, float16 and bfloat16, causal and not, knobs --fa-knobs
                   (the fast Hopper configuration BM=128,BN=128,threads=256,stages=3)

Output: a table of both times, python/C++ (time ratio; 1.00 = the same), TFLOP/s for both, whether
the outputs are bitwise equal, and each one's error against torch. Exit status 1 when a check fails,
2 when the setup is missing (torch, a GPU, the library).

    PYTHONPATH=<dir holding the tilescale package> python3 bench/python_vs_cpp.py build/libtilescale_capi.so
    ... python3 bench/python_vs_cpp.py build/libtilescale_capi.so --quick        # one case of each
    ... python3 bench/python_vs_cpp.py build/libtilescale_capi.so --dry-run      # no GPU: builds, compares signatures
"""

import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # python_same_code: the knobs -> Python example mapping; py_harness
sys.path.insert(0, str(HERE.parent / "python" / "examples"))
import python_same_code  # noqa: E402
from py_harness import CApi, CKernel, attention_error, fail_setup, time_interleaved  # noqa: E402

import tilescale  # noqa: E402

def python_signature(kernel):
    return [(name, tuple(shape), tilescale._C.dtype_name(dtype)) for name, shape, dtype, _ in kernel.params]


class Case:
    """One example at one spec: its FLOPs, inputs and reference."""

    def __init__(self, example, spec, label, flops, tol):
        self.example, self.spec, self.label, self.flops, self.tol = example, spec, label, flops, tol
        self.sizes = python_same_code._sizes(spec)
        self.dtype_name = "bfloat16" if self.sizes.get("bf16") else "float16"

    def inputs(self, torch, seed):
        """The input tensors, then the output's shape."""
        s, dtype = self.sizes, getattr(torch, self.dtype_name)
        gen = torch.Generator(device="cuda").manual_seed(seed)
        if self.example == "gemm":
            shapes, out = [(s["M"], s["K"]), (s["K"], s["N"])], (s["M"], s["N"])
        else:
            shape = (s["B"], s["H"], s["S"], s["D"])
            shapes, out = [shape] * 3, shape
        return [torch.randn(*sh, dtype=dtype, device="cuda", generator=gen) for sh in shapes], out

    def errors(self, torch, inputs, outputs):
        """For each output, max|out - ref| / max|ref| against torch (inf when it is not finite), and
        torch's own label."""
        if self.example == "gemm":
            a, b = inputs
            ref = a.float() @ b.float()  # float32 accumulation, no TF32 (set in main)
            return [normwise(torch, o, ref) for o in outputs], "float32 matmul"
        q, k, v = inputs
        causal = bool(self.sizes.get("causal"))
        B, H = q.shape[0], q.shape[1]
        pairs = sorted({(0, 0), (B - 1, H - 1), (B // 2, H // 2)})
        return [attention_error(torch, o, q, k, v, causal, pairs) for o in outputs], "float64 attention, 3 heads"


def normwise(torch, out, ref):
    out = out.float()
    if not torch.isfinite(out).all():
        return float("inf")
    return ((out - ref).abs().max() / ref.abs().max()).item()


def cases(args):
    out = []
    for n in args.gemm_sizes:
        spec = f"M={n},N={n},K={n}" + (f",{args.gemm_knobs}" if args.gemm_knobs else "")
        out.append(Case("gemm", spec, f"gemm {n}^3 fp16", 2.0 * n ** 3, 1e-2))
    B, H, S, D = args.fa_shape
    for bf16 in (0, 1):
        for causal in (0, 1):
            spec = f"B={B},H={H},S={S},D={D},causal={causal},bf16={bf16}" + (f",{args.fa_knobs}" if args.fa_knobs else "")
            label = f"fa {B}x{H}x{S}x{D} {'bf16' if bf16 else 'fp16'}{' causal' if causal else ''}"
            out.append(Case("flash_attention", spec, label, 4.0 * B * H * S * S * D / (2 if causal else 1),
                            2e-2 if bf16 else 1e-2))
    if args.quick:
        out = [out[0], out[-1]]
    return out


def build(capi, case, target):
    """(Python kernel, C++ kernel) for `case`, compiled for `target`; their signatures must agree."""
    python = tilescale.compile(python_same_code.PYTHON[case.example](case.spec), target=target)
    cxx = CKernel(capi, case.example, case.spec, target)
    if python_signature(python) != cxx.params:
        raise RuntimeError(f"{case.label}: the Python kernel's parameters {python_signature(python)} are not the C++ "
                           f"kernel's {cxx.params}")
    return python, cxx


def run_case(torch, capi, case, args):
    row = {"case": case.label, "ok": False}
    try:
        python, cxx = build(capi, case, "cuda")
    except (RuntimeError, tilescale.Error) as e:
        row["error"] = str(e)
        return row
    print(f"  {case.label}: {cxx.description}")
    inputs, out_shape = case.inputs(torch, args.seed)
    dtype = inputs[0].dtype
    out_py = torch.full(out_shape, float("nan"), dtype=dtype, device="cuda")
    out_cxx = torch.full_like(out_py, float("nan"))
    cxx.check(torch, inputs + [out_cxx])
    try:
        python(*inputs, out_py)
        cxx(torch, *inputs, out_cxx)
        torch.cuda.synchronize()
    except (RuntimeError, tilescale.Error) as e:
        row["error"] = str(e)
        cxx.close()
        return row
    row["bitwise"] = torch.equal(out_py, out_cxx)
    row["py_vs_cxx"] = normwise(torch, out_py, out_cxx.float())
    (row["err_py"], row["err_cxx"]), row["reference"] = case.errors(torch, inputs, [out_py, out_cxx])
    row["ok"] = row["err_py"] <= case.tol and row["err_cxx"] <= case.tol and row["py_vs_cxx"] <= case.tol
    times = time_interleaved(torch, [("python", lambda: python(*inputs, out_py)),
                                     ("cxx", lambda: cxx(torch, *inputs, out_cxx))], args.warmup, args.reps)
    row["py_ms"], row["cxx_ms"] = times["python"], times["cxx"]
    row["py_tflops"] = case.flops / (times["python"] * 1e-3) / 1e12
    row["cxx_tflops"] = case.flops / (times["cxx"] * 1e-3) / 1e12
    cxx.close()
    return row


def dry_run(capi, args):
    """Without a GPU: every case's Python program built and its CUDA generated, both kernels compiled
    for the CPU backend (nothing runs at these sizes) and their signatures compared."""
    for case in cases(args):
        source = tilescale.generate_cuda(python_same_code.PYTHON[case.example](case.spec), "sm_90a")
        python, cxx = build(capi, case, "cpu")
        print(f"  {case.label}: Python and C++ ({cxx.description}) take {cxx.params}; {len(source)} characters of "
              f"CUDA for sm_90a; flops {case.flops:.3g}, tolerance {case.tol}")
        cxx.close()
    print(f"dry run: every case builds on both sides with the same signature (ts_program_create from {capi.path})")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lib", help="libtilescale_capi.so")
    parser.add_argument("--gemm-knobs", default=python_same_code.GEMM_FAST)
    parser.add_argument("--gemm-sizes", type=lambda s: [int(n) for n in s.split(",")], default=[8192],
                        help="M=N=K of each gemm case (default 8192)")
    parser.add_argument("--fa-knobs", default=python_same_code.FA_FAST)
    parser.add_argument("--fa-shape", type=lambda s: [int(n) for n in s.split(",")], default=[4, 32, 4096, 128],
                        help="B,H,S,D (default 4,32,4096,128)")
    parser.add_argument("--quick", action="store_true", help="the gemm and one flash_attention case")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=30, help="timed rounds (median)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="no GPU: build both sides, compare their signatures")
    args = parser.parse_args(argv)
    if len(args.fa_shape) != 4:
        parser.error("--fa-shape wants B,H,S,D")
    capi = CApi(args.lib)
    if args.dry_run:
        return dry_run(capi, args)

    try:
        import torch
    except ImportError as e:
        fail_setup(f"this benchmark needs PyTorch with CUDA ({e}); --dry-run runs without")
    if not torch.cuda.is_available():
        fail_setup(f"torch {torch.__version__} sees no CUDA GPU; --dry-run runs without")
    torch.cuda.set_device(0)  # the C ABI launches on device 0
    torch.backends.cuda.matmul.allow_tf32 = False  # the float32 reference stays float32
    prop = torch.cuda.get_device_properties(0)
    print(f"GPU {prop.name} ({prop.multi_processor_count} SMs), torch {torch.__version__}, library {capi.path}")
    print(f"gemm knobs {args.gemm_knobs or '(defaults)'}, flash_attention knobs {args.fa_knobs or '(defaults)'}; median of "
          f"{args.reps} interleaved runs after {args.warmup} warm-ups, L2 flushed before each")
    rows = []
    for case in cases(args):
        rows.append(run_case(torch, capi, case, args))
        torch.cuda.empty_cache()

    print()
    header = (f"{'case':<30} {'python ms':>10} {'C++ ms':>9} {'py/C++':>7} {'py TFLOP/s':>10} {'C++ TFLOP/s':>11} "
              f"{'bitwise':>7} {'err py':>8} {'err C++':>8}")
    print(header)
    print("-" * len(header))
    failed = False
    for r in rows:
        if "py_ms" not in r:
            print(f"{r['case']:<30} FAILED: {r.get('error', '?')}")
            failed = True
            continue
        mark = "" if r["ok"] else "  FAIL"
        print(f"{r['case']:<30} {r['py_ms']:>10.3f} {r['cxx_ms']:>9.3f} {r['py_ms'] / r['cxx_ms']:>7.3f} "
              f"{r['py_tflops']:>10.1f} {r['cxx_tflops']:>11.1f} {'yes' if r['bitwise'] else 'NO':>7} "
              f"{r['err_py']:>8.1e} {r['err_cxx']:>8.1e}{mark}")
        failed |= not r["ok"]
    print("\npy/C++: the Python kernel's time over the C++ one's (1.000: the same); bitwise: the two outputs are "
          "equal bit for bit; err: max|out - ref| / max|ref| against torch (gemm: float32 matmul; flash_attention: "
          "float64 attention on 3 (batch, head) pairs)")
    if failed:
        print("FAIL: a correctness check failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
