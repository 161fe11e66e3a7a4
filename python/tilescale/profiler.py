"""The profiler of a compiled kernel, as TileLang's: kernel.get_profiler().

    profiler = kernel.get_profiler()
    profiler.assert_allclose(lambda a, b: a + b, rtol=1e-5, atol=1e-5)   # random inputs, every output
    ms = profiler.do_bench()                                             # median milliseconds

Inputs are made for the kernel's non-output parameters in parameter order: normal values for
floating tensors, small random integers for integer tensors (never zeros: a kernel that forgot to
write, or read the wrong element, still shows), and the values given in scalars={name: value} for
scalar parameters. On the CPU backend they are numpy arrays and do_bench reads time.perf_counter;
on CUDA they are torch tensors and do_bench times each run with CUDA events after zeroing a 256 MB
buffer, so that every run starts with a cold L2.
"""

import statistics
import time

import numpy as np

from . import _tilescale as _C

_INTEGER_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
# TileLang's TensorSupplyType names (an enum member's .name or a string), lower-cased.
_SUPPLIES = {"auto": "normal", "normal": "normal", "randn": "normal", "uniform": "uniform", "integer": "integer",
             "one": "one", "zero": "zero"}


def _supply_name(kind):
    if kind is None:
        return "normal"
    name = str(getattr(kind, "name", kind)).lower()
    if name not in _SUPPLIES:
        raise ValueError(f"cannot supply inputs of kind {kind!r}; use one of {', '.join(sorted(_SUPPLIES))}")
    return _SUPPLIES[name]


class Profiler:
    def __init__(self, kernel, tensor_supply_type=None, scalars=None):
        self.kernel = kernel  # the JITKernel
        self.supply = _supply_name(tensor_supply_type)
        self.scalars = dict(scalars or {})
        self._rng = np.random.default_rng(0)

    def __call__(self, *args, **kwargs):
        return self.kernel(*args, **kwargs)

    @property
    def _name(self):
        return self.kernel.name

    def _get_inputs(self, scalars=None):
        """Random arguments for the kernel's non-output parameters, in parameter order."""
        values = {**self.scalars, **(scalars or {})}
        params = self.kernel.params
        scalar_names = {params[i][0] for i in self.kernel._scalars}
        unknown = sorted(set(values) - scalar_names)
        if unknown:
            raise ValueError(f"cannot give scalars {', '.join(unknown)} to {self._name} because it has no such scalar "
                             f"parameter; its scalar parameters are: {', '.join(sorted(scalar_names)) or 'none'}")
        inputs = []
        for i in self.kernel._inputs:
            name, shape, dtype, scalar = params[i]
            if scalar:
                if name not in values:
                    raise ValueError(f"cannot make inputs for {self._name} because scalar parameter {name} has no "
                                     f"value; pass scalars={{'{name}': ...}}")
                inputs.append(values[name])
            else:
                inputs.append(self._tensor(i, name, shape, _C.dtype_name(dtype)))
        return inputs

    def _tensor(self, i, name, shape, dtype):
        if any(d < 0 for d in shape):
            d = next(k for k, n in enumerate(shape) if n < 0)
            raise ValueError(f"cannot make a random input for {name} of {self._name} because its dimension {d} is "
                             f"symbolic; pass input_tensors")
        rng, supply = self._rng, self.supply
        if supply == "integer" or dtype in _INTEGER_DTYPES or dtype == "bool":
            low = 0 if dtype.startswith("uint") or dtype == "bool" else -4
            high = 2 if dtype == "bool" else 5
            values = rng.integers(low, high, size=shape)
        elif supply == "uniform":
            values = rng.uniform(-1.0, 1.0, size=shape)
        elif supply in ("one", "zero"):
            values = np.full(shape, 1.0 if supply == "one" else 0.0)
        else:
            values = rng.standard_normal(shape)
        if self.kernel.target == "cpu":
            from ._kernel import _NUMPY_NAMES
            if dtype not in _NUMPY_NAMES:
                raise NotImplementedError(f"cannot make a numpy input of {dtype} for {name} of {self._name}; pass "
                                          f"input_tensors")
            return values.astype(_NUMPY_NAMES[dtype])
        import torch
        torch_dtype = getattr(torch, dtype.replace("float8_e4m3", "float8_e4m3fn"))
        values = values.astype(np.float32 if values.dtype.kind == "f" else np.int64)
        return torch.from_numpy(values).to(device="cuda").to(torch_dtype)

    def run_once(self, func=None, input_tensors=None, scalars=None):
        """Calls `func` (default: the kernel) once on random inputs; returns what it returns."""
        inputs = self._get_inputs(scalars) if input_tensors is None else list(input_tensors)
        return (func or self.kernel)(*inputs)

    def assert_allclose(self, reference_program, input_tensors=None, atol=1e-2, rtol=1e-2, max_mismatched_ratio=0.01,
                        scalars=None):
        """Runs the kernel and reference_program on the same random inputs and compares every output.

        reference_program takes the kernel's non-output arguments in parameter order and returns its
        outputs (one, or a list in out_idx order). An element is close when |got - expected| <=
        atol + rtol * |expected|; more than max_mismatched_ratio of an output's elements not close
        raises AssertionError naming the output and its worst element.
        """
        inputs = self._get_inputs(scalars) if input_tensors is None else list(input_tensors)
        expected = _as_list(reference_program(*inputs))
        got = _as_list(self.kernel(*inputs))
        names = [self.kernel.params[i][0] for i in self.kernel.out_idx]
        if len(got) != len(expected):
            raise AssertionError(f"{self._name} returned {len(got)} outputs ({', '.join(names) or 'none'}) but the "
                                 f"reference returned {len(expected)}")
        for name, g, e in zip(names, got, expected):
            _assert_close(f"output {name} of {self._name}", _to_numpy(g), _to_numpy(e), atol, rtol,
                          max_mismatched_ratio)

    def do_bench(self, func=None, warmup=25, rep=100, n_warmup=0, n_repeat=0, input_tensors=None, scalars=None):
        """The median time in milliseconds of `func` (default: the kernel) on random inputs.

        warmup and rep are budgets in milliseconds, turned into counts of runs from a first
        estimate; n_warmup and n_repeat, when positive, are the counts themselves.
        """
        inputs = self._get_inputs(scalars) if input_tensors is None else list(input_tensors)
        fn = func or self.kernel
        if self.kernel.target == "cpu":
            return do_bench_cpu(lambda: fn(*inputs), warmup, rep, n_warmup, n_repeat)
        return do_bench(lambda: fn(*inputs), warmup, rep, n_warmup, n_repeat)


def _as_list(outputs):
    if outputs is None:
        return []
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _to_numpy(x):
    if type(x).__module__.startswith("torch"):
        import torch
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


def _assert_close(what, got, expected, atol, rtol, max_mismatched_ratio):
    if got.shape != expected.shape:
        raise AssertionError(f"{what} has shape {tuple(got.shape)} but the reference has {tuple(expected.shape)}")
    if got.size == 0:
        return
    with np.errstate(invalid="ignore"):
        excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    both_nan = np.isnan(got) & np.isnan(expected)
    excess = np.where(both_nan, -np.inf, np.nan_to_num(excess, nan=np.inf))
    bad = excess > 0
    if bad.sum() > max_mismatched_ratio * got.size:
        worst = np.unravel_index(np.argmax(excess), got.shape)
        index = tuple(int(k) for k in worst)
        raise AssertionError(f"{what} is not close to the reference: {int(bad.sum())} of {got.size} elements differ "
                             f"(rtol={rtol}, atol={atol}); the worst is at {index}: got {got[worst]!r}, expected "
                             f"{expected[worst]!r}")


def _counts(estimate_ms, warmup, rep, n_warmup, n_repeat):
    estimate_ms = max(estimate_ms, 1e-6)
    return (n_warmup if n_warmup > 0 else max(1, int(warmup / estimate_ms)),
            n_repeat if n_repeat > 0 else max(1, int(rep / estimate_ms)))


def do_bench_cpu(fn, warmup=25, rep=100, n_warmup=0, n_repeat=0):
    """The median wall-clock time of fn() in milliseconds (time.perf_counter)."""
    start = time.perf_counter()
    fn()
    n_warmup, n_repeat = _counts((time.perf_counter() - start) * 1e3, warmup, rep, n_warmup, n_repeat)
    for _ in range(n_warmup):
        fn()
    times = []
    for _ in range(n_repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def do_bench(fn, warmup=25, rep=100, n_warmup=0, n_repeat=0):
    """The median time of fn() on the current CUDA stream in milliseconds: CUDA events around each
    run, a 256 MB buffer zeroed before each so that none finds the previous run's data in L2."""
    import torch
    flush = torch.empty(256 * 1024 * 1024 // 4, dtype=torch.int32, device="cuda")
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(5):
        flush.zero_()
        fn()
    end.record()
    torch.cuda.synchronize()
    n_warmup, n_repeat = _counts(start.elapsed_time(end) / 5, warmup, rep, n_warmup, n_repeat)
    for _ in range(n_warmup):
        fn()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n_repeat)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n_repeat)]
    for s, e in zip(starts, ends):
        flush.zero_()
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends))
