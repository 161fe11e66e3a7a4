#!/usr/bin/env python3
"""FlashAttention forward: tilescale's flash_attention example against torch's
scaled_dot_product_attention backends, in one process on one GPU.

Our kernel is built and called through the C ABI (libtilescale_capi.so, include/tilescale/capi.h)
on torch's own tensors and stream. For each case (bfloat16 Q, K, V of shape [B, H, S, D], or
float16 with --dtype float16; causal or not) the script

  1. makes fresh random inputs (randn) and an output full of NaN, runs ours once and checks it
     against attention computed in float64 on a few (batch, head) pairs: max|ours - ref| / max|ref|
     must be within --tol (the best torch backend's error on the same pairs is shown beside it);
  2. times ours and every SDPA backend that runs here (FLASH_ATTENTION, EFFICIENT_ATTENTION,
     CUDNN_ATTENTION; one that raises is skipped, with the reason) with CUDA events: --warmup calls
     each, then --reps rounds that call every implementation once in turn (interleaved, the order
     reversed every other round), each call preceded by a 256 MB memset that flushes L2 and hides
     the launch; the median is reported.

Output: a table of our time, the fastest torch backend's, "ours/peer" = t_peer / t_ours (100% = as
fast as the peer) and TFLOP/s for both, with FLOPs = 4·B·H·S²·D (halved when causal). The exit
status is 1 when a correctness check fails, 2 when the setup is missing (torch, a GPU, the library).

    python3 bench/flash_attention_sdpa.py --lib build/libtilescale_capi.so
    python3 bench/flash_attention_sdpa.py --quick --knobs "BM=128,BN=128,threads=256,stages=3"
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_harness import CApi, CKernel, attention_error, fail_setup, time_interleaved  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_LIB = os.path.join(REPO, "build", "libtilescale_capi.so")


def sdpa_backends(torch):
    """(name, SDPBackend) for every backend this torch knows of among the fast ones."""
    try:
        from torch.nn.attention import SDPBackend
    except ImportError:
        return []
    names = ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"]
    return [(n.lower(), getattr(SDPBackend, n)) for n in names if hasattr(SDPBackend, n)]


def run_case(torch, F, capi, args, B, H, S, D, causal):
    label = f"B={B} H={H} S={S} D={D} {'causal' if causal else 'non-causal'}"
    bf16 = int(args.dtype == "bfloat16")
    sizes = f"B={B},H={H},S={S},D={D},causal={int(causal)},bf16={bf16}" + (f",{args.knobs}" if args.knobs else "")
    row = {"case": label, "ok": False}
    try:
        ours = CKernel(capi, "flash_attention", sizes)
    except RuntimeError as e:
        print(f"  {label}: {e}")
        row["error"] = str(e)
        return row
    print(f"  {label}: {ours.description}")

    gen = torch.Generator(device="cuda").manual_seed(args.seed + S + 7 * int(causal))
    q, k, v = (torch.randn(B, H, S, D, dtype=getattr(torch, args.dtype), device="cuda", generator=gen) for _ in range(3))
    o = torch.full_like(q, float("nan"))
    try:
        ours.check(torch, (q, k, v, o))
        ours(torch, q, k, v, o)
        torch.cuda.synchronize()
    except RuntimeError as e:
        print(f"  {label}: {e}")
        row["error"] = str(e)
        ours.close()
        return row

    # Correctness on a few (batch, head) pairs against float64; the full output against torch below.
    pairs = sorted({(0, 0), (B - 1, H - 1), (B // 2, H // 2)})[: max(1, args.ref_pairs)]
    err = attention_error(torch, o, q, k, v, causal, pairs)
    row["err"] = err
    row["ok"] = err <= args.tol

    impls = [("tilescale", lambda: ours(torch, q, k, v, o))]
    skipped = []
    best_out = None
    for name, backend in sdpa_backends(torch):
        def call(backend=backend):
            with torch.nn.attention.sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        try:
            out = call()
            torch.cuda.synchronize()
        except Exception as e:  # not supported for these inputs or on this GPU
            skipped.append(f"{name} ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})")
            continue
        if best_out is None:
            best_out, row["torch_ref"] = out, name
        impls.append((name, call))
    row["skipped"] = skipped
    if best_out is not None:
        row["torch_err"] = attention_error(torch, best_out, q, k, v, causal, pairs)
        row["vs_torch"] = ((o.float() - best_out.float()).abs().max() / best_out.float().abs().max()).item()
        del best_out

    times = time_interleaved(torch, impls, args.warmup, args.reps)
    flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
    row["ours_ms"] = times.pop("tilescale")
    row["ours_tflops"] = flops / (row["ours_ms"] * 1e-3) / 1e12
    row["peers"] = times
    if times:
        best = min(times, key=times.get)
        row["best"], row["best_ms"] = best, times[best]
        row["best_tflops"] = flops / (times[best] * 1e-3) / 1e12
    ours.close()
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lib", default=os.environ.get("TILESCALE_CAPI", DEFAULT_LIB),
                        help="libtilescale_capi.so (default: $TILESCALE_CAPI, else build/libtilescale_capi.so)")
    parser.add_argument("--knobs", default="", help='flash_attention knobs, e.g. "BM=128,BN=128,threads=256,stages=3"')
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16"], help="Q, K, V and O (default bfloat16)")
    parser.add_argument("--quick", action="store_true", help="one small case (B=1 H=4 S=1024 D=128), both masks")
    parser.add_argument("--seq", default="4096,8192", help="sequence lengths (default 4096,8192)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--causal", default="0,1", help="which masks: 0, 1 or 0,1")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=30, help="timed rounds (median; at least 20)")
    parser.add_argument("--tol", type=float, default=2e-2, help="max|ours - ref| / max|ref| allowed")
    parser.add_argument("--ref-pairs", type=int, default=3, help="(batch, head) pairs checked against float64")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.reps < 20:
        parser.error("--reps must be at least 20")

    try:
        import torch
        import torch.nn.functional as F
        import torch.nn.attention  # noqa: F401  (sdpa_kernel)
    except ImportError as e:
        fail_setup(f"this benchmark needs PyTorch with CUDA ({e}); run it where torch is installed")
    if not torch.cuda.is_available():
        fail_setup(f"torch {torch.__version__} sees no CUDA GPU; run this on a machine with an NVIDIA GPU")
    torch.cuda.set_device(0)  # the C ABI launches on device 0
    capi = CApi(args.lib)

    prop = torch.cuda.get_device_properties(0)
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    print(f"GPU {prop.name} ({prop.multi_processor_count} SMs), torch {torch.__version__}, cuDNN {cudnn}, "
          f"library {capi.path}")
    print(f"knobs: {args.knobs or '(example defaults)'}; median of {args.reps} interleaved runs after "
          f"{args.warmup} warm-ups, L2 flushed before each")

    if args.quick:
        shapes = [(1, 4, 1024, args.head_dim)]
    else:
        shapes = [(args.batch, args.heads, int(s), args.head_dim) for s in args.seq.split(",")]
    masks = [bool(int(c)) for c in args.causal.split(",")]
    rows = []
    for B, H, S, D in shapes:
        for causal in masks:
            rows.append(run_case(torch, F, capi, args, B, H, S, D, causal))
            torch.cuda.empty_cache()

    print()
    header = (f"{'case':<34} {'ours ms':>9} {'TFLOP/s':>8} {'best torch':>20} {'ms':>9} {'TFLOP/s':>8} "
              f"{'ours/peer':>9} {'err':>8} {'torch err':>9} {'vs torch':>8}")
    print(header)
    print("-" * len(header))
    failed = False
    for r in rows:
        if "ours_ms" not in r:
            print(f"{r['case']:<34} FAILED: {r.get('error', '?')}")
            failed = True
            continue
        best = r.get("best")
        peer = (f"{best:>20} {r['best_ms']:>9.3f} {r['best_tflops']:>8.1f} {100 * r['best_ms'] / r['ours_ms']:>8.1f}%"
                if best else f"{'(none ran)':>20} {'':>9} {'':>8} {'':>9}")
        mark = "" if r["ok"] else "  FAIL"
        print(f"{r['case']:<34} {r['ours_ms']:>9.3f} {r['ours_tflops']:>8.1f} {peer} {r['err']:>8.1e} "
              f"{r.get('torch_err', float('nan')):>9.1e} {r.get('vs_torch', float('nan')):>8.1e}{mark}")
        failed |= not r["ok"]
    print()
    for r in rows:
        if "peers" in r:
            peers = ", ".join(f"{n} {t:.3f} ms" for n, t in sorted(r["peers"].items(), key=lambda kv: kv[1]))
            print(f"{r['case']}: {peers or 'no torch backend ran'}"
                  + (f"; skipped: {'; '.join(r['skipped'])}" if r.get("skipped") else ""))
    compared = sorted({r["torch_ref"] for r in rows if "torch_ref" in r})
    print(f"\nerr: max|ours - ref| / max|ref| on {args.ref_pairs} (batch, head) pairs against float64 (tolerance "
          f"{args.tol:g}); torch err: the same for torch's {'/'.join(compared) or '(none)'} backend (the first of "
          "flash, efficient, cudnn that runs); vs torch: ours against that backend's whole output")
    if failed:
        print("FAIL: a correctness check failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
