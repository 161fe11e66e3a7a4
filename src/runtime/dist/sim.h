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
// Participants. Every thread that can wait or change simulated memory is a Participant, in one
// of four states (guarded by the world's lock):
//   Running  may do anything, memory writes included. A block of a kernel is Running from the
//            moment its kernel launches it, before its thread has started.
//   Waiting  inside Participant::wait: it only reads memory, to evaluate its condition.
//   Joining  a rank's host code waiting for the blocks of its kernel, which are participants from
//            the launch on; the last of them to end sets it Running in the same step.
//   Done     a rank's host code that has returned.
//
// Deadlock. The watchdog, a thread that runs while World::run does, examines the participants
// every few milliseconds, all at one instant: it holds the world's lock and excludes every wait
// from evaluating its condition (a wait evaluates under a shared lock and, when its condition
// holds, becomes Running before it lets go). When at that instant no participant is Running, at
// least one is Waiting and no Waiting participant's condition holds, the run is deadlocked for
// certain: a Waiting one only reads, a Joining one waits for its blocks, a Done one has ended, so
// nothing will ever write memory again and no condition can come to hold. One such observation
// stops the run with a report naming each waiter (rank, block, thread, address, expected and
// observed value), and every wait throws it as a RuntimeError, on every rank. No time and no
// count of checks enters the rule: a slow machine delays a report, it never causes one.
//
// Spin loops. A thread spinning in a hand-written loop over T::ld instead of a wait is Running
// (it might leave the loop by itself, after counting its spins say, and the simulator cannot tell),
// so it keeps the watchdog from reporting. Every load reports what it found (Participant::load):
// a chain of loads that keep finding the same values at the same few places counts as polling,
// and polling for longer than the per-wait budget stops the run with a report naming the load
// (rank, block, thread, address, observed value). Every load also throws once the run has
// stopped, so a spin loop ends with the run when another rank fails.
//
// Per-wait budget (Options::wait_timeout_ms, TILESCALE_WAIT_TIMEOUT_MS): a wait, or polling as
// above, that lasts longer stops the run with a RuntimeError naming it, on every rank.
//
// Symmetric allocation is collective: the k-th allocation of every rank waits for the k-th
// allocation of the others, then all compare what they asked for; a difference in shape or dtype
// (or a different order of allocations) raises the same RuntimeError on every rank.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace tilescale::sim {

class World;

// Budgets longer than this many milliseconds (about 292 years) are this one: its nanoseconds are
// the most a std::int64_t holds.
inline constexpr std::int64_t kMaxWaitTimeoutMs = INT64_MAX / 1000000;

// A thread of the simulation that may wait: a rank's host code, or one block of a kernel.
class Participant {
 public:
  enum class State { Running, Waiting, Joining, Done };
  // Running, as a block launched by `parent` or (null) as a rank's host code.
  Participant(World& world, int rank, std::string name, Participant* parent);

  // Returns once `satisfied()` holds. Meanwhile the watchdog sees this participant waiting on
  // `describe()` ("T::wait_eq on flag[0] ... expected 1, observed 0"; called with the value seen
  // now). RuntimeError when the run stops (a deadlock, a failure elsewhere) or the wait outlasts
  // the per-wait budget.
  void wait(const std::function<bool()>& satisfied, const std::function<std::string()>& describe);
  // One load by this participant: `bytes` (at most 16) at `address`, found holding `value`. Loads
  // that keep finding the same values at the same places (at most kPolledPlaces of them, with no
  // wait in between) are polling; when that lasts longer than the per-wait budget, the run stops
  // with a RuntimeError naming this load as `describe()` gives it ("T::ld of flag[0] on rank 1
  // (address 0x...) in kernel k, rank 0, block (0, 0, 0), thread 0: observed 0"). RuntimeError
  // too when the run has stopped.
  template <class Describe>
  void load(const std::byte* address, int bytes, const void* value, const Describe& describe) {
    if (polled_too_long(address, bytes, value))
      time_out("spin loop over T::ld", describe(), "the values it keeps loading did not change in time");
  }
  // RuntimeError when the run has stopped.
  void check_stopped() const;

  World& world() const { return world_; }
  int rank() const { return rank_; }
  const std::string& name() const { return name_; }  // "rank 0, block (1, 0, 0)" or "rank 0 host code"

  static constexpr int kPolledPlaces = 8;

 private:
  friend class World;
  using Clock = std::chrono::steady_clock;
  struct Polled {
    const std::byte* address;
    int bytes;
    std::array<std::byte, 16> value;
  };
  bool polled_too_long(const std::byte* address, int bytes, const void* value);
  [[noreturn]] void time_out(const std::string& kind, const std::string& what, const std::string& why);

  World& world_;
  const int rank_;
  const std::string name_;
  Participant* const parent_;  // the host code that launched this block; null for host code
  // Guarded by the world's mutex.
  State state_ = State::Running;
  int blocks_ = 0;  // Joining: the blocks not yet ended
  const std::function<bool()>* satisfied_ = nullptr;
  const std::function<std::string()>* describe_ = nullptr;
  // Polling (touched by this participant's own thread only): the places of the current chain of
  // loads, how many loads it has, and when its time began to count.
  std::vector<Polled> polled_;
  std::int64_t polls_ = 0;
  Clock::time_point polling_since_;
};

struct Options {
  int ranks = 1;
  std::size_t heap_bytes = std::size_t(256) << 20;  // per rank
  std::int64_t wait_timeout_ms = 0;                // 0: no per-wait budget; at least 0
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

  // The blocks of a kernel that `host` (a rank's host code) launches: one Running participant per
  // name, and `host` Joining them, in one step, so that a block whose thread has not started yet
  // is never mistaken for a stuck one. Each block calls leave() when it ends; the last one to
  // leave sets `host` Running again in the same step.
  std::vector<std::shared_ptr<Participant>> launch(Participant& host, const std::vector<std::string>& names);
  void leave(const std::shared_ptr<Participant>& block);

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
  // Whether the run is deadlocked (see above), and the report; with examine_mu_ and mu_ held.
  bool deadlocked() const;
  std::string deadlock_report() const;
  void barrier_wait(Barrier& b, Participant& self, const std::string& what, const std::string& where);
  // At the start of a run, with mu_ held: what a failed run left half done (barrier arrivals, an
  // allocation some ranks made and others never reached) is forgotten; finished allocations stay.
  void forget_unfinished_collectives();

  const Options options_;
  const std::chrono::nanoseconds wait_budget_;  // 0: none
  std::vector<std::unique_ptr<std::byte[]>> heaps_;

  // Waits evaluate their conditions holding it shared, the watchdog examines holding it alone;
  // taken before mu_ when both are.
  std::shared_mutex examine_mu_;
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

// TILESCALE_WAIT_TIMEOUT_MS: 0 when unset or empty, else its digits as milliseconds (at most
// kMaxWaitTimeoutMs). RuntimeError naming the variable and its value when it is anything but
// digits ("junk", "100ms", "-5", " 5").
std::int64_t wait_timeout_from_environment();

}  // namespace tilescale::sim
