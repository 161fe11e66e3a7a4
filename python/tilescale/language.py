"""The tile language, TileLang's vocabulary: `import tilescale.language as T`.

    @T.prim_func
    def add(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, 256), threads=128) as bx:
            for i in T.Parallel(256):
                C[bx * 256 + i] = A[bx * 256 + i] + B[bx * 256 + i]

Every call appends to the program the C++ builder (include/tilescale/lang.h) is building; the
semantics are lang.h's and ../shared/REFERENCE.md §1's. Indexing a buffer with one value per
dimension (`A[i, j]`) is an element (a value, or the tile starting there when given to a tile op);
with slices (`Q[bz, by, m0:m1, :]`) a region. `@T.prim_func` rewrites the function's control flow
(_parser.py) so that `if`/`while` on symbolic conditions build T::If/T::While. What the C++ builder
lacks raises NotImplementedError naming it.
"""

import builtins as _builtins
import enum as _enum
import inspect as _inspect

from . import _tilescale as _C
from . import _parser

Expr = _C.Expr
Buffer = _C.Buffer
GemmWarpPolicy = _C.GemmWarpPolicy
_SymbolicTypes = (_C.Expr, _C.BufferRef, _C.Scalar)


def _is_symbolic(v):
    return isinstance(v, _SymbolicTypes)


# --------------------------------------------------------------------------------------------------
# Types


class dtype(str):
    """A dtype name ("float16"...); calling it casts: T.float32(x)."""

    def __call__(self, value):
        return cast(value, self)


_DTYPE_NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                "bfloat16", "float32", "float64", "float8_e4m3", "float8_e5m2"]
for _n in _DTYPE_NAMES:
    globals()[_n] = dtype(_n)
float = dtype("float32")  # noqa: A001 - TileLang's spelling
half = dtype("float16")
float8_e4m3fn = dtype("float8_e4m3")
del _n


def as_dtype(d):
    """A _tilescale.DataType from "float16", "float", T.float16, numpy or torch dtypes."""
    if isinstance(d, _C.DataType):
        return d
    text = str(d)
    if text.startswith("torch."):
        text = text[len("torch."):]
    t = _C.parse_dtype(text)
    if t is None:
        t = _C.parse_dtype(text.replace("float8_e4m3fn", "float8_e4m3"))
    if t is None:
        raise ValueError(f"cannot use {d!r} as a dtype; use one of {', '.join(_DTYPE_NAMES)} (or \"float\", \"half\")")
    return t


def dynamic(name, dtype="int32"):
    """A symbolic dimension, bound from the arguments' shapes at call time."""
    return _C.dynamic(name, as_dtype(dtype))


symbolic = dynamic


class Tensor:
    """A kernel parameter in global memory, as an annotation: `A: T.Tensor((M, K), "float16")`."""

    def __init__(self, shape, dtype="float32"):
        self.shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
        self.dtype = as_dtype(dtype)

    def __class_getitem__(cls, item):  # T.Tensor[(M, K), "float16"]
        shape, dt = item
        return cls(shape, dt)

    def __repr__(self):
        return f"T.Tensor({self.shape}, {_C.dtype_name(self.dtype)!r})"


Buffer = Tensor  # TileLang accepts both names in signatures


class _ScalarParam:
    """A scalar kernel parameter, from an annotation that is a type: `valid_len: T.int32`."""

    shape = ()

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"T.{_C.dtype_name(self.dtype)}"


def _param_spec(annotation):
    """The parameter an annotation declares: a T.Tensor, or a scalar of a type; None for neither."""
    if isinstance(annotation, Tensor):
        return annotation
    try:
        return _ScalarParam(as_dtype(annotation))
    except (ValueError, TypeError):
        return None


# --------------------------------------------------------------------------------------------------
# Buffers: indexing, element stores, and the arithmetic of elements and alloc_var scalars


def _index_tuple(key):
    return key if isinstance(key, tuple) else (key,)


def _buffer_getitem(buf, key):
    key = _index_tuple(key)
    if any(k is Ellipsis for k in key):
        raise NotImplementedError(f"cannot index {buf.name} with ...: write the slices (`:`) out")
    if len(key) > buf.rank:
        raise IndexError(f"cannot index {buf.name} with {len(key)} indices because it has rank {buf.rank}")
    if len(key) == buf.rank and not any(isinstance(k, slice) for k in key):
        return buf.at(list(key))
    base, extent = [], []
    for d in range(buf.rank):
        k = key[d] if d < len(key) else slice(None)
        if isinstance(k, slice):
            if k.step is not None:
                raise NotImplementedError(f"cannot slice {buf.name} with a step: regions are contiguous boxes")
            start = 0 if k.start is None else k.start
            stop = buf.shape(d) if k.stop is None else k.stop
            base.append(start)
            # (bx + 1) * 64 - bx * 64 is 64: simplified, so that the copy sees a constant extent.
            extent.append(_C.extent_between(start, stop) if _is_symbolic(stop) or _is_symbolic(start) else stop - start)
        else:
            base.append(k)
            extent.append(1)
    return buf.region(base, extent)


def _buffer_setitem(buf, key, value):
    ref = _buffer_getitem(buf, key)
    if isinstance(ref, _C.TileRef):
        _C.fill(ref, value)
    else:
        ref.store(value)


_C.Buffer.__getitem__ = _buffer_getitem
_C.Buffer.__setitem__ = _buffer_setitem
_C.Buffer.shape_ = property(lambda b: tuple(b.shape(d) for d in range(b.rank)))
_C.Buffer.__repr__ = lambda b: f"<T buffer {b.name}: {_C.dtype_name(b.dtype)}[{b.rank}-D]>"


def _scalar_index(s, key):
    if _index_tuple(key) != (0,):
        raise IndexError(f"cannot index the alloc_var scalar {s.buffer.name} with {key!r}; use [0] or the scalar itself")
    return s.buffer.at([0])


_C.Scalar.__getitem__ = _scalar_index
_C.Scalar.__setitem__ = lambda s, key, v: _scalar_index(s, key).store(v)


def _delegate(cls):
    """Element references and alloc_var scalars compute as their value (cls.load())."""
    def unary(name):
        setattr(cls, name, lambda a: getattr(a.load(), name)())

    def binary(name):
        setattr(cls, name, lambda a, b: getattr(a.load(), name)(b))

    for op in ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor", "lshift", "rshift"]:
        binary(f"__{op}__")
        binary(f"__r{op}__")
    for name in ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"]:
        binary(name)
    for name in ["__neg__", "__pos__", "__invert__", "__abs__", "__bool__"]:
        unary(name)
    cls.__hash__ = object.__hash__
    cls.dtype = property(lambda a: a.load().dtype)


_delegate(_C.BufferRef)
_delegate(_C.Scalar)


def _scalar_inplace(op):
    def apply(s, v):
        s.store(getattr(s.load(), op)(v))
        return s
    return apply


for _op in ["add", "sub", "mul", "truediv", "floordiv", "mod"]:
    setattr(_C.Scalar, f"__i{_op}__", _scalar_inplace(f"__{_op}__"))
del _op


# --------------------------------------------------------------------------------------------------
# Allocation (names come from the assignment: `A_shared = T.alloc_shared(...)`)

_state = {"name": None}


def _name(default):
    n = _state["name"]
    _state["name"] = None
    return n or default


def _shape(shape):
    return list(shape) if isinstance(shape, (list, tuple)) else [shape]


def alloc_shared(shape, dtype, scope="shared.dyn"):
    return _C.alloc_shared(_shape(shape), as_dtype(dtype), _name("shared"))


def alloc_fragment(shape, dtype, scope="local.fragment"):
    return _C.alloc_fragment(_shape(shape), as_dtype(dtype), _name("frag"))


def alloc_local(shape, dtype, scope="local"):
    return _C.alloc_local(_shape(shape), as_dtype(dtype), _name("local"))


def alloc_var(dtype, init=None, scope="local.var"):
    if init is None:
        return _C.alloc_var(as_dtype(dtype), _name("var"))
    return _C.alloc_var(as_dtype(dtype), init, _name("var"))


# --------------------------------------------------------------------------------------------------
# Kernel, loops (one-pass iterators that begin and end their scope), control flow


class Kernel:
    """`with T.Kernel(gx[, gy[, gz]], threads=128) as (bx, by):` the launch scope; `threads=(32, 4)`
    gives a 2-D (or 3-D) block, numbered x fastest, whose indices T.get_thread_binding(dim) gives."""

    def __init__(self, *grid, threads=128, prelude=None, is_cpu=False, is_persistent=False):
        threads = list(threads) if isinstance(threads, (list, tuple)) else [threads]
        if prelude is not None:
            raise NotImplementedError("T.Kernel(prelude=...): tilescale has no prelude; write the code in the kernel")
        self.grid, self.threads, self.persistent = list(grid), threads, is_persistent

    def __enter__(self):
        vars_ = _C.begin_kernel(self.grid, self.threads)
        if self.persistent:
            _C.persistent()
        return vars_[0] if len(vars_) == 1 else tuple(vars_)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            _C.end_scope(_C.ScopeKind.Kernel)
        return False


class _Loop:
    def __init__(self, kind, begin):
        self.kind, self._begin = kind, begin

    def __iter__(self):
        vars_ = self._begin()
        yield vars_
        _C.end_scope(self.kind)


def Parallel(*extents, coalesced_width=None, loop_layout=None):
    if loop_layout is not None:
        raise NotImplementedError("T.Parallel(loop_layout=...): the builder has no loop layouts")

    def begin():
        v = _C.begin_parallel(list(extents))
        return v[0] if len(v) == 1 else tuple(v)
    return _Loop(_C.ScopeKind.Parallel, begin)


def Pipelined(extent, num_stages=0, order=None, stage=None, sync=None, group=None):
    if sync is not None or group is not None:
        raise NotImplementedError("T.Pipelined(sync=..., group=...): the builder takes num_stages, order and stage")
    return _Loop(_C.ScopeKind.Pipelined,
                 lambda: _C.begin_pipelined(extent, num_stages, list(order or []), list(stage or [])))


def serial(start, stop=None, step=None, annotations=None):
    if step not in (None, 1):
        raise NotImplementedError(f"T.serial(step={step!r}): the builder's loops step by 1; scale the variable")
    begin, end = (0, start) if stop is None else (start, stop)
    return _Loop(_C.ScopeKind.Serial, lambda: _C.begin_serial(begin, end))


def unroll(start, stop=None, step=None, explicit=False):
    if stop is not None or step not in (None, 1):
        raise NotImplementedError("T.unroll(start, stop, step): the builder unrolls 0..extent; give the extent")
    return _Loop(_C.ScopeKind.Unroll, lambda: _C.begin_unroll(start))


def vectorized(extent):
    """TileLang's vectorized loop: every thread runs all of it, as of T.unroll (which it becomes);
    the CUDA compiler merges its contiguous accesses where it can. T.Parallel is the loop that
    tilescale vectorizes itself, spread over the threads."""
    return unroll(extent)


def thread_binding(*args, **kwargs):
    raise NotImplementedError("T.thread_binding: use T.get_thread_binding() inside T.Kernel")


def get_thread_binding(dim=0):
    return _C.get_thread_binding(dim)


def get_block_binding(dim=0):
    return _C.get_block_binding(dim)


# --------------------------------------------------------------------------------------------------
# Expressions


def _py_or(fn_sym, fn_py):
    def f(*args):
        return fn_sym(*args) if any(_is_symbolic(a) for a in args) else fn_py(*args)
    return f


ceildiv = _py_or(_C.ceildiv, lambda a, b: -(-a // b))
floordiv = _py_or(_C.floordiv, lambda a, b: a // b)
floormod = _py_or(_C.floormod, lambda a, b: a % b)


def max(a, b, *rest):  # noqa: A001
    v = _C.max(a, b) if _is_symbolic(a) or _is_symbolic(b) else _builtins.max(a, b)
    return max(v, *rest) if rest else v


def min(a, b, *rest):  # noqa: A001
    v = _C.min(a, b) if _is_symbolic(a) or _is_symbolic(b) else _builtins.min(a, b)
    return min(v, *rest) if rest else v


exp, exp2, log, log2, sqrt, rsqrt = _C.exp, _C.exp2, _C.log, _C.log2, _C.sqrt, _C.rsqrt
floor, ceil, sin, cos, tanh, sigmoid, pow = _C.floor, _C.ceil, _C.sin, _C.cos, _C.tanh, _C.sigmoid, _C.pow
abs = _C.abs  # noqa: A001


def cast(value, dtype):
    return _C.cast(value, as_dtype(dtype))


def if_then_else(cond, then_value, else_value):
    return _C.if_then_else(cond, then_value, else_value)


def infinity(dtype):
    return _C.infinity(as_dtype(dtype))


def max_value(dtype):
    return _C.max_value(as_dtype(dtype))


def min_value(dtype):
    return _C.min_value(as_dtype(dtype))


# --------------------------------------------------------------------------------------------------
# Tile operations


def _tile(x, what):
    if isinstance(x, (_C.Buffer, _C.BufferRef, _C.Scalar, _C.TileRef)):
        return x
    raise TypeError(f"cannot use a {type(x).__name__} as an operand of T.{what}; pass a buffer, an element "
                    f"reference A[i, j] (the tile starting there) or a slice A[i0:i1, :]")


def _rank(x):
    if isinstance(x, _C.Buffer):
        return x.rank
    if isinstance(x, _C.BufferRef):
        return x.buffer.rank
    return None


def copy(src, dst, coalesced_width=None, disable_tma=False, eviction_policy=None):
    _C.copy(_tile(src, "copy"), _tile(dst, "copy"))


def fill(buffer, value):
    _C.fill(_tile(buffer, "fill"), value)


def clear(buffer):
    _C.clear(_tile(buffer, "clear"))


def gemm(A, B, C, transpose_A=False, transpose_B=False, policy=GemmWarpPolicy.Square, clear_accum=False, k_pack=1,
         wg_wait=0):
    if k_pack != 1 or wg_wait != 0:
        raise NotImplementedError("T.gemm(k_pack=..., wg_wait=...): the builder chooses these itself")
    _C.gemm(_tile(A, "gemm"), _tile(B, "gemm"), _tile(C, "gemm"), transpose_A, transpose_B, policy, clear_accum)


def _reducer(kind):
    fn = getattr(_C, f"reduce_{kind}")

    def reduce(buffer, out, dim=-1, clear=True):
        if dim < 0:
            r = _rank(buffer)
            if r is None:
                raise ValueError(f"cannot reduce_{kind} a region along dim {dim}; give a non-negative dim")
            dim += r
        fn(_tile(buffer, f"reduce_{kind}"), _tile(out, f"reduce_{kind}"), dim, clear)
    reduce.__name__ = f"reduce_{kind}"
    return reduce


reduce_sum, reduce_max, reduce_min = _reducer("sum"), _reducer("max"), _reducer("min")
reduce_abssum, reduce_absmax = _reducer("abssum"), _reducer("absmax")


def cumsum(src, dst=None, dim=0, reverse=False):
    _C.cumsum(_tile(src, "cumsum"), _tile(src if dst is None else dst, "cumsum"), dim, reverse)


def atomic_add(dst, value, memory_order=None):
    if memory_order is not None:
        raise NotImplementedError("T.atomic_add(memory_order=...): tilescale's atomic_add is relaxed")
    if isinstance(value, _C.Buffer):
        _C.atomic_add_tile(_tile(dst, "atomic_add"), value)
    else:
        _C.atomic_add(_tile(dst, "atomic_add"), value)


def use_swizzle(panel_size=10, order="row", enable=True):
    if enable:
        if order not in ("row", "col"):
            raise ValueError(f"cannot T.use_swizzle with order={order!r}; use \"row\" or \"col\"")
        _C.use_swizzle(panel_size, order == "col")


def Layout(shape, forward_fn):
    """A layout: T.Layout((M, N), lambda i, j: (i, j ^ (i % 8))) for T.annotate_layout."""
    return _C.make_layout(_shape(shape), lambda *index: list(_index_tuple(forward_fn(*index))))


def annotate_layout(layouts):
    for buf, layout in layouts.items():
        _C.annotate_layout(buf, layout)


def Fragment(*args, **kwargs):
    raise NotImplementedError("T.Fragment: the builder infers fragment layouts itself")


def print(obj, msg=""):  # noqa: A001
    if isinstance(obj, _C.Buffer):
        _C.print_buffer(msg, obj)
    else:
        _C.print_value(msg, obj)


def device_assert(cond, msg=""):
    _C.device_assert(cond, msg)


def _unsupported(name, why):
    def f(*args, **kwargs):
        raise NotImplementedError(f"T.{name}: {why}")
    f.__name__ = name
    return f


for _name_, _why in [("reduce", "use T.reduce_sum/max/min/abssum/absmax"),
                     ("call_extern", "the builder has no external calls"),
                     ("import_source", "the builder has no external sources"),
                     ("alloc_barrier", "barriers are placed by the compiler"),
                     ("ptx_wgmma_ss", "the builder chooses the instructions"),
                     ("sync_threads", "the compiler places block barriers itself")]:
    globals()[_name_] = _unsupported(_name_, _why)
del _name_, _why


# --------------------------------------------------------------------------------------------------
# @T.prim_func and what the rewritten function calls (_parser.py)


class PrimFunc:
    """A built tile program: its C++ PrimFunc, and its parameters (name, T.Tensor)."""

    def __init__(self, func, params, source_fn):
        self.func, self.params, self.source_fn = func, params, source_fn

    @property
    def name(self):
        return self.func.name

    def script(self):
        return self.func.script()

    def __str__(self):
        return self.func.script()


class _Runtime:
    """The helpers the rewritten function calls as _ts_rt_ (see _parser.py's doc)."""

    def __init__(self):
        self.loops = []  # "symbolic" or "python", innermost last: where a break goes

    class _If:
        def __init__(self, cond):
            self.cond, self.symbolic, self.scope = cond, _is_symbolic(cond), None

        def __enter__(self):
            return self

        def then(self):
            if not self.symbolic:
                return _builtins.bool(self.cond)
            _C.begin_if(self.cond)
            self.scope = _C.ScopeKind.If
            return True

        def orelse(self):
            if not self.symbolic:
                return not self.cond
            _C.end_scope(_C.ScopeKind.If)
            _C.begin_else()
            self.scope = _C.ScopeKind.Else
            return True

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None and self.scope is not None:
                _C.end_scope(self.scope)
            return False

    def if_(self, cond):
        return self._If(cond)

    class _While:
        def __init__(self, runtime, cond):
            self.runtime, self.cond, self.state = runtime, cond, None

        def __enter__(self):
            return self

        def next(self):
            if self.state == "symbolic":
                return False
            c = self.cond()
            if self.state is None:
                self.state = "symbolic" if _is_symbolic(c) else "python"
                self.runtime.loops.append(self.state)
                if self.state == "symbolic":
                    _C.begin_while(c)
                    return True
            elif _is_symbolic(c):
                raise NotImplementedError("a while loop whose condition turns symbolic after Python iterations")
            return _builtins.bool(c)

        def __exit__(self, exc_type, exc, tb):
            if self.state is not None:
                self.runtime.loops.pop()
            if exc_type is None and self.state == "symbolic":
                _C.end_scope(_C.ScopeKind.While)
            return False

    def while_(self, cond):
        return self._While(self, cond)

    def loop_iter(self, it):
        self.loops.append("symbolic" if isinstance(it, _Loop) else "python")
        try:
            yield from it
        finally:
            self.loops.pop()

    def range_(self, *args):
        if len(args) == 3 and args[2] != 1:
            raise NotImplementedError("range(start, stop, step) in a prim_func: T.serial steps by 1")
        return serial(*args[:2])

    def break_(self):
        if self.loops and self.loops[-1] == "symbolic":
            _C.Break()
            return False
        return True

    def continue_(self):
        if self.loops and self.loops[-1] == "symbolic":
            raise NotImplementedError("continue in a T loop: the builder has no continue; wrap the rest in an if")
        return True

    @staticmethod
    def and_(first, *rest):
        v = first
        for thunk in rest:
            if _is_symbolic(v):
                v = _C.logical_and(v, thunk())
            elif not v:
                return v
            else:
                v = thunk()
        return v

    @staticmethod
    def or_(first, *rest):
        v = first
        for thunk in rest:
            if _is_symbolic(v):
                v = _C.logical_or(v, thunk())
            elif v:
                return v
            else:
                v = thunk()
        return v

    @staticmethod
    def not_(v):
        return _C.logical_not(v) if _is_symbolic(v) else not v

    @staticmethod
    def ifexp(cond, then_thunk, else_thunk):
        if _is_symbolic(cond):
            return _C.if_then_else(cond, then_thunk(), else_thunk())
        return then_thunk() if cond else else_thunk()

    @staticmethod
    def assign(name, old, thunk):
        _state["name"] = name
        try:
            value = thunk()
        finally:
            _state["name"] = None
        if isinstance(old, _C.Scalar) and not isinstance(value, (_C.Scalar, _C.Buffer)):
            old.store(value)
            return old
        return value

    @staticmethod
    def ann_assign(name, annotation, thunk):
        value = thunk()
        if isinstance(annotation, (str, _C.DataType)):
            _state["name"] = name
            return alloc_var(annotation, value)
        return value


def _annotations(fn):
    ann = dict(getattr(fn, "__annotations__", {}))
    # Annotations kept as source text (from __future__ import annotations) are evaluated; a T.int32 is
    # a str too (a dtype), and so is a plain "int32", which stays a dtype name when it names nothing.
    if any(type(v) is str for v in ann.values()):
        scope = dict(fn.__globals__)
        scope.update(_parser._closure_values(fn))

        def evaluated(v):
            try:
                return eval(v, scope)  # noqa: S307
            except NameError:
                return v
        ann = {k: evaluated(v) if type(v) is str else v for k, v in ann.items()}
    return ann


def _located(e, fn, filename, first, last):
    """e's message with the user's file and line: the innermost line of fn's source in the traceback."""
    where = _parser.user_location(e.__traceback__, filename, first, last)
    if where is None:
        prefix = f"{filename}:{first}: in @T.prim_func {fn.__name__}: "
        return prefix + str(e)
    line, source = where
    return f"{filename}:{line}: {e}\n    {source}"


def prim_func(fn=None, *, name=None):
    """Builds the tile program that `fn` describes (at once, as TileLang does); see the module's doc."""
    if fn is None:
        return lambda f: prim_func(f, name=name)
    filename, first, last = _parser.source_range(fn)
    ann = _annotations(fn)
    params = []
    for p in _inspect.signature(fn).parameters.values():
        spec = _param_spec(ann.get(p.name))
        if spec is None:
            raise TypeError(
                f"{filename}:{first}: cannot build @T.prim_func {fn.__name__} because parameter {p.name} is not "
                f"annotated with T.Tensor(shape, dtype) or a scalar type (T.int32, T.int64, T.float32)")
        params.append((p.name, spec))
    runtime = _Runtime()
    body_fn = _parser.rewrite(fn, runtime)

    def body():
        values = [_C.ScalarParam(n, spec.dtype) if isinstance(spec, _ScalarParam) else
                  _C.Tensor(n, list(spec.shape), spec.dtype) for n, spec in params]
        body_fn(*values)

    try:
        func = _C.prim_func(name or fn.__name__, body)
    except (_C.Error, NotImplementedError, TypeError, ValueError, IndexError) as e:
        located = type(e)(_located(e, fn, filename, first, last))
        raise located.with_traceback(None) from None
    finally:
        _state["name"] = None
    return PrimFunc(func, params, fn)


macro = _unsupported("macro", "call a plain Python function from the prim_func instead (it is rewritten too "
                              "when defined inside it)")


# --------------------------------------------------------------------------------------------------
# The distributed operators (lang_dist.h): T.get_rank, T.put_block, T.st, T.wait_eq, T.putmem_nbi_block...

from ._lang_dist import *  # noqa: E402,F401,F403
