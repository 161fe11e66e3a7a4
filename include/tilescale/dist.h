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
// A World is a set of ranks with a transport; `sim` is the CPU backend's, N ranks in one process
// (src/runtime/dist/sim.h): each rank's host code runs on its own thread, kernels compiled once
// (for Target::CPU) are called by every rank with that rank's tensors, and run as that rank (get_rank,
// remote addresses, waits). A watchdog stops a deadlocked run with a report (every waiter's rank,
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

namespace tilescale::sim {
class World;
class Participant;
}  // namespace tilescale::sim

namespace tilescale::dist {

inline constexpr int kMaxRanks = 64;  // the remote-base table of a CUDA kernel holds this many

struct WorldOptions {
  std::size_t heap_bytes = std::size_t(256) << 20;  // symmetric heap per rank
  // Per-wait time budget in milliseconds: a wait (T::wait_*, a barrier, a host collective) that
  // lasts longer, or a spin loop whose T::ld loads keep finding the same values for longer, stops
  // the run with a RuntimeError naming it (rank, block, thread, address, observed value).
  // -1: TILESCALE_WAIT_TIMEOUT_MS from the environment (digits only; none when unset or empty;
  // anything else is a RuntimeError naming it); 0: none. Below -1 is a RuntimeError; budgets beyond
  // about 292 years (whose nanoseconds overflow an int64) are that long.
  std::int64_t wait_timeout_ms = -1;
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
  SymmetricHeap(sim::World* world, int rank, sim::Participant* self) : world_(world), rank_(rank), self_(self) {}
  sim::World* world_;
  int rank_;
  sim::Participant* self_;
};

// What a rank's host code sees: its rank, the heap, the host barrier.
class Rank {
 public:
  int rank() const { return rank_; }
  int size() const;
  const SymmetricHeap& heap() const { return heap_; }
  // Returns when every rank has called it (as often as this rank).
  void barrier() const;

 private:
  friend class World;
  Rank(sim::World* world, int rank, sim::Participant* self) : world_(world), rank_(rank), self_(self), heap_(world, rank, self) {}
  sim::World* world_;
  int rank_;
  sim::Participant* self_;
  SymmetricHeap heap_;
};

class World {
 public:
  // The sim transport with `ranks` ranks (1 to kMaxRanks); RuntimeError otherwise.
  static World sim(int ranks, const WorldOptions& options = {});
  int size() const;
  // Runs fn on every rank, each on its own thread; returns when all have returned. When a rank
  // throws, the others' waits stop and run() rethrows the first error raised (an exception that is
  // not a std::exception as a RuntimeError naming the rank). Runs do not nest: RuntimeError when
  // called from a rank's code, or while another thread runs the same world.
  void run(const std::function<void(Rank&)>& fn) const;

 private:
  explicit World(std::shared_ptr<sim::World> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<sim::World> impl_;
};

}  // namespace tilescale::dist
