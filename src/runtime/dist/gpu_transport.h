// What the GPU transports (local, ipc, nvshmem) share: ranks with a device, a stream and a symmetric heap
// mapped in this process, collective allocation, host barriers, and what a kernel launch needs.
//
// A GpuTransport holds this process's ranks (all of a local world, one of an ipc world) and the
// address in this process of every rank's heap (bases). The differences live in the subclasses:
// how the heaps are made and mapped (setup), and how the ranks agree (a Collective: threads of
// this process for local, the rendezvous for ipc).
//
// Heap layout, on every rank: the first kReservedHeapBytes belong to the runtime (the counters of
// NVSHMEM-level barriers, device/tilescale/dist_shmem.h) and are zero when the world starts; the
// k-th allocation of every rank starts at the same offset after them (symmetric_allocation.h).
//
// Kernels. On the thread of a rank inside run(), current_launch_rank() says what a distributed
// kernel launched there needs: the rank's device and stream, the tl::dist::Context to pass, and
// how many ranks of this process share the device (their kernels must all be resident at once when
// they wait for each other: cuda::LoadedKernel::launch checks it).
//
// Failure. When a rank's code throws, run() stops the others: the collective wakes every rank
// waiting in it with an error, and every rank's wait control asks its kernels' waits to trap (a
// kernel spinning on a rank that will never come ends instead of hanging the process); run()
// rethrows the first error.
#pragma once

#include <cuda.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/cuda/module.h"
#include "runtime/cuda/wait_control.h"
#include "runtime/dist/rendezvous.h"
#include "runtime/dist/transport.h"

namespace tilescale::dist {

inline constexpr std::size_t kReservedHeapBytes = 4096;  // = tl::dist::kReservedHeapBytes

// How the ranks of a world exchange a few bytes and meet.
class Collective {
 public:
  virtual ~Collective() = default;
  // Every rank's `mine`, in rank order, once all have called it with `key` (each key used once).
  virtual std::vector<Bytes> all_gather(int rank, const std::string& key, const Bytes& mine) = 0;
  virtual void barrier(int rank) = 0;
  // Makes every present and future call of every rank of this process throw RuntimeError(why).
  virtual void stop(const std::string& why) = 0;
};

// What a distributed kernel launched on a rank's thread needs (see above).
struct LaunchRank {
  int rank = 0;
  int device = 0;
  CUstream stream = nullptr;
  int ranks_sharing_device = 1;  // this process's ranks whose kernels must be resident together
  Target target = Target::CUDA;  // the world's: NVSHMEM on an nvshmem world, whose kernels may call NVSHMEM
  cuda::DistContext context{};
};
// Null outside the rank threads of a GPU world's run().
const LaunchRank* current_launch_rank();

class GpuTransport : public Transport {
 public:
  ~GpuTransport() override;

  Target target() const override { return Target::CUDA; }
  int size() const override { return size_; }
  std::vector<int> local_ranks() const override;
  void run(const std::function<void(int rank)>& fn) override;

  void* allocate(int rank, std::size_t bytes, const std::string& what, bool zero) override;
  void* peer(int rank, const void* local, std::size_t bytes, int pe, const std::string& what) const override;
  void barrier(int rank) override;
  Device device(int rank) const override;
  void* stream(int rank) const override;
  std::size_t heap_bytes() const override { return heap_bytes_; }
  std::size_t heap_used(int rank) const override;

 protected:
  // `heap_bytes` usable bytes per rank (the reserved ones come on top); `wait_timeout_ms` the
  // per-wait budget (0: none).
  GpuTransport(int size, std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::unique_ptr<Collective> collective);

  // Makes local rank `rank` on `device`: its stream and wait control. Called by the subclass's
  // setup, in rank order, before set_bases.
  void add_local_rank(int rank, int device, int ranks_sharing_device);
  // Every rank's heap base in this process (the reserved bytes first), known once setup mapped
  // them; fills each local rank's Context.
  void set_bases(const std::vector<std::byte*>& bases);

  std::size_t mapped_heap_bytes() const { return heap_bytes_ + kReservedHeapBytes; }
  Collective& collective() { return *collective_; }
  // Whether a run failed (its ranks were stopped): collective teardown would wait for ranks that
  // may never come.
  bool failed() const { return failed_; }

 private:
  struct RankState {
    LaunchRank launch;
    std::unique_ptr<cuda::WaitControl> control;
    std::size_t used = 0;  // of the usable heap, after the reserved bytes
    int allocations = 0;
  };
  RankState& state(int rank);
  const RankState& state(int rank) const;
  void stop_all(const std::string& why);

  const int size_;
  const std::size_t heap_bytes_;
  const std::int64_t wait_timeout_ms_;
  std::unique_ptr<Collective> collective_;
  std::vector<std::unique_ptr<RankState>> ranks_;  // this process's, in rank order
  std::vector<std::byte*> bases_;
  std::atomic<bool> failed_{false};
};

}  // namespace tilescale::dist
