"""tilescale: a tile-language GPU kernel compiler (C++), with TileLang's Python front end.

    import tilescale
    import tilescale.language as T

    kernel = tilescale.compile(matmul(256, 256, 256), out_idx=[2], target="cpu")
    c = kernel(a, b)                    # numpy in, numpy out on the CPU backend

compile(func, out_idx, target) returns a JITKernel; @tilescale.jit(out_idx=...) compiles a function
that returns a prim_func, once per distinct arguments; @tilescale.autotune(configs=[...]) over it
picks the fastest config (kept on disk); kernel.get_profiler() times and checks a kernel;
generate_cuda(func, arch) is the CUDA C++ a program turns into, without a GPU. Errors:
tilescale.CompileError and tilescale.RuntimeError (both tilescale.Error, a Python RuntimeError)
carry the C++ messages.
tilescale.dist runs distributed programs (World.sim(n).run(fn), the symmetric heap).
"""

import functools as _functools
import warnings as _warnings

from . import _tilescale as _C
from . import language
from . import dist
from ._kernel import JITKernel

__version__ = "0.1.0"

Error = _C.Error
CompileError = _C.CompileError
RuntimeError = _C.RuntimeError  # noqa: A001 - the C++ name; it subclasses builtins.RuntimeError
InternalError = _C.InternalError


def compile(func, out_idx=None, target="auto", execution_backend=None, pass_configs=None,  # noqa: A001
            compiler_options=None, target_host=None, verbose=False):
    """Compiles a @T.prim_func for `target` ("auto", "cpu", "cuda"); returns a callable JITKernel.

    out_idx: the parameters (an index or a list; negative from the end) that a call allocates and
    returns instead of taking them as arguments. execution_backend, pass_configs, target_host and
    verbose are TileLang's knobs: tilescale has one backend per target and its passes take no
    configuration, so they change nothing, and a pass_configs that asks for something says so in a
    warning rather than passing unnoticed.
    """
    if not isinstance(func, language.PrimFunc):
        raise TypeError(f"cannot compile a {type(func).__name__}; pass a function decorated with @T.prim_func")
    if pass_configs:
        _warnings.warn(f"tilescale.compile ignores pass_configs {sorted(pass_configs)}: its passes take no "
                       f"configuration (TILESCALE_TMA=0 turns TMA and warp specialization off)", stacklevel=2)
    kernel = _C.compile(func.func, str(target), list(compiler_options or []))
    return JITKernel(kernel, func, out_idx)


class _JIT:
    def __init__(self, fn, options):
        self.fn, self.options, self.cache = fn, options, {}
        _functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"cannot specialise {self.fn.__name__} on unhashable arguments; pass numbers, strings "
                            f"or tuples") from None
        kernel = self.cache.get(key)
        if kernel is None:
            kernel = self.cache[key] = compile(self.fn(*args, **kwargs), **self.options)
        return kernel


def jit(func=None, *, out_idx=None, target="auto", execution_backend=None, pass_configs=None, compiler_options=None,
        verbose=False, debug_root_path=None):
    """@tilescale.jit(out_idx=[-1]) over a function returning a @T.prim_func: calling it with the
    specialisation arguments returns the compiled kernel, memoized per arguments."""
    options = dict(out_idx=out_idx, target=target, execution_backend=execution_backend, pass_configs=pass_configs,
                   compiler_options=compiler_options)
    if func is None:
        return lambda f: _JIT(f, options)
    return _JIT(func, options)


from .autotuner import autotune  # noqa: E402 - it wraps compile and _JIT, defined above


def generate_cuda(func, arch="sm_90a"):
    """The CUDA C++ tilescale generates for the @T.prim_func `func` for `arch` ("sm_80", "sm_90a"),
    without compiling or loading it: no GPU needed (`tilescale dump <example> --cuda` for Python).
    TILESCALE_TMA=0 applies as it does to compile."""
    if not isinstance(func, language.PrimFunc):
        raise TypeError(f"cannot generate CUDA for a {type(func).__name__}; pass a function decorated with @T.prim_func")
    return _C.generate_cuda(func.func, str(arch))


def why_not_cuda():
    """Why target "auto" resolves to the CPU backend here ("" when it resolves to CUDA)."""
    return _C.why_not_cuda()


def torch_cuda_available():
    """Whether kernels can run here on CUDA with torch tensors: torch importable, a CUDA device for
    torch, and tilescale's CUDA target usable."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() and not why_not_cuda()


__all__ = ["compile", "jit", "language", "dist", "JITKernel", "autotune", "Error", "CompileError", "RuntimeError", "InternalError",
           "generate_cuda", "why_not_cuda", "torch_cuda_available"]
