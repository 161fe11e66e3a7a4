// tilescale device headers — dist_shmem.h: NVSHMEM's device operations, over the Context.
//
// The NVSHMEM-level builtins (src/ops/nvshmem_rma.cc, nvshmem_signal.cc, nvshmem_sync.cc) lower to
// these functions, so that a kernel that uses them runs on every transport that maps each rank's
// symmetric heap into this address space (local, ipc) and needs no NVSHMEM library. (For the
// `nvshmem` transport the code generator can emit NVSHMEM's own device calls instead:
// cuda::Target::nvshmem_calls.) Each function is named after the NVSHMEM call it stands for and
// takes the kernel's Context first, then NVSHMEM's arguments: destination first, sizes in bytes, a
// rank pe (0 to num_ranks - 1); remote() (dist.h) translates the remote side.
//
//   putmem{,_nbi}{,_warp,_block}(c, dst, src, bytes, pe)   bytes from src (here) to dst on pe
//   getmem{,_nbi}{,_warp,_block}(c, dst, src, bytes, pe)   bytes from src on pe to dst (here)
//   int_p(c, dst, value, pe)                                one relaxed int32 store on pe
//   putmem_signal{,_nbi}{,_warp,_block}(c, dst, src, bytes, sig, signal, op, pe)
//                     the put, fence.acq_rel.sys, then sig on pe updated at system scope with
//                     release semantics: op SIGNAL_SET stores signal, SIGNAL_ADD adds it atomically
//   signal_op(c, sig, signal, op, pe)                       the update alone, relaxed, system scope
//   signal_wait_until<R>(c, sig, value) -> uint64_t         waits (dist.h's acquire-sys wait) until
//                     this rank's sig stands in relation R (EQ, NE, GT, GE, LT, LE) to value;
//                     returns the value it saw
//   quiet(c), fence(c)                                      fence.acq_rel.sys
//   barrier_all{,_warp,_block}(c), sync_all{,_warp,_block}(c)   barrier of all ranks
//
// Who calls them follows the builtin's scope (src/ops/builtin.h): the plain forms one thread (which
// then moves every byte itself), the _warp forms all 32 lanes of a warp (copy_warp), the _block
// forms the whole block (copy_block). Transfers are plain loads and stores that have completed,
// from this thread's point of view, when the call returns; so the _nbi forms are the blocking
// ones, and quiet and fence, which NVSHMEM needs to complete and order transfers, only have to make
// this thread's stores visible at system scope before its later ones: a fence.acq_rel.sys.
//
// Barriers take one call per rank, from one thread (barrier_all), one warp (_warp) or one block
// (_block), as on the CPU backend. They make the caller's earlier stores visible to every rank
// first (fence.acq_rel.sys); so sync_all, which OpenSHMEM lets skip completing puts but not making
// stores visible, is the same barrier here. Their counters are symmetric memory that no program
// allocates: the start of every rank's heap, which the transports reserve (kReservedHeapBytes).
#pragma once

#include "tilescale/dist.h"

namespace tl {
namespace dist {

// The first kReservedHeapBytes of every rank's symmetric heap belong to the runtime, zero when the
// world starts: the GPU transports place the first allocation after them. The rank barriers keep
// their counters there (int[num_ranks] at base[rank]), back at zero after every barrier.
constexpr unsigned long long kReservedHeapBytes = 4096;
static_assert(kMaxRanks * sizeof(int) <= kReservedHeapBytes, "the rank barrier's counters fit the reserved bytes");

enum SignalOp { SIGNAL_SET = 0, SIGNAL_ADD = 1 };

namespace detail {

template <class Chunk>
TL_DEVICE void copy_chunks_thread(void* dst, const void* src, long long chunks) {
  Chunk* d = static_cast<Chunk*>(dst);
  const Chunk* s = static_cast<const Chunk*>(src);
  for (long long i = 0; i < chunks; ++i) d[i] = s[i];
}

// One thread copies `bytes` bytes in the widest chunks (16, 8, 4, 2 or 1 bytes) that both ends'
// alignment and the size allow.
TL_DEVICE void copy_thread(void* dst, const void* src, long long bytes) {
  const unsigned long long align = reinterpret_cast<unsigned long long>(dst) | reinterpret_cast<unsigned long long>(src) |
                                   static_cast<unsigned long long>(bytes);
  if (align % 16 == 0) copy_chunks_thread<uint4>(dst, src, bytes / 16);
  else if (align % 8 == 0) copy_chunks_thread<unsigned long long>(dst, src, bytes / 8);
  else if (align % 4 == 0) copy_chunks_thread<unsigned>(dst, src, bytes / 4);
  else if (align % 2 == 0) copy_chunks_thread<unsigned short>(dst, src, bytes / 2);
  else copy_chunks_thread<unsigned char>(dst, src, bytes);
}

// The warp copies `bytes` bytes: by copy_warp over 4-byte words when both ends and the size allow
// (16-byte vectors where aligned), else over bytes.
TL_DEVICE void copy_warp_bytes(void* dst, const void* src, long long bytes) {
  const unsigned long long align = reinterpret_cast<unsigned long long>(dst) | reinterpret_cast<unsigned long long>(src) |
                                   static_cast<unsigned long long>(bytes);
  if (align % 4 == 0) copy_warp<4, true>(static_cast<unsigned*>(dst), static_cast<const unsigned*>(src), bytes / 4);
  else copy_warp<4, true>(static_cast<unsigned char*>(dst), static_cast<const unsigned char*>(src), bytes);
}

TL_DEVICE void copy_block_bytes(void* dst, const void* src, long long bytes) {
  copy_block(static_cast<unsigned char*>(dst), static_cast<const unsigned char*>(src), bytes);
}

// Publishes a put: its data (stored by this thread, or by the warp or block before a barrier that
// this thread passed) visible at system scope, then sig on pe updated with release semantics.
TL_DEVICE void signal_after_put(const Context& c, uint64_t* sig, uint64_t signal, int op, int pe) {
  fence_sys();
  uint64_t* target = remote(c, sig, pe);
  if (op == SIGNAL_SET) st_release_sys(target, signal);
  else atom_add_release_sys(target, signal);
}

// The rank barrier's counters: int[num_ranks] at the start of this rank's heap (reserved).
TL_DEVICE int* rank_barrier_counters(const Context& c) { return reinterpret_cast<int*>(c.base[c.rank]); }

}  // namespace detail

// ---- puts and gets ----------------------------------------------------------------------------
TL_DEVICE void putmem(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_thread(remote(c, dst, pe), src, bytes);
}
TL_DEVICE void putmem_warp(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_warp_bytes(remote(c, dst, pe), src, bytes);
}
TL_DEVICE void putmem_block(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_block_bytes(remote(c, dst, pe), src, bytes);
}
TL_DEVICE void getmem(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_thread(dst, remote(c, src, pe), bytes);
}
TL_DEVICE void getmem_warp(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_warp_bytes(dst, remote(c, src, pe), bytes);
}
TL_DEVICE void getmem_block(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  detail::copy_block_bytes(dst, remote(c, src, pe), bytes);
}

TL_DEVICE void putmem_nbi(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  putmem(c, dst, src, bytes, pe);
}
TL_DEVICE void putmem_nbi_warp(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  putmem_warp(c, dst, src, bytes, pe);
}
TL_DEVICE void putmem_nbi_block(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  putmem_block(c, dst, src, bytes, pe);
}
TL_DEVICE void getmem_nbi(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  getmem(c, dst, src, bytes, pe);
}
TL_DEVICE void getmem_nbi_warp(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  getmem_warp(c, dst, src, bytes, pe);
}
TL_DEVICE void getmem_nbi_block(const Context& c, void* dst, const void* src, long long bytes, int pe) {
  getmem_block(c, dst, src, bytes, pe);
}

TL_DEVICE void int_p(const Context& c, int* dst, int value, int pe) { st_relaxed_sys(remote(c, dst, pe), value); }

// ---- signals ----------------------------------------------------------------------------------
TL_DEVICE void putmem_signal(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig, uint64_t signal,
                             int op, int pe) {
  putmem(c, dst, src, bytes, pe);
  detail::signal_after_put(c, sig, signal, op, pe);
}
TL_DEVICE void putmem_signal_warp(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig,
                                  uint64_t signal, int op, int pe) {
  putmem_warp(c, dst, src, bytes, pe);  // ends with __syncwarp
  if ((threadIdx.x & 31) == 0) detail::signal_after_put(c, sig, signal, op, pe);
}
TL_DEVICE void putmem_signal_block(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig,
                                   uint64_t signal, int op, int pe) {
  putmem_block(c, dst, src, bytes, pe);  // ends with __syncthreads
  if (threadIdx.x == 0) detail::signal_after_put(c, sig, signal, op, pe);
}
TL_DEVICE void putmem_signal_nbi(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig,
                                 uint64_t signal, int op, int pe) {
  putmem_signal(c, dst, src, bytes, sig, signal, op, pe);
}
TL_DEVICE void putmem_signal_nbi_warp(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig,
                                      uint64_t signal, int op, int pe) {
  putmem_signal_warp(c, dst, src, bytes, sig, signal, op, pe);
}
TL_DEVICE void putmem_signal_nbi_block(const Context& c, void* dst, const void* src, long long bytes, uint64_t* sig,
                                       uint64_t signal, int op, int pe) {
  putmem_signal_block(c, dst, src, bytes, sig, signal, op, pe);
}

TL_DEVICE void signal_op(const Context& c, uint64_t* sig, uint64_t signal, int op, int pe) {
  uint64_t* target = remote(c, sig, pe);
  if (op == SIGNAL_SET) st_relaxed_sys(target, signal);
  else atom_add_relaxed_sys(target, signal);
}

// dist.h's bounded wait, reported as a signal wait; returns the value that satisfied it.
template <int R>
TL_DEVICE uint64_t signal_wait_until(const Context& c, uint64_t* sig, uint64_t value) {
  return bounded_wait<R>(SIGNAL_WAIT, sig, value, c, [](const uint64_t* q) { return ld_acquire_sys(q); });
}

// ---- ordering and barriers --------------------------------------------------------------------
TL_DEVICE void quiet(const Context&) { fence_sys(); }
TL_DEVICE void fence(const Context&) { fence_sys(); }

TL_DEVICE void barrier_all(const Context& c) {
  fence_sys();
  detail::count_rank_barrier(c, detail::rank_barrier_counters(c), 0, 1);
}
TL_DEVICE void barrier_all_warp(const Context& c) {
  __syncwarp();
  fence_sys();
  detail::count_rank_barrier(c, detail::rank_barrier_counters(c), threadIdx.x & 31, 32);
  __syncwarp();
}
TL_DEVICE void barrier_all_block(const Context& c) { barrier_blocks(c, detail::rank_barrier_counters(c), true); }

TL_DEVICE void sync_all(const Context& c) { barrier_all(c); }
TL_DEVICE void sync_all_warp(const Context& c) { barrier_all_warp(c); }
TL_DEVICE void sync_all_block(const Context& c) { barrier_all_block(c); }

}  // namespace dist
}  // namespace tl
