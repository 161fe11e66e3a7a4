"""The distributed operators of the tile language (include/tilescale/lang_dist.h), TileScale's names
and NVSHMEM's, re-exported by tilescale.language:

    with T.Kernel(P, threads=128) as peer:                   # an allgather, pushed
        me = T.get_rank()
        T.put_block(A[0, 0], out[me * M, 0], M * N, peer)    # my rows into rank peer's out
        T.barrier_blocks(bar[0])

A memory operand is an element reference `A[i, j]` (the address of that element; counts run on in
row-major order) or a whole buffer (its first element). A rank (pe) of -1 is this rank. Counts are
elements for TileScale's operators and bytes for NVSHMEM's (*mem*, destination first). Scopes and
semantics are "cta"/"gpu"/"sys" and "weak"/"volatile"/"relaxed"/"acquire"/"release"/"acq_rel" (or
T.MemScope / T.MemSem values); signal operations "set"/"add" (T.NVSHMEM_SIGNAL_SET/ADD), comparisons
"eq"/"ne"/"gt"/"ge"/"lt"/"le" (T.NVSHMEM_CMP_EQ...). The meaning of each is lang_dist.h's.
"""

from . import _tilescale as _C

MemScope, MemSem, SignalOp, Cmp = _C.MemScope, _C.MemSem, _C.SignalOp, _C.Cmp

NVSHMEM_SIGNAL_SET, NVSHMEM_SIGNAL_ADD = SignalOp.Set, SignalOp.Add
NVSHMEM_CMP_EQ, NVSHMEM_CMP_NE, NVSHMEM_CMP_GT = Cmp.EQ, Cmp.NE, Cmp.GT
NVSHMEM_CMP_GE, NVSHMEM_CMP_LT, NVSHMEM_CMP_LE = Cmp.GE, Cmp.LT, Cmp.LE

_SCOPES = {"cta": MemScope.CTA, "gpu": MemScope.GPU, "sys": MemScope.SYS}
_SEMS = {"weak": MemSem.Weak, "volatile": MemSem.Volatile, "relaxed": MemSem.Relaxed, "acquire": MemSem.Acquire,
         "release": MemSem.Release, "acq_rel": MemSem.AcqRel}
_SIGNAL_OPS = {"set": SignalOp.Set, "add": SignalOp.Add}
_CMPS = {"eq": Cmp.EQ, "ne": Cmp.NE, "gt": Cmp.GT, "ge": Cmp.GE, "lt": Cmp.LT, "le": Cmp.LE}


def _enum(value, table, enum, what):
    if isinstance(value, enum):
        return value
    found = table.get(str(value).lower()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"cannot use {value!r} as a {what}; use one of {', '.join(repr(k) for k in table)} "
                         f"or a T.{enum.__name__} value")
    return found


def _scope(v):
    return _enum(v, _SCOPES, MemScope, "memory scope")


def _sem(v):
    return _enum(v, _SEMS, MemSem, "memory semantics")


def _addr(x, what):
    """The element reference a memory operand stands for: A[i, j] itself, a buffer its first element."""
    if isinstance(x, _C.BufferRef):
        return x
    if isinstance(x, _C.Buffer):
        return x.at([0] * x.rank)
    if isinstance(x, _C.Scalar):
        return x.buffer.at([0])
    raise TypeError(f"cannot use a {type(x).__name__} as the address operand of T.{what}; pass an element reference "
                    f"A[i, j] (the address of that element) or a buffer (its first element)")


# --------------------------------------------------------------------------------------------------
# Ranks

def get_rank():
    return _C.get_rank()


def get_num_ranks():
    return _C.get_num_ranks()


get_pe, get_pe_num = get_rank, get_num_ranks  # TileScale's NVSHMEM-flavoured names


# --------------------------------------------------------------------------------------------------
# Loads and stores with semantics

def ld(src, value=None, scope="sys", sem="acquire", na=False, nc=False, src_pe=-1):
    """The value at src on rank src_pe; with `value` (an element, an alloc_var, or a local buffer for a
    vector load) the load is stored there and nothing is returned."""
    src = _addr(src, "ld")
    if value is None:
        return _C.ld(src, _scope(scope), _sem(sem), na, nc, src_pe)
    _C.ld_into(src, value, _scope(scope), _sem(sem), na, nc, src_pe)
    return None


def st(dst, value, scope="sys", sem="release", na=False, dst_pe=-1):
    """*dst on rank dst_pe = value; a local buffer as value stores its bytes in one vector access."""
    if isinstance(value, _C.Buffer):
        _C.st_tile(_addr(dst, "st"), value, _scope(scope), _sem(sem), na, dst_pe)
    else:
        _C.st(_addr(dst, "st"), value, _scope(scope), _sem(sem), na, dst_pe)


def _wait(name):
    fn = getattr(_C, name)

    def wait(flag, expected, peer=-1, scope="sys", sem="acquire"):
        fn(_addr(flag, name), expected, peer, _scope(scope), _sem(sem))
    wait.__name__ = name
    wait.__doc__ = f"Spins until the flag (on rank peer, or here) {name[5:]} expected."
    return wait


wait_eq, wait_ne, wait_ge = _wait("wait_eq"), _wait("wait_ne"), _wait("wait_ge")
wait_le, wait_gt, wait_lt = _wait("wait_le"), _wait("wait_gt"), _wait("wait_lt")


# --------------------------------------------------------------------------------------------------
# Atomics, fences, barriers, warps

def atom_add(addr, value, scope="sys", sem="relaxed", pe=-1):
    """*addr (on rank pe) += value atomically; returns the old value."""
    return _C.atom_add(_addr(addr, "atom_add"), value, _scope(scope), _sem(sem), pe)


fence_cta, fence_gpu, fence_sys = _C.fence_cta, _C.fence_gpu, _C.fence_sys


def barrier_blocks(bar):
    _C.barrier_blocks(_addr(bar, "barrier_blocks"))


def sync_blocks(bar):
    _C.sync_blocks(_addr(bar, "sync_blocks"))


def sync_grid(counter):
    _C.sync_grid(_addr(counter, "sync_grid"))


def warp_any(value, mask=0xFFFFFFFF):
    return _C.warp_any(value, mask)


def warp_all(value, mask=0xFFFFFFFF):
    return _C.warp_all(value, mask)


def shuffle_elect(extent=0):
    return _C.shuffle_elect(extent)


def sync_warp(mask=0xFFFFFFFF):
    _C.sync_warp(mask)


# --------------------------------------------------------------------------------------------------
# TileScale's copies: n elements, source first

def put_warp(src, dst, size, dst_pe=-1, unroll=4, vectorize=False):
    _C.put_warp(_addr(src, "put_warp"), _addr(dst, "put_warp"), size, dst_pe, unroll, vectorize)


def get_warp(src, dst, size, src_pe=-1, unroll=4, vectorize=False):
    _C.get_warp(_addr(src, "get_warp"), _addr(dst, "get_warp"), size, src_pe, unroll, vectorize)


def put_block(src, dst, size, dst_pe=-1):
    _C.put_block(_addr(src, "put_block"), _addr(dst, "put_block"), size, dst_pe)


def get_block(src, dst, size, src_pe=-1):
    _C.get_block(_addr(src, "get_block"), _addr(dst, "get_block"), size, src_pe)


# --------------------------------------------------------------------------------------------------
# NVSHMEM: bytes, destination first

def _mem(name):
    fn = getattr(_C, name)

    def mem(dest, source, nbytes, pe):
        fn(_addr(dest, name), _addr(source, name), nbytes, pe)
    mem.__name__ = name
    return mem


def _mem_signal(name):
    fn = getattr(_C, name)

    def mem(dest, source, nbytes, sig_addr, signal, sig_op, pe):
        fn(_addr(dest, name), _addr(source, name), nbytes, _addr(sig_addr, name), signal,
           _enum(sig_op, _SIGNAL_OPS, SignalOp, "signal operation"), pe)
    mem.__name__ = name
    return mem


for _n in ["putmem", "putmem_nbi", "putmem_warp", "putmem_nbi_warp", "putmem_block", "putmem_nbi_block",
           "getmem", "getmem_nbi", "getmem_warp", "getmem_nbi_warp", "getmem_block", "getmem_nbi_block"]:
    globals()[_n] = _mem(_n)
for _n in ["putmem_signal", "putmem_signal_nbi", "putmem_signal_warp", "putmem_signal_nbi_warp",
           "putmem_signal_block", "putmem_signal_nbi_block"]:
    globals()[_n] = _mem_signal(_n)
del _n


def int_p(dest, value, pe):
    _C.int_p(_addr(dest, "int_p"), value, pe)


def signal_op(sig_addr, signal, sig_op, pe):
    _C.signal_op(_addr(sig_addr, "signal_op"), signal, _enum(sig_op, _SIGNAL_OPS, SignalOp, "signal operation"), pe)


def signal_wait_until(sig_addr, cmp, cmp_value):
    """Waits until this rank's signal compares `cmp` to cmp_value; returns the value seen."""
    return _C.signal_wait_until(_addr(sig_addr, "signal_wait_until"), _enum(cmp, _CMPS, Cmp, "comparison"), cmp_value)


quiet, fence = _C.quiet, _C.fence
barrier_all, barrier_all_warp, barrier_all_block = _C.barrier_all, _C.barrier_all_warp, _C.barrier_all_block
sync_all, sync_all_warp, sync_all_block = _C.sync_all, _C.sync_all_warp, _C.sync_all_block

__all__ = [n for n in dir() if not n.startswith("_")]
