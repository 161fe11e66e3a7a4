// The transports behind tilescale::dist::World (include/tilescale/dist.h).
//
// A Transport is one process's part of a world: its ranks (all of them for sim and local, one for
// ipc), their symmetric heaps and host barriers. World and Rank forward to it; the rank-level
// calls come from the thread of that rank, inside run().
//
//   sim      runtime/dist/sim_transport.cc   the CPU backend's simulation (sim.h)
//   local    runtime/dist/local.cc           N ranks in this process on its GPUs
//   ipc      runtime/dist/ipc.cc             one process per rank (World::from_env)
//   nvshmem  runtime/dist/nvshmem.cc         one process per rank, each a PE of NVSHMEM (World::nvshmem)
// local, ipc and nvshmem share their rank-level logic (gpu_transport.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tilescale/dist.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"

namespace tilescale::dist {

class Transport {
 public:
  virtual ~Transport() = default;

  virtual const char* name() const = 0;
  virtual Target target() const = 0;
  virtual int size() const = 0;
  virtual std::vector<int> local_ranks() const = 0;
  // Runs fn(rank) for every local rank, each on a thread of its own; returns when all have
  // returned and rethrows the first error raised (World::run checked nesting already).
  virtual void run(const std::function<void(int rank)>& fn) = 0;

  // Rank-level calls, from the thread of `rank` inside run().
  // The next collective allocation of `rank`: `bytes` for `what` ("float16[64, 32]"), zero-filled
  // when asked; returns its address in this process.
  virtual void* allocate(int rank, std::size_t bytes, const std::string& what, bool zero) = 0;
  // The address on rank `pe` of `bytes` bytes at `local` in rank `rank`'s heap; RuntimeError
  // (naming `what`) when they are not in that heap.
  virtual void* peer(int rank, const void* local, std::size_t bytes, int pe, const std::string& what) const = 0;
  virtual void barrier(int rank) = 0;
  virtual Device device(int rank) const = 0;
  virtual void* stream(int rank) const = 0;
  virtual std::size_t heap_bytes() const = 0;
  virtual std::size_t heap_used(int rank) const = 0;
};

// The transports, made by World's factories with checked arguments: `ranks` ranks (local), or this
// process's rank of the world its launcher describes (ipc); heaps of `heap_bytes` usable bytes;
// `wait_timeout_ms` the per-wait budget (0: none).
std::shared_ptr<Transport> make_sim_transport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms);
std::shared_ptr<Transport> make_local_transport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms);
std::shared_ptr<Transport> make_ipc_transport(std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::int64_t setup_timeout_ms);
std::shared_ptr<Transport> make_nvshmem_transport(std::size_t heap_bytes, std::int64_t wait_timeout_ms,
                                                  std::int64_t setup_timeout_ms);

// Shared by the World factories: RuntimeError for a rank count outside 1 to kMaxRanks; the
// per-wait budget of `options` in milliseconds (0: none), RuntimeError for a value below -1.
void check_rank_count(int ranks);
void check_heap_bytes(const WorldOptions& options, const char* transport);  // at most kMaxHeapBytes
std::int64_t checked_wait_timeout(const WorldOptions& options, const char* transport);

}  // namespace tilescale::dist
