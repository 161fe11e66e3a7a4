"""JITKernel: a compiled kernel called with arrays (numpy on the CPU backend, torch tensors, any
DLPack tensor).

A call with one argument per parameter runs in C++ (tilescale._tilescale.Kernel.__call__, in
python/src/call_bindings.cc): it reads torch tensors through torch's DLPack C exchange API, checks
every argument (count, dtype, rank, shape, device) and raises tilescale.RuntimeError naming the
parameter. A call without the out_idx outputs comes here first, to allocate them.
"""

from . import _tilescale as _C

_NUMPY_NAMES = {"bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
                "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
                "float16": "float16", "float32": "float32", "float64": "float64"}


def _symbol(e):
    """The name of a symbolic dimension (T.dynamic), None for a constant."""
    return repr(e) if isinstance(e, _C.Expr) else None


class JITKernel(_C.Kernel):
    """kernel(*args, stream=None). The stream: torch's current stream on the device of the first CUDA
    tensor argument unless given (an int handle or a torch.cuda.Stream)."""

    def __init__(self, kernel, prim_func, out_idx):
        super().__init__(kernel)
        self.prim_func = prim_func
        self.params = self.param_info()  # (name, shape with -1 for symbolic dims, DataType, scalar)
        n = len(self.params)
        if out_idx is None:
            out_idx = []
        elif isinstance(out_idx, int):
            out_idx = [out_idx]
        out = []
        for i in out_idx:
            if not -n <= i < n:
                raise ValueError(f"cannot use out_idx {i} for {self.name} because it has {n} parameters")
            if self.params[i % n][3]:
                raise ValueError(f"cannot use out_idx {i} for {self.name} because parameter {self.params[i % n][0]} "
                                 f"is a scalar; outputs are tensors")
            out.append(i % n)
        self.out_idx = sorted(set(out))
        self._inputs = [i for i in range(n) if i not in self.out_idx]
        self._scalars = [i for i in range(n) if self.params[i][3]]

    def get_kernel_source(self):
        """The generated CUDA C++; on the CPU backend, the program it runs (the lowered IR)."""
        return self.cuda_source() or self.lowered_ir()

    def get_profiler(self, tensor_supply_type=None, scalars=None):
        """TileLang's profiler: do_bench, assert_allclose and run_once on random inputs (profiler.py).
        scalars={name: value} gives the scalar parameters, which have no random value."""
        from .profiler import Profiler
        return Profiler(self, tensor_supply_type, scalars)

    def _call_with_outputs(self, *args, stream=None):
        """A call with the inputs only: allocates the out_idx outputs, runs, returns them."""
        if len(args) != len(self._inputs) or not self.out_idx:
            names = [p[0] for p in self.params]
            wanted = ", ".join(names[i] for i in self._inputs)
            raise TypeError(f"cannot call {self.name} with {len(args)} arguments; it takes {len(self._inputs)} "
                            f"({wanted})" + (f", or all {len(names)} ({', '.join(names)})" if self.out_idx else ""))
        given = dict(zip(self._inputs, args))
        arrays = [None] * len(self.params)
        for i, a in given.items():
            arrays[i] = a
        device = self._output_device(args)
        for i in self.out_idx:
            arrays[i] = self._allocate(i, given, device)
        _C.Kernel.__call__(self, *arrays, stream=stream)
        outputs = [arrays[i] for i in self.out_idx]
        return outputs[0] if len(outputs) == 1 else outputs

    def _output_device(self, args):
        """Where a CUDA kernel's outputs go: the device of the first CUDA torch tensor among the
        inputs, else torch's current device."""
        for a in args:
            if getattr(a, "is_cuda", False):
                return a.device
        return "cuda"

    def _dim(self, param, d, inputs):
        name, shape, _, _ = self.params[param]
        if shape[d] >= 0:
            return shape[d]
        symbol = _symbol(self.prim_func.params[param][1].shape[d])
        for i, arr in inputs.items():
            for k, e in enumerate(self.prim_func.params[i][1].shape):
                if symbol is not None and _symbol(e) == symbol:
                    return arr.shape[k]
        raise NotImplementedError(f"cannot allocate output {name} of {self.name} because its dimension {d} "
                                  f"({symbol}) is not a plain dimension of an input; pass {name} as an argument")

    def _allocate(self, i, inputs, device):
        name, shape, dt, _ = self.params[i]
        shape = [self._dim(i, d, inputs) for d in range(len(shape))]
        dtype_name = _C.dtype_name(dt)
        if self.target == "cpu":
            import numpy as np
            if dtype_name not in _NUMPY_NAMES:
                raise NotImplementedError(f"cannot allocate output {name} of {self.name} as a numpy array of "
                                          f"{dtype_name}; pass it as an argument (e.g. a torch tensor)")
            return np.empty(shape, dtype=_NUMPY_NAMES[dtype_name])
        try:
            import torch
        except ImportError:
            raise NotImplementedError(f"cannot allocate output {name} of {self.name} on the GPU without torch; "
                                      f"install torch or pass the output as an argument") from None
        torch_dtype = getattr(torch, dtype_name.replace("float8_e4m3", "float8_e4m3fn"))
        return torch.empty(shape, dtype=torch_dtype, device=device)

