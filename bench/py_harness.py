"""What the Python benchmarks share (flash_attention_sdpa.py, python_vs_cpp.py): libtilescale_capi.so
(include/tilescale/capi.h) through ctypes, interleaved CUDA-event timing, attention in float64.
"""
import ctypes
import math
import os
import statistics
import sys


def fail_setup(message):
    """Exit status 2: what the benchmark needs is missing."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


class CApi:
    """The library, its functions typed."""

    def __init__(self, path):
        if not os.path.exists(path):
            fail_setup(f"{path} does not exist; build it with `ninja -C <build> tilescale_capi` and pass its path")
        lib = ctypes.CDLL(os.path.abspath(path))
        lib.ts_program_create.restype = ctypes.c_void_p
        lib.ts_program_create.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
        lib.ts_kernel_num_params.restype = ctypes.c_int
        lib.ts_kernel_num_params.argtypes = [ctypes.c_void_p]
        for f in (lib.ts_kernel_param_name, lib.ts_kernel_param_dtype):
            f.restype = ctypes.c_char_p
            f.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.ts_kernel_param_rank.restype = ctypes.c_int
        lib.ts_kernel_param_rank.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.ts_kernel_param_dim.restype = ctypes.c_int64
        lib.ts_kernel_param_dim.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        lib.ts_kernel_describe.restype = ctypes.c_char_p
        lib.ts_kernel_describe.argtypes = [ctypes.c_void_p]
        lib.ts_kernel_call.restype = ctypes.c_int
        lib.ts_kernel_call.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_void_p]
        lib.ts_kernel_destroy.restype = None
        lib.ts_kernel_destroy.argtypes = [ctypes.c_void_p]
        lib.ts_last_error.restype = ctypes.c_char_p
        lib.ts_last_error.argtypes = []
        self.lib, self.path = lib, path

    def last_error(self):
        return self.lib.ts_last_error().decode()


class CKernel:
    """A registered program (libtilescale_capi.so registers every example) compiled through the C ABI.
    params: (name, shape, dtype name) per parameter. A call checks the torch tensors against them
    (the C ABI cannot) and launches on torch's current stream."""

    def __init__(self, capi, program, sizes, target="cuda"):
        self.capi, lib = capi, capi.lib
        self.handle = lib.ts_program_create(program.encode(), sizes.encode(), target.encode())
        if not self.handle:
            raise RuntimeError(f"tilescale could not build {program} [{sizes}]: {capi.last_error()}")
        self.params = []
        for i in range(lib.ts_kernel_num_params(self.handle)):
            shape = tuple(lib.ts_kernel_param_dim(self.handle, i, d) for d in range(lib.ts_kernel_param_rank(self.handle, i)))
            self.params.append((lib.ts_kernel_param_name(self.handle, i).decode(), shape,
                                lib.ts_kernel_param_dtype(self.handle, i).decode()))
        self.description = lib.ts_kernel_describe(self.handle).decode()
        self._ptrs = (ctypes.c_void_p * len(self.params))()

    def check(self, torch, tensors):
        """ValueError unless every tensor is as its parameter wants it: shape, dtype, contiguous, on cuda:0."""
        if len(tensors) != len(self.params):
            raise ValueError(f"{len(tensors)} tensors for parameters {[p[0] for p in self.params]}")
        for t, (name, shape, dtype) in zip(tensors, self.params):
            if (tuple(t.shape) != shape or str(t.dtype) != f"torch.{dtype}" or not t.is_contiguous()
                    or t.device != torch.device("cuda", 0)):
                raise ValueError(f"parameter {name} wants a contiguous {dtype}{list(shape)} on cuda:0, got "
                                 f"{t.dtype}{list(t.shape)} on {t.device} (contiguous: {t.is_contiguous()})")

    def __call__(self, torch, *tensors):
        for i, t in enumerate(tensors):
            self._ptrs[i] = t.data_ptr()
        stream = torch.cuda.current_stream().cuda_stream
        if self.capi.lib.ts_kernel_call(self.handle, self._ptrs, len(tensors), ctypes.c_void_p(stream)) != 0:
            raise RuntimeError(f"tilescale call failed: {self.capi.last_error()}")

    def close(self):
        if self.handle:
            self.capi.lib.ts_kernel_destroy(self.handle)
            self.handle = None


def attention_error(torch, out, q, k, v, causal, pairs):
    """max|out - ref| / max|ref| over the (batch, head) pairs, ref = attention in float64 (inf when
    out is not finite there)."""
    worst_diff, worst_ref = 0.0, 0.0
    for b, h in pairs:
        qh, kh, vh = (x[b, h].double() for x in (q, k, v))
        s = (qh @ kh.T) / math.sqrt(q.shape[-1])
        if causal:
            n = s.shape[0]
            s.masked_fill_(torch.ones(n, n, dtype=torch.bool, device=s.device).triu_(1), float("-inf"))
        ref = torch.softmax(s, dim=-1) @ vh
        del s
        got = out[b, h].double()
        if not torch.isfinite(got).all():
            return float("inf")
        worst_diff = max(worst_diff, (got - ref).abs().max().item())
        worst_ref = max(worst_ref, ref.abs().max().item())
    return worst_diff / worst_ref


def time_interleaved(torch, impls, warmup, reps):
    """Median milliseconds of each (name, fn): warm-up, then rounds calling each fn once, the order
    reversed every other round; CUDA events around each call, a 256 MB L2 flush before it."""
    flush = torch.empty(256 * 1024 * 1024, dtype=torch.uint8, device="cuda")
    for _, fn in impls:
        for _ in range(warmup):
            fn()
    events = {name: [] for name, _ in impls}
    for r in range(reps):
        for name, fn in impls if r % 2 == 0 else impls[::-1]:
            flush.zero_()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            events[name].append((start, end))
    torch.cuda.synchronize()
    return {name: statistics.median(s.elapsed_time(e) for s, e in pairs) for name, pairs in events.items()}
