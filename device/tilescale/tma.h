// tilescale device headers — tma.h
//
// The Tensor Memory Accelerator (sm_90): bulk copies of whole tiles between global and shared
// memory, described by a tensor map and issued by one thread.
//
//   tl::TmaDescriptor                                   the tensor map (CUtensorMap), 128 bytes
//   tl::tma_load_{1,2,3,4,5}d(smem_dst, desc, bar, c0[, c1, c2, c3, c4])   global -> shared
//   tl::tma_store_{1,2,3,4,5}d(desc, smem_src, c0[, ...])                 shared -> global
//   tl::tma_store_commit()          close the group of stores issued since the last commit
//   tl::tma_store_wait_read<N>()    at most N groups still reading shared memory (smem reusable)
//   tl::tma_store_wait<N>()         at most N groups not yet complete (writes done)
//   tl::tma_prefetch_{1..5}d(desc, c0[, ...])   pull a tile into L2
//   tl::tma_prefetch_descriptor(desc)           pull the tensor map itself into the cache
//
// The tensor map. Host code builds it with the driver's cuTensorMapEncodeTiled (global address,
// element type, up to 5 dimensions with sizes and byte strides, the box = tile extent per
// dimension, the shared-memory swizzle, out-of-bounds fill) and passes it to the kernel by value
// as a `const __grid_constant__ tl::TmaDescriptor` parameter (or a CUtensorMap: same size and
// alignment, so the host copies the bytes as they are). `desc` in every call below is the address of
// that parameter (`&param`): TMA reads the map through a generic address, and a grid-constant
// parameter has one. NVRTC has no <cuda.h>, hence tl::TmaDescriptor instead of CUtensorMap.
//
// Coordinates c0..c4 are element indices of the tile's first element, c0 the innermost
// (contiguous) dimension -- the reverse of C array order: a tile at row y, column x of a row-major
// matrix is (c0 = x, c1 = y). They may be negative or run past the end: elements outside the tensor
// are filled with zeros (or NaN, as the map says) on loads and skipped on stores, so boundary tiles
// need no predication.
//
// Shared memory. The tile lands in the box's C order ([box4]...[box1][box0], box0 contiguous),
// with the map's swizzle applied: with CU_TENSOR_MAP_SWIZZLE_128B / 64B / 32B and a box row of
// exactly 128 / 64 / 32 bytes this is tl::swizzle<box1, box0, sizeof(T)> (swizzle.h) of the tile, as long
// as the destination is aligned to 1024 / 512 / 256 bytes (the swizzle pattern repeats every 8 rows
// and is computed from address bits, so the tile must start at a pattern boundary). Unswizzled
// tiles need 128-byte alignment, and box0 * sizeof(T) must be a multiple of 16 bytes.
//
// Loads complete on an mbarrier (mbarrier.h): the issuing thread first announces the bytes with
// tl::mbarrier_arrive_expect_tx(bar, bytes) (bytes = the full box, out-of-bounds fill included),
// then issues the loads; waiters use tl::mbarrier_wait(bar, parity). Stores complete through bulk
// groups: commit, then wait_read before shared memory is overwritten (or the block exits), wait
// before the written global data is read by this block. Shared memory written with ordinary stores
// (including stmatrix) needs tl::fence_proxy_async() in every writing thread and a barrier before
// the store is issued.
//
// The destination of a load is named in the shared::cluster window; a CTA's own shared address is
// valid there, so no cluster is needed (multicast to other CTAs of a cluster is not wrapped yet).
//
// Targets: sm_90 and later. Before sm_90 a wrapper calls an undefined function: harmless unless it
// is used, and then ptxas stops with "Unresolved extern function 'tl_error_needs_sm_90_tma'".
#pragma once

#include "tilescale/common.h"

extern "C" __device__ void tl_error_needs_sm_90_tma();

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define TL_TMA_SM90(...) tl_error_needs_sm_90_tma()
#else
#define TL_TMA_SM90(...) __VA_ARGS__
#endif

namespace tl {

// CUtensorMap under a name NVRTC can see: opaque, 128 bytes, aligned like CUDA 13's CUtensorMap
// (128; TMA itself needs 64).
struct TmaDescriptor {
  alignas(128) unsigned long long data[16];
};
static_assert(sizeof(TmaDescriptor) == 128, "tl::TmaDescriptor must match CUtensorMap (128 bytes)");

namespace detail {
TL_DEVICE uint32_t tma_smem(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }
TL_DEVICE uint64_t tma_map(const void* desc) { return reinterpret_cast<uint64_t>(desc); }
}  // namespace detail

// ---- loads: global -> shared, completing on an mbarrier -----------------------------------------

#define TL_TMA_LOAD_PREFIX "cp.async.bulk.tensor."
#define TL_TMA_LOAD_SUFFIX ".shared::cluster.global.tile.mbarrier::complete_tx::bytes"

TL_DEVICE void tma_load_1d(void* smem_dst, const void* desc, uint64_t* bar, int c0) {
  TL_TMA_SM90(asm volatile(TL_TMA_LOAD_PREFIX "1d" TL_TMA_LOAD_SUFFIX " [%0], [%1, {%3}], [%2];\n" ::"r"(
                               detail::tma_smem(smem_dst)),
                           "l"(detail::tma_map(desc)), "r"(detail::tma_smem(bar)), "r"(c0)
                           : "memory"));
}

TL_DEVICE void tma_load_2d(void* smem_dst, const void* desc, uint64_t* bar, int c0, int c1) {
  TL_TMA_SM90(asm volatile(TL_TMA_LOAD_PREFIX "2d" TL_TMA_LOAD_SUFFIX " [%0], [%1, {%3, %4}], [%2];\n" ::"r"(
                               detail::tma_smem(smem_dst)),
                           "l"(detail::tma_map(desc)), "r"(detail::tma_smem(bar)), "r"(c0), "r"(c1)
                           : "memory"));
}

TL_DEVICE void tma_load_3d(void* smem_dst, const void* desc, uint64_t* bar, int c0, int c1, int c2) {
  TL_TMA_SM90(asm volatile(TL_TMA_LOAD_PREFIX "3d" TL_TMA_LOAD_SUFFIX " [%0], [%1, {%3, %4, %5}], [%2];\n" ::"r"(
                               detail::tma_smem(smem_dst)),
                           "l"(detail::tma_map(desc)), "r"(detail::tma_smem(bar)), "r"(c0), "r"(c1), "r"(c2)
                           : "memory"));
}

TL_DEVICE void tma_load_4d(void* smem_dst, const void* desc, uint64_t* bar, int c0, int c1, int c2, int c3) {
  TL_TMA_SM90(asm volatile(TL_TMA_LOAD_PREFIX "4d" TL_TMA_LOAD_SUFFIX " [%0], [%1, {%3, %4, %5, %6}], [%2];\n" ::"r"(
                               detail::tma_smem(smem_dst)),
                           "l"(detail::tma_map(desc)), "r"(detail::tma_smem(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
                           : "memory"));
}

TL_DEVICE void tma_load_5d(void* smem_dst, const void* desc, uint64_t* bar, int c0, int c1, int c2, int c3, int c4) {
  TL_TMA_SM90(asm volatile(TL_TMA_LOAD_PREFIX "5d" TL_TMA_LOAD_SUFFIX " [%0], [%1, {%3, %4, %5, %6, %7}], [%2];\n" ::"r"(
                               detail::tma_smem(smem_dst)),
                           "l"(detail::tma_map(desc)), "r"(detail::tma_smem(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
                           "r"(c4)
                           : "memory"));
}

#undef TL_TMA_LOAD_PREFIX
#undef TL_TMA_LOAD_SUFFIX

// ---- stores: shared -> global, completing through bulk groups ------------------------------------

#define TL_TMA_STORE(DIM) "cp.async.bulk.tensor." DIM ".global.shared::cta.tile.bulk_group"

TL_DEVICE void tma_store_1d(const void* desc, const void* smem_src, int c0) {
  TL_TMA_SM90(asm volatile(TL_TMA_STORE("1d") " [%0, {%2}], [%1];\n" ::"l"(detail::tma_map(desc)),
                           "r"(detail::tma_smem(smem_src)), "r"(c0)
                           : "memory"));
}

TL_DEVICE void tma_store_2d(const void* desc, const void* smem_src, int c0, int c1) {
  TL_TMA_SM90(asm volatile(TL_TMA_STORE("2d") " [%0, {%2, %3}], [%1];\n" ::"l"(detail::tma_map(desc)),
                           "r"(detail::tma_smem(smem_src)), "r"(c0), "r"(c1)
                           : "memory"));
}

TL_DEVICE void tma_store_3d(const void* desc, const void* smem_src, int c0, int c1, int c2) {
  TL_TMA_SM90(asm volatile(TL_TMA_STORE("3d") " [%0, {%2, %3, %4}], [%1];\n" ::"l"(detail::tma_map(desc)),
                           "r"(detail::tma_smem(smem_src)), "r"(c0), "r"(c1), "r"(c2)
                           : "memory"));
}

TL_DEVICE void tma_store_4d(const void* desc, const void* smem_src, int c0, int c1, int c2, int c3) {
  TL_TMA_SM90(asm volatile(TL_TMA_STORE("4d") " [%0, {%2, %3, %4, %5}], [%1];\n" ::"l"(detail::tma_map(desc)),
                           "r"(detail::tma_smem(smem_src)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
                           : "memory"));
}

TL_DEVICE void tma_store_5d(const void* desc, const void* smem_src, int c0, int c1, int c2, int c3, int c4) {
  TL_TMA_SM90(asm volatile(TL_TMA_STORE("5d") " [%0, {%2, %3, %4, %5, %6}], [%1];\n" ::"l"(detail::tma_map(desc)),
                           "r"(detail::tma_smem(smem_src)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4)
                           : "memory"));
}

#undef TL_TMA_STORE

TL_DEVICE void tma_store_commit() { TL_TMA_SM90(asm volatile("cp.async.bulk.commit_group;\n" ::: "memory")); }

template <int N>
TL_DEVICE void tma_store_wait_read() {
  static_assert(N >= 0, "tl::tma_store_wait_read<N> needs N >= 0");
  TL_TMA_SM90(asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory"));
}

template <int N>
TL_DEVICE void tma_store_wait() {
  static_assert(N >= 0, "tl::tma_store_wait<N> needs N >= 0");
  TL_TMA_SM90(asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(N) : "memory"));
}

// ---- prefetch ------------------------------------------------------------------------------------

#define TL_TMA_PREFETCH(DIM) "cp.async.bulk.prefetch.tensor." DIM ".L2.global.tile"

TL_DEVICE void tma_prefetch_1d(const void* desc, int c0) {
  TL_TMA_SM90(asm volatile(TL_TMA_PREFETCH("1d") " [%0, {%1}];\n" ::"l"(detail::tma_map(desc)), "r"(c0) : "memory"));
}

TL_DEVICE void tma_prefetch_2d(const void* desc, int c0, int c1) {
  TL_TMA_SM90(
      asm volatile(TL_TMA_PREFETCH("2d") " [%0, {%1, %2}];\n" ::"l"(detail::tma_map(desc)), "r"(c0), "r"(c1) : "memory"));
}

TL_DEVICE void tma_prefetch_3d(const void* desc, int c0, int c1, int c2) {
  TL_TMA_SM90(asm volatile(TL_TMA_PREFETCH("3d") " [%0, {%1, %2, %3}];\n" ::"l"(detail::tma_map(desc)), "r"(c0), "r"(c1),
                           "r"(c2)
                           : "memory"));
}

TL_DEVICE void tma_prefetch_4d(const void* desc, int c0, int c1, int c2, int c3) {
  TL_TMA_SM90(asm volatile(TL_TMA_PREFETCH("4d") " [%0, {%1, %2, %3, %4}];\n" ::"l"(detail::tma_map(desc)), "r"(c0),
                           "r"(c1), "r"(c2), "r"(c3)
                           : "memory"));
}

TL_DEVICE void tma_prefetch_5d(const void* desc, int c0, int c1, int c2, int c3, int c4) {
  TL_TMA_SM90(asm volatile(TL_TMA_PREFETCH("5d") " [%0, {%1, %2, %3, %4, %5}];\n" ::"l"(detail::tma_map(desc)), "r"(c0),
                           "r"(c1), "r"(c2), "r"(c3), "r"(c4)
                           : "memory"));
}

#undef TL_TMA_PREFETCH

TL_DEVICE void tma_prefetch_descriptor(const void* desc) {
  TL_TMA_SM90(asm volatile("prefetch.tensormap [%0];\n" ::"l"(detail::tma_map(desc)) : "memory"));
}

}  // namespace tl

#undef TL_TMA_SM90
