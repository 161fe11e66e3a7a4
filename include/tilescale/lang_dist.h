// The distributed operators of the tile language (included by tilescale/lang.h; use them as T::).
//
// A kernel runs on every rank; these operators read the rank, move data between ranks and order
// and synchronise memory accesses across threads, blocks and ranks. Their vocabulary is TileScale's
// (put_block, ld/st with scope and semantics, wait_*, barrier_blocks) and NVSHMEM's (putmem_nbi_block,
// signal_wait_until, quiet...). docs/03_distributed.md explains the model; REFERENCE.md §2 the exact
// meaning; src/ops/builtin.h and its family files the rules each call is checked against.
//
//   T::Kernel(P, T::threads(128), [&](T::Expr bx) {           // an allgather, pushed
//     T::Expr me = T::get_rank();
//     T::put_block(A(0, 0), out(me * M, 0), M * N, bx);       // my rows into rank bx's out
//     T::If(T::get_thread_binding() == 0, [&] {
//       T::st(flags(me), 1, T::MemScope::SYS, T::MemSem::Release, false, bx);   // then say so
//     });
//     T::wait_eq(flags(bx), 1);                               // and wait for rank bx's rows
//   });
//
// Operands. A memory operand is an element reference, `A(i, j)`: the address of that element
// (counts run on from it in row-major order). A rank (`pe`) of -1 means this rank; a memory operand
// accessed on another rank must be a tensor from the symmetric heap (tilescale/dist.h), its address
// there being base[pe] + (address - base[me]). Counts are in elements for TileScale's operators and
// in bytes for NVSHMEM's (*mem*), whose operands also come destination first, as in NVSHMEM.
//
// Who executes a call. Thread-scope operators (ld, st, atom_add, putmem, signal_op...) act once per
// thread that reaches them: in block-uniform code every thread of the block does (guard them with
// T::If(tx == 0, ...) to act once), in a T::Parallel loop once per element. Warp-scope ones (*_warp,
// warp_any, shuffle_elect...) act once per warp, all 32 lanes calling together (so only in a block
// of whole warps: elsewhere they are a CompileError). Block-scope ones
// (*_block, barrier_blocks, sync_grid) are called by the whole block in block-uniform code. Waits,
// fences and get_rank give every thread the same result.
#pragma once

#include "tilescale/lang.h"

namespace tilescale::lang {

// This rank and the number of ranks (int32).
Expr get_rank();
Expr get_num_ranks();

// Memory scope and semantics of ld, st, waits and atom_add (PTX's .cta/.gpu/.sys and
// .weak/.volatile/.relaxed/.acquire/.release/.acq_rel).
enum class MemScope { CTA, GPU, SYS };
enum class MemSem { Weak, Volatile, Relaxed, Acquire, Release, AcqRel };

// ---- loads and stores with semantics -------------------------------------------------------------
// One access of 2, 4 or 8 bytes (the element's dtype), or 16 with the vector forms, which move a
// local buffer (T::alloc_local) of that many bytes. Legal: ld weak, volatile, relaxed, acquire; st
// weak, volatile, relaxed, release; the scope counts for relaxed, acquire and release. na adds
// L1::no_allocate (not with volatile); nc reads through the non-coherent path (weak loads only).
// The address must be aligned to the access size.

// The value at src on rank src_pe, loaded where the expression is evaluated (each use loads again:
// bind it with T::alloc_var to load once).
Expr ld(const BufferRef& src, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Acquire, bool na = false,
        bool nc = false, const Expr& src_pe = -1);
// value = the value at src (TileScale's form): the load happens here.
void ld(const BufferRef& src, const BufferRef& value, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Acquire,
        bool na = false, bool nc = false, const Expr& src_pe = -1);
void ld(const BufferRef& src, const Scalar& value, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Acquire,
        bool na = false, bool nc = false, const Expr& src_pe = -1);
// values (a whole local buffer) = the elements from src on, in one access.
void ld(const BufferRef& src, const Buffer& values, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Acquire,
        bool na = false, bool nc = false, const Expr& src_pe = -1);
// *dst on rank dst_pe = value (converted to dst's dtype).
void st(const BufferRef& dst, const Expr& value, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Release,
        bool na = false, const Expr& dst_pe = -1);
// The elements from dst on, on rank dst_pe = values (a whole local buffer), in one access.
void st(const BufferRef& dst, const Buffer& values, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Release,
        bool na = false, const Expr& dst_pe = -1);

// ---- waits ---------------------------------------------------------------------------------------
// Spin until the integer flag (on rank peer, or here) is ==, !=, >=, <=, >, < expected. Each spin is
// an acquire load at `scope` (GPU or SYS), or a volatile load with sem = Volatile.
void wait_eq(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);
void wait_ne(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);
void wait_ge(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);
void wait_le(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);
void wait_gt(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);
void wait_lt(const BufferRef& flag, const Expr& expected, const Expr& peer = -1, MemScope scope = MemScope::SYS,
             MemSem sem = MemSem::Acquire);

// ---- atomics, fences, barriers -------------------------------------------------------------------
// *addr (on rank pe) += v atomically; returns the old value, fetched here (the call is a statement:
// its value is bound to a fresh variable). int32, uint32, int64, uint64, float32, float64.
Expr atom_add(const BufferRef& addr, const Expr& v, MemScope scope = MemScope::SYS, MemSem sem = MemSem::Relaxed,
              const Expr& pe = -1);
void fence_cta();
void fence_gpu();
void fence_sys();
// Barrier of one block per rank over bar, the first of get_num_ranks() int32 in the symmetric heap,
// zero before first use (back to zero after each barrier). barrier_blocks first fences at system
// scope (the block's writes are visible to the ranks that pass); sync_blocks does not.
void barrier_blocks(const BufferRef& bar);
void sync_blocks(const BufferRef& bar);
// Barrier of every block of the grid over a global uint32 counter, zero before first use.
void sync_grid(const BufferRef& counter);

// ---- warps ---------------------------------------------------------------------------------------
Expr warp_any(const Expr& value, const Expr& mask = 0xffffffffu);
Expr warp_all(const Expr& value, const Expr& mask = 0xffffffffu);
// True on one thread of each group of `extent` threads (a multiple of 32; 0: the whole block).
Expr shuffle_elect(const Expr& extent = 0);
void sync_warp(const Expr& mask = 0xffffffffu);

// ---- TileScale's copies (elements; source first) ------------------------------------------------
// n elements from src (here) to dst on rank dst_pe, by one warp (lane-strided, `unroll` loads in
// flight per lane, 16-byte vectors when `vectorize` and aligned) or by the whole block.
void put_warp(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& dst_pe = -1, int unroll = 4,
              bool vectorize = false);
void get_warp(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& src_pe = -1, int unroll = 4,
              bool vectorize = false);
void put_block(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& dst_pe = -1);
void get_block(const BufferRef& src, const BufferRef& dst, const Expr& n, const Expr& src_pe = -1);

// ---- NVSHMEM (bytes; destination first; pe is a rank, 0 to get_num_ranks() - 1) -----------------
void putmem(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void putmem_nbi(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void putmem_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void putmem_nbi_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void putmem_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void putmem_nbi_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem_nbi(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem_nbi_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void getmem_nbi_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const Expr& pe);
void int_p(const BufferRef& dst, const Expr& value, const Expr& pe);

// Signals: uint64 elements of the symmetric heap. SET stores the value, ADD adds it.
enum class SignalOp { Set, Add };
enum class Cmp { EQ, NE, GT, GE, LT, LE };
void putmem_signal(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                   const Expr& signal, SignalOp op, const Expr& pe);
void putmem_signal_nbi(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                       const Expr& signal, SignalOp op, const Expr& pe);
void putmem_signal_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                        const Expr& signal, SignalOp op, const Expr& pe);
void putmem_signal_nbi_warp(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                            const Expr& signal, SignalOp op, const Expr& pe);
void putmem_signal_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                         const Expr& signal, SignalOp op, const Expr& pe);
void putmem_signal_nbi_block(const BufferRef& dst, const BufferRef& src, const Expr& nbytes, const BufferRef& sig,
                             const Expr& signal, SignalOp op, const Expr& pe);
void signal_op(const BufferRef& sig, const Expr& signal, SignalOp op, const Expr& pe);
// Waits until this rank's sig compares `cmp` to value; returns the value seen (bound here, like
// atom_add's).
Expr signal_wait_until(const BufferRef& sig, Cmp cmp, const Expr& value);
void quiet();
void fence();
void barrier_all();
void barrier_all_warp();
void barrier_all_block();
void sync_all();
void sync_all_warp();
void sync_all_block();

}  // namespace tilescale::lang
