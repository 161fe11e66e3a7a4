// The sim transport: N ranks simulated in one process, for the CPU backend.
//
// A sim::World owns one symmetric heap per rank (host memory, the same size on every rank) and
// runs each rank's host code on its own thread (World::run). Kernels called from a rank's thread
// run as that rank (current_rank()): their remote accesses translate a local address in the
// symmetric heap to the peer's heap, base[pe] + (addr - base[me]), exactly as the GPU transports
// do with their remote-base table. A kernel that can wait (a wait, a barrier) runs each of its blocks
// on its own thread, so that a block spinning on a flag does not stop the block or rank that will
// set it.
//
// Every thread that can wait is a Participant: a rank's host code, or one block of a kernel. A
// wait (Participant::wait) spins on its condition, yielding and then sleeping, and meanwhile shows
// the watchdog what it waits for. The watchdog, a thread that runs while World::run does, checks
// every few milliseconds whether every participant is waiting (or done) and no waited-for condition
// holds; since only a running participant can change memory, nothing can then happen, and after a
// few checks that agree it stops the run with a report naming each waiter (rank, block, thread,
// address, expected and observed value). Every wait then throws that report as a RuntimeError, on
// every rank. A per-wait timeout (WorldOptions, or TILESCALE_WAIT_TIMEOUT_MS) also stops the run,
// naming the wait that ran out of time; it catches what the watchdog cannot see (a block spinning
// in a hand-written loop over T::ld instead of a wait).
//
// Symmetric allocation is collective: the k-th allocation of every rank waits for the k-th
// allocation of the others, then all compare what they asked for; a difference in shape or dtype
// (or a different order of allocations) raises the same RuntimeError on every rank.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tilescale::sim {

class World;

// A thread of the simulation that may wait: a rank's host code, or one block of a kernel.
class Participant {
 public:
  enum class State { Running, Waiting, Joining, Done };
  Participant(World& world, int rank, std::string name, State state);

  // Returns once `satisfied()` holds. Meanwhile the watchdog sees this participant waiting on
  // `describe()` ("T::wait_eq on flag[0] ... expected 1, observed 0"; called with the value seen
  // now). RuntimeError when the run stops (a deadlock, a failure elsewhere) or the wait outlasts
  // the per-wait timeout.
  void wait(const std::function<bool()>& satisfied, const std::function<std::string()>& describe);
  // RuntimeError when the run has stopped.
  void check_stopped() const;

  World& world() const { return world_; }
  int rank() const { return rank_; }
  const std::string& name() const { return name_; }  // "rank 0, block (1, 0, 0)" or "rank 0 host code"

 private:
  friend class World;
  World& world_;
  const int rank_;
  const std::string name_;
  State state_;  // guarded by the world's mutex, as are the two below
  const std::function<bool()>* satisfied_ = nullptr;
  const std::function<std::string()>* describe_ = nullptr;
};

struct Options {
  int ranks = 1;
  std::size_t heap_bytes = std::size_t(256) << 20;  // per rank
  std::int64_t wait_timeout_ms = 0;                // 0: no per-wait timeout
};

class World {
 public:
  explicit World(const Options& options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int size() const { return options_.ranks; }
  std::byte* heap(int rank) const { return heaps_[rank].get(); }
  std::size_t heap_bytes() const { return options_.heap_bytes; }
  std::size_t heap_used() const;
  std::int64_t wait_timeout_ms() const { return options_.wait_timeout_ms; }

  // Runs fn(rank) for every rank, each on its own thread as current_rank(), with the watchdog on;
  // returns when all have returned. When any rank throws, the run stops (waits elsewhere throw)
  // and run() rethrows the first error raised.
  void run(const std::function<void(int rank)>& fn);

  // The k-th symmetric allocation of `rank` (collective, see above): returns its offset in the heap.
  // `what` describes the request ("float16[64, 32]"); `bytes` is its size.
  std::size_t allocate(Participant& self, std::size_t bytes, const std::string& what);
  // Host barrier of all ranks.
  void host_barrier(Participant& self);
  // A device-side barrier of one call per rank (NVSHMEM's barrier_all / sync_all): returns when
  // every rank has called it. RuntimeError when a rank calls it twice before the others arrive.
  void rank_barrier(Participant& self, const std::string& what, const std::string& where);

  // Stops the run: every wait throws RuntimeError(message). The first message wins.
  void stop(const std::string& message);
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  std::string stop_message() const;

  // Participants: added when a host thread or block starts, removed when it ends. `wake`, when
  // given, is set Running in the same step (the host code of a kernel whose last block ends).
  std::shared_ptr<Participant> join(int rank, std::string name, Participant::State state);
  void leave(const std::shared_ptr<Participant>& p, Participant* wake = nullptr);
  void set_state(Participant& p, Participant::State state);

 private:
  friend class Participant;
  struct Round {  // the k-th collective allocation
    std::vector<std::optional<std::pair<std::size_t, std::string>>> requests;
    int arrived = 0;
    std::optional<std::size_t> offset;
    std::string error;
    std::atomic<bool> decided{false};
  };
  struct Barrier {
    std::atomic<std::int64_t> generation{0};
    std::vector<bool> arrived;
    int count = 0;
    std::vector<std::string> where;  // per rank, for the double-call message
  };

  void watchdog();
  std::string deadlock_report() const;  // with mu_ held
  void barrier_wait(Barrier& b, Participant& self, const std::string& what, const std::string& where);

  const Options options_;
  std::vector<std::unique_ptr<std::byte[]>> heaps_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Participant>> participants_;
  std::vector<int> allocations_;  // per rank: how many it has made
  std::map<int, Round> rounds_;
  std::size_t heap_top_ = 0;
  Barrier host_barrier_, rank_barrier_;
  std::atomic<bool> stopped_{false};
  std::string stop_message_;

  std::thread watchdog_;
  std::condition_variable watchdog_cv_;
  bool watchdog_quit_ = false;
};

// The rank the calling thread runs as: set on the threads of World::run (and on the block threads
// of a kernel they launch). Outside a world: rank 0 of 1, with no heap.
struct RankView {
  World* world = nullptr;
  int rank = 0;
  int size() const { return world ? world->size() : 1; }
  // The address on rank `pe` of the `bytes` bytes at `local` on this rank; `pe` == -1 or the own
  // rank gives `local` itself. RuntimeError, naming `what` and `where`, when pe is not a rank of
  // the world or the bytes are not in this rank's symmetric heap.
  std::byte* translate(std::byte* local, std::int64_t bytes, std::int64_t pe, const std::string& what,
                       const std::string& where) const;
};
RankView current_rank();

// Sets the calling thread's rank (and participant) for the life of the object.
class RankScope {
 public:
  RankScope(RankView rank, Participant* participant);
  ~RankScope();
  RankScope(const RankScope&) = delete;
  RankScope& operator=(const RankScope&) = delete;

 private:
  RankView saved_rank_;
  Participant* saved_participant_;
};
Participant* current_participant();  // null outside World::run

// TILESCALE_WAIT_TIMEOUT_MS as a number (0 when unset or invalid).
std::int64_t wait_timeout_from_environment();

}  // namespace tilescale::sim
