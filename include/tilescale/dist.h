// Ranks and the symmetric heap on the host: running a distributed program.
//
//   auto world = tilescale::dist::World::sim(4);             // 4 ranks simulated in this process
//   tilescale::Kernel k = tilescale::compile(allgather, tilescale::Target::CPU);
//   world.run([&](tilescale::dist::Rank& rank) {              // on 4 threads, one per rank
//     tilescale::Tensor a = rank.heap().empty({M, N}, tilescale::DataType::Float16);
//     tilescale::Tensor out = rank.heap().zeros({4 * M, N}, tilescale::DataType::Float16);
//     a.fill_random(rank.rank());
//     rank.barrier();                                         // every rank's input is ready
//     k(a, out);                                              // runs as this rank
//     rank.barrier();                                         // every rank's puts have landed
//   });
//
// A World is a set of ranks with a transport (docs/03_distributed.md §4):
//   sim    N ranks simulated in one process by the CPU backend (src/runtime/dist/sim.h): kernels
//          compile for Target::CPU.
//   local  N ranks driven by one process on its GPUs (rank r on visible device r % devices), each
//          rank's kernels on a stream of its own: kernels compile for Target::CUDA.
//   ipc    one process per rank (World::from_env, under `tilescale launch`, torchrun, mpirun or
//          srun), several processes may share a GPU; kernels compile for Target::CUDA.
//   nvshmem  one process per rank as under ipc, each a PE of NVSHMEM (World::nvshmem, or
//          World::from_env with TILESCALE_TRANSPORT=nvshmem), the heap from nvshmem_malloc; kernels
//          compile for Target::NVSHMEM (NVSHMEM-level builtins call NVSHMEM; docs/03 §3.10).
// In every world each rank's host code runs on its own thread (World::run runs the ranks this
// process drives: all of them, or its one rank under ipc); a kernel called there runs as that rank
// (get_rank, remote addresses, waits) with that rank's tensors. The code of a program does not
// change between transports: compile for world.target(), allocate in rank.heap().
//
// sim A watchdog stops a deadlocked run with a report (every waiter's rank,
// block, thread, address, expected and observed value) raised as RuntimeError on every rank; it
// reports only when no thread of the run can ever move again, never because the machine is slow
// (docs/03_distributed.md §3.5 states the rule). A hand-written spin loop over T::ld is not a wait
// the watchdog can judge: the per-wait budget below bounds it.
//
// The symmetric heap. Every rank has one of the same size; allocation is collective: the k-th
// allocation of each rank returns the same offset in its heap, so an object's address on rank p is
// base[p] + (address - base[me]) and kernels reach a peer's copy by its local address. Every rank
// must make the same allocations (shapes and dtypes) in the same order: the k-th allocation waits
// for every rank's k-th and raises the same RuntimeError on all of them when they differ. Tensors
// from the heap stay valid while their World lives; memory is never freed before that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tilescale/tensor.h"

namespace tilescale {
enum class Target;  // tilescale/runtime.h
}

namespace tilescale::dist {

class Transport;  // src/runtime/dist/transport.h

inline constexpr int kMaxRanks = 64;  // the remote-base table of a CUDA kernel holds this many
// The largest symmetric heap a world makes (2^52 bytes): a RuntimeError beyond, never a size that
// wraps when the runtime adds its reserved bytes or rounds to the allocation granularity.
inline constexpr std::size_t kMaxHeapBytes = std::size_t(1) << 52;

struct WorldOptions {
  std::size_t heap_bytes = std::size_t(256) << 20;  // symmetric heap per rank, at most kMaxHeapBytes
  // Per-wait time budget in milliseconds: a wait (T::wait_*, a barrier, a host collective) that
  // lasts longer, or a spin loop whose T::ld loads keep finding the same values for longer, stops
  // the run with a RuntimeError naming it (rank, block, thread, address, observed value).
  // -1: TILESCALE_WAIT_TIMEOUT_MS from the environment (digits only; none when unset or empty;
  // anything else is a RuntimeError naming it); 0: none. Below -1 is a RuntimeError; budgets beyond
  // about 292 years (whose nanoseconds overflow an int64) are that long.
  std::int64_t wait_timeout_ms = -1;
  // ipc: how long setting up may wait for the other ranks (the rendezvous, every collective step)
  // before it fails naming the ranks that did not arrive.
  std::int64_t setup_timeout_ms = 120000;
};

class SymmetricHeap {
 public:
  // Collective allocation (see above), uninitialised or zero-filled.
  Tensor empty(std::vector<std::int64_t> shape, DataType dtype) const;
  Tensor zeros(std::vector<std::int64_t> shape, DataType dtype) const;
  // The same object on rank `pe`: `local` must be a tensor of this rank's heap (or a view into it).
  Tensor peer(const Tensor& local, int pe) const;
  std::size_t capacity() const;  // bytes per rank
  std::size_t used() const;      // bytes allocated so far (the same on every rank)

 private:
  friend class Rank;
  Tensor allocate(std::vector<std::int64_t> shape, DataType dtype, bool zero) const;
  SymmetricHeap(Transport* transport, int rank) : transport_(transport), rank_(rank) {}
  Transport* transport_;
  int rank_;
};

// What a rank's host code sees: its rank, the heap, the host barrier.
class Rank {
 public:
  int rank() const { return rank_; }
  int size() const;
  const SymmetricHeap& heap() const { return heap_; }
  // Where this rank's heap and kernels live: Device::cpu() on sim, its GPU otherwise.
  Device device() const;
  // The CUstream this rank's kernels run on (null on sim). Kernel calls from this rank's code go
  // there unless given a stream.
  void* stream() const;
  // Returns when every rank has called it (as often as this rank), and, on a GPU, every kernel
  // this rank launched before it has finished: what they wrote is visible to every rank.
  void barrier() const;

 private:
  friend class World;
  Rank(Transport* transport, int rank) : transport_(transport), rank_(rank), heap_(transport, rank) {}
  Transport* transport_;
  int rank_;
  SymmetricHeap heap_;
};

class World {
 public:
  // The sim transport with `ranks` ranks (1 to kMaxRanks); RuntimeError otherwise.
  static World sim(int ranks, const WorldOptions& options = {});
  // The local transport: `ranks` ranks (1 to kMaxRanks) in this process on its visible CUDA
  // devices, rank r on device r % devices. RuntimeError when there is no CUDA device or the heaps
  // cannot be made.
  static World local(int ranks, const WorldOptions& options = {});
  // The ipc transport: this process is one rank of the world its launcher describes
  // (runtime/dist/launch_env.h: tilescale launch, torchrun, mpirun, srun), on device LOCAL_RANK %
  // devices; a process started without a launcher is the one rank of a world of one. Collective:
  // every rank of the world must call it; a setup error on any rank is raised on every rank.
  // TILESCALE_TRANSPORT=nvshmem makes it World::nvshmem (unset or "ipc": ipc; anything else is a
  // RuntimeError), so that one program runs on either.
  static World from_env(const WorldOptions& options = {});
  // The nvshmem transport: this process is PE RANK of the world its launcher describes (as
  // from_env), on device LOCAL_RANK % devices. NVSHMEM (found as `tilescale doctor` shows: the
  // nvidia-nvshmem-cu13 wheel or NVSHMEM_HOME) is loaded at run time and bootstrapped with a unique
  // id passed through the launcher's rendezvous, or by NVSHMEM's own bootstrap when NVSHMEM_BOOTSTRAP
  // is set (MPI, PMI...). NVSHMEM_DISABLE_NVLS=1 always; on one node NVSHMEM_REMOTE_TRANSPORT=none
  // and the loopback interface unless set (runtime/dist/nvshmem_environment.h). Every rank must
  // reach every other by loads and stores (one node). One nvshmem world per process at a time.
  // Collective, with the same error on every rank as from_env.
  static World nvshmem(const WorldOptions& options = {});

  int size() const;
  const char* transport() const;        // "sim", "local", "ipc", "nvshmem"
  Target target() const;                // what its kernels compile for: CPU on sim, NVSHMEM on nvshmem, else CUDA
  std::vector<int> local_ranks() const;  // the ranks this process drives, in order
  // Runs fn on every rank, each on its own thread; returns when all have returned. When a rank
  // throws, the others' waits stop and run() rethrows the first error raised (an exception that is
  // not a std::exception as a RuntimeError naming the rank). Runs do not nest: RuntimeError when
  // called from a rank's code, or while another thread runs the same world.
  void run(const std::function<void(Rank&)>& fn) const;

 private:
  explicit World(std::shared_ptr<Transport> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Transport> impl_;
};

}  // namespace tilescale::dist
