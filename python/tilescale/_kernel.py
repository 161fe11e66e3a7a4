"""JITKernel: a compiled kernel called with arrays (numpy on the CPU backend, any DLPack tensor).

The C++ call checks every argument (count, dtype, rank, shape, device) and raises
tilescale.RuntimeError naming the parameter; this wrapper only allocates the out_idx outputs and
hands arrays over through DLPack.
"""

import operator

from . import _tilescale as _C

_NUMPY_NAMES = {"bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
                "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
                "float16": "float16", "float32": "float32", "float64": "float64"}


def _symbol(e):
    """The name of a symbolic dimension (T.dynamic), None for a constant."""
    return repr(e) if isinstance(e, _C.Expr) else None


class JITKernel:
    def __init__(self, kernel, prim_func, out_idx):
        self.kernel, self.prim_func = kernel, prim_func
        self.params = kernel.params()  # (name, shape with -1 for symbolic dims, DataType, scalar)
        n = len(self.params)
        if out_idx is None:
            out_idx = []
        elif isinstance(out_idx, int):
            out_idx = [out_idx]
        out = []
        for i in out_idx:
            if not -n <= i < n:
                raise ValueError(f"cannot use out_idx {i} for {kernel.name} because it has {n} parameters")
            if self.params[i % n][3]:
                raise ValueError(f"cannot use out_idx {i} for {kernel.name} because parameter {self.params[i % n][0]} "
                                 f"is a scalar; outputs are tensors")
            out.append(i % n)
        self.out_idx = sorted(set(out))
        # What every call needs, worked out once.
        self._names = [p[0] for p in self.params]
        self._inputs = [i for i in range(n) if i not in self.out_idx]
        self._scalars = [i for i in range(n) if self.params[i][3]]
        self._on_cpu = kernel.target == "cpu"

    @property
    def target(self):
        return self.kernel.target

    def get_kernel_source(self):
        """The generated CUDA C++; on the CPU backend, the program it runs (the lowered IR)."""
        return self.kernel.cuda_source() or self.kernel.lowered_ir()

    def get_profiler(self, tensor_supply_type=None, scalars=None):
        """TileLang's profiler: do_bench, assert_allclose and run_once on random inputs (profiler.py).
        scalars={name: value} gives the scalar parameters, which have no random value."""
        from .profiler import Profiler
        return Profiler(self, tensor_supply_type, scalars)

    def _dim(self, param, d, inputs):
        name, shape, _, _ = self.params[param]
        if shape[d] >= 0:
            return shape[d]
        symbol = _symbol(self.prim_func.params[param][1].shape[d])
        for i, arr in inputs.items():
            for k, e in enumerate(self.prim_func.params[i][1].shape):
                if symbol is not None and _symbol(e) == symbol:
                    return arr.shape[k]
        raise NotImplementedError(f"cannot allocate output {name} of {self.kernel.name} because its dimension {d} "
                                  f"({symbol}) is not a plain dimension of an input; pass {name} as an argument")

    def _allocate(self, i, inputs):
        name, shape, dt, _ = self.params[i]
        shape = [self._dim(i, d, inputs) for d in range(len(shape))]
        dtype_name = _C.dtype_name(dt)
        if self.kernel.target == "cpu":
            import numpy as np
            if dtype_name not in _NUMPY_NAMES:
                raise NotImplementedError(f"cannot allocate output {name} of {self.kernel.name} as a numpy array of "
                                          f"{dtype_name}; pass it as an argument (e.g. a torch tensor)")
            return np.empty(shape, dtype=_NUMPY_NAMES[dtype_name])
        try:
            import torch
        except ImportError:
            raise NotImplementedError(f"cannot allocate output {name} of {self.kernel.name} on the GPU without torch; "
                                      f"install torch or pass the output as an argument") from None
        torch_dtype = getattr(torch, dtype_name.replace("float8_e4m3", "float8_e4m3fn"))
        return torch.empty(shape, dtype=torch_dtype, device="cuda")

    def __call__(self, *args, stream=None):
        n, outs, names = len(self.params), self.out_idx, self._names
        if len(args) == n:
            arrays, outputs = list(args), None
        elif len(args) == len(self._inputs):
            given = dict(zip(self._inputs, args))
            arrays = [None] * n
            for i, a in given.items():
                arrays[i] = a
            for i in outs:
                arrays[i] = self._allocate(i, given)
            outputs = [arrays[i] for i in outs]
        else:
            wanted = ", ".join(names[i] for i in self._inputs)
            raise TypeError(f"cannot call {self.kernel.name} with {len(args)} arguments; it takes {len(self._inputs)} "
                            f"({wanted})" + (f", or all {n} ({', '.join(names)})" if outs else ""))
        for i in self._scalars:
            arrays[i] = self._scalar(self.params[i], arrays[i])
        if stream is None:
            stream = self._current_stream(arrays)
        try:
            self.kernel.call(arrays, stream)
        except TypeError:
            self._check_arrays(arrays)  # says which argument is not an array
            raise
        if outputs is None:
            return None
        return outputs[0] if len(outputs) == 1 else outputs

    def _check_arrays(self, arrays):
        for i, (param, a) in enumerate(zip(self.params, arrays)):
            if not param[3] and not (hasattr(a, "__dlpack__") or hasattr(a, "__array_interface__")):
                raise TypeError(f"cannot pass a {type(a).__name__} as {param[0]} of {self.kernel.name}; pass a numpy "
                                f"array or a DLPack tensor (torch)")

    def _scalar(self, param, a):
        """A scalar argument as a Python int or float (numpy scalars too); the C++ call checks the rest."""
        if isinstance(a, bool) or hasattr(a, "__len__"):
            self._not_scalar(param, a)
        try:
            return operator.index(a)
        except TypeError:
            pass
        try:
            return float(a)
        except (TypeError, ValueError):
            self._not_scalar(param, a)

    def _not_scalar(self, param, a):
        raise TypeError(f"cannot pass a {type(a).__name__} as {param[0]} of {self.kernel.name}; it is a scalar "
                        f"parameter ({_C.dtype_name(param[2])}): pass a Python int or float")

    def _current_stream(self, arrays):
        """torch's current stream on the device of the first CUDA torch tensor among the arguments, else 0
        (the default stream; a tensor elsewhere is refused by the call's checks)."""
        if self._on_cpu:
            return 0
        for a in arrays:
            if type(a).__module__.startswith("torch") and a.is_cuda:
                return _torch_stream(a.device.index)
        return 0


_raw_stream = None


def _torch_stream(device):
    """torch's current CUDA stream on `device` as an integer handle (its raw getter, looked up once)."""
    global _raw_stream
    if _raw_stream is None:
        import torch
        getter = getattr(torch._C, "_cuda_getCurrentRawStream", None)  # what torch.cuda.current_stream reads
        _raw_stream = getter or (lambda d: torch.cuda.current_stream(d).cuda_stream)
    return _raw_stream(device)
