#include "runtime/dist/sim.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tilescale/errors.h"

namespace tilescale::sim {

using tilescale::detail::cat;
using Clock = std::chrono::steady_clock;

namespace {

thread_local RankView current_rank_view;
thread_local Participant* current_participant_ptr = nullptr;

constexpr std::size_t kHeapAlignment = 256;  // every symmetric allocation starts on this boundary
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(10);
constexpr int kStuckChecks = 5;  // consecutive stuck checks before the run is declared deadlocked

std::string rank_list(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out;
}

}  // namespace

std::int64_t wait_timeout_from_environment() {
  const char* v = std::getenv("TILESCALE_WAIT_TIMEOUT_MS");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long long ms = std::strtoll(v, &end, 10);
  return *end == '\0' && ms > 0 ? ms : 0;
}

// ------------------------------------------------------------------------------------------------
// Participant

Participant::Participant(World& world, int rank, std::string name, State state)
    : world_(world), rank_(rank), name_(std::move(name)), state_(state) {}

void Participant::check_stopped() const {
  if (world_.stopped()) throw RuntimeError(world_.stop_message());
}

void Participant::wait(const std::function<bool()>& satisfied, const std::function<std::string()>& describe) {
  if (satisfied()) return;
  check_stopped();
  {
    std::lock_guard<std::mutex> lock(world_.mu_);
    state_ = State::Waiting;
    satisfied_ = &satisfied;
    describe_ = &describe;
  }
  struct Unregister {
    Participant& p;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(p.world_.mu_);
      p.state_ = State::Running;
      p.satisfied_ = nullptr;
      p.describe_ = nullptr;
    }
  } unregister{*this};
  const auto start = Clock::now();
  const std::int64_t timeout = world_.wait_timeout_ms();
  auto pause = std::chrono::microseconds(20);
  for (int spins = 0; !satisfied(); ++spins) {
    check_stopped();
    if (timeout > 0 && Clock::now() - start > std::chrono::milliseconds(timeout)) {
      std::string what;
      {
        std::lock_guard<std::mutex> lock(world_.mu_);
        what = describe();
      }
      const std::string message = cat("a wait ran out of its time budget of ", timeout, " ms (per-wait timeout, ",
                                      "TILESCALE_WAIT_TIMEOUT_MS or dist::WorldOptions::wait_timeout_ms): ", name_,
                                      ": ", what, "; the value it waits for did not arrive in time");
      world_.stop(message);
      throw RuntimeError(message);
    }
    // Spin briefly (the writer is often about to run), then sleep with a growing pause so that on
    // few cores the threads that will satisfy the wait get to run.
    if (spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
}

// ------------------------------------------------------------------------------------------------
// World

World::World(const Options& options) : options_(options) {
  TS_ICHECK(options.ranks >= 1, "a world of ", options.ranks, " ranks");
  for (int r = 0; r < options.ranks; ++r) heaps_.emplace_back(new std::byte[options.heap_bytes]);
  allocations_.assign(options.ranks, 0);
  for (Barrier* b : {&host_barrier_, &rank_barrier_}) {
    b->arrived.assign(options.ranks, false);
    b->where.assign(options.ranks, "");
  }
}

World::~World() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    watchdog_quit_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

std::size_t World::heap_used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heap_top_;
}

std::string World::stop_message() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_message_;
}

void World::stop(const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_.load(std::memory_order_relaxed)) return;
  stop_message_ = message;
  stopped_.store(true, std::memory_order_release);
}

std::shared_ptr<Participant> World::join(int rank, std::string name, Participant::State state) {
  auto p = std::make_shared<Participant>(*this, rank, std::move(name), state);
  std::lock_guard<std::mutex> lock(mu_);
  participants_.push_back(p);
  return p;
}

void World::leave(const std::shared_ptr<Participant>& p, Participant* wake) {
  std::lock_guard<std::mutex> lock(mu_);
  if (wake) wake->state_ = Participant::State::Running;
  for (size_t i = 0; i < participants_.size(); ++i)
    if (participants_[i] == p) {
      participants_.erase(participants_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
}

void World::set_state(Participant& p, Participant::State state) {
  std::lock_guard<std::mutex> lock(mu_);
  p.state_ = state;
}

void World::run(const std::function<void(int rank)>& fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    TS_ICHECK(!watchdog_.joinable(), "World::run called while the world is already running");
    stopped_.store(false);
    stop_message_.clear();
    watchdog_quit_ = false;
  }
  watchdog_ = std::thread([this] { watchdog(); });

  std::mutex error_mu;
  std::exception_ptr first_error;
  std::vector<std::shared_ptr<Participant>> hosts;
  for (int r = 0; r < size(); ++r) hosts.push_back(join(r, cat("rank ", r, " host code"), Participant::State::Running));
  std::vector<std::thread> threads;
  for (int r = 0; r < size(); ++r)
    threads.emplace_back([&, r] {
      RankScope scope(RankView{this, r}, hosts[r].get());
      try {
        fn(r);
      } catch (const std::exception& e) {
        {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!first_error) first_error = std::current_exception();
        }
        stop(cat("the run stopped because rank ", r, " failed: ", e.what()));
      }
      set_state(*hosts[r], Participant::State::Done);
    });
  for (auto& t : threads) t.join();

  {
    std::lock_guard<std::mutex> lock(mu_);
    watchdog_quit_ = true;
    participants_.clear();
  }
  watchdog_cv_.notify_all();
  watchdog_.join();
  watchdog_ = std::thread();
  if (first_error) std::rethrow_exception(first_error);
}

void World::watchdog() {
  std::unique_lock<std::mutex> lock(mu_);
  int stuck = 0;
  while (!watchdog_quit_) {
    watchdog_cv_.wait_for(lock, kWatchdogPeriod);
    if (watchdog_quit_) break;
    if (stopped_.load(std::memory_order_relaxed)) continue;
    // Only a running participant can change memory; when every one waits and no wait holds,
    // nothing can ever change again.
    bool any_waiting = false, all_stuck = true;
    for (const auto& p : participants_) {
      if (p->state_ == Participant::State::Running) all_stuck = false;
      if (p->state_ == Participant::State::Waiting) {
        any_waiting = true;
        if ((*p->satisfied_)()) all_stuck = false;
      }
      if (!all_stuck) break;
    }
    stuck = all_stuck && any_waiting ? stuck + 1 : 0;
    if (stuck >= kStuckChecks) {
      stop_message_ = deadlock_report();
      stopped_.store(true, std::memory_order_release);
    }
  }
}

std::string World::deadlock_report() const {
  std::string out = cat("deadlock: every thread of the simulated run (", size(), size() == 1 ? " rank" : " ranks",
                        ") is waiting and none of the waits can be satisfied, so the run was stopped instead of "
                        "hanging:");
  for (const auto& p : participants_) {
    if (p->state_ == Participant::State::Waiting) out += cat("\n  ", p->name_, ": ", (*p->describe_)());
    if (p->state_ == Participant::State::Done) out += cat("\n  ", p->name_, ": finished");
  }
  return out + "\ncheck that every wait's signal is sent (to the right rank, address and value) and that every rank "
               "reaches each barrier";
}

std::size_t World::allocate(Participant& self, std::size_t bytes, const std::string& what) {
  const int rank = self.rank();
  Round* round = nullptr;
  int k = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    k = allocations_[rank]++;
    round = &rounds_[k];
    if (round->requests.empty()) round->requests.resize(size());
    round->requests[rank] = std::make_pair(bytes, what);
    if (++round->arrived == size()) {
      const auto& first = *round->requests[0];
      bool same = true;
      for (const auto& r : round->requests) same &= r->first == first.first && r->second == first.second;
      if (!same) {
        std::string asked;
        for (int r = 0; r < size(); ++r)
          asked += cat(r ? ", " : "", "rank ", r, " asked for ", round->requests[r]->second, " (",
                       round->requests[r]->first, " bytes)");
        round->error = cat("cannot make symmetric allocation #", k, " because the ranks asked for different things: ",
                           asked, "; every rank must make the same allocations (shapes and dtypes) in the same order");
      } else {
        const std::size_t offset = (heap_top_ + kHeapAlignment - 1) / kHeapAlignment * kHeapAlignment;
        if (offset + bytes > options_.heap_bytes) {
          round->error = cat("cannot make symmetric allocation #", k, " of ", what, " (", bytes,
                             " bytes) because the symmetric heap holds ", options_.heap_bytes, " bytes per rank and ",
                             heap_top_, " are in use; raise dist::WorldOptions::heap_bytes");
        } else {
          round->offset = offset;
          heap_top_ = offset + bytes;
        }
      }
      round->decided.store(true, std::memory_order_release);
    }
  }
  const std::function<bool()> done = [round] { return round->decided.load(std::memory_order_acquire); };
  const std::function<std::string()> describe = [this, round, k, what] {
    std::vector<int> missing;
    for (int r = 0; r < size(); ++r)
      if (!round->requests[r]) missing.push_back(r);
    return cat("symmetric allocation #", k, " of ", what, ", waiting for rank", missing.size() == 1 ? " " : "s ",
               rank_list(missing), " to make theirs");
  };
  self.wait(done, describe);
  std::lock_guard<std::mutex> lock(mu_);
  if (!round->error.empty()) throw RuntimeError(round->error);
  return *round->offset;
}

void World::barrier_wait(Barrier& b, Participant& self, const std::string& what, const std::string& where) {
  const int rank = self.rank();
  std::int64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = b.generation.load(std::memory_order_relaxed);
    if (b.arrived[rank])
      throw RuntimeError(cat("cannot call ", what, " ", where, " because rank ", rank, " already called it ",
                             b.where[rank], " and the other ranks have not arrived yet; it takes one call per rank: "
                             "call it from one thread (T::If(tx == 0, ...)), one warp or one block"));
    b.arrived[rank] = true;
    b.where[rank] = where;
    if (++b.count == size()) {
      b.count = 0;
      b.arrived.assign(size(), false);
      b.generation.store(generation + 1, std::memory_order_release);
      return;
    }
  }
  const std::function<bool()> released = [&b, generation] {
    return b.generation.load(std::memory_order_acquire) != generation;
  };
  const std::function<std::string()> describe = [this, &b, what] {
    std::vector<int> missing;
    for (int r = 0; r < size(); ++r)
      if (!b.arrived[r]) missing.push_back(r);
    return cat(what, ", waiting for rank", missing.size() == 1 ? " " : "s ", rank_list(missing), " to arrive");
  };
  self.wait(released, describe);
}

void World::host_barrier(Participant& self) { barrier_wait(host_barrier_, self, "the host barrier", "in " + self.name()); }

void World::rank_barrier(Participant& self, const std::string& what, const std::string& where) {
  barrier_wait(rank_barrier_, self, what, where);
}

// ------------------------------------------------------------------------------------------------
// Ranks

std::byte* RankView::translate(std::byte* local, std::int64_t bytes, std::int64_t pe, const std::string& what,
                               const std::string& where) const {
  if (pe == -1 || pe == rank) return local;
  if (pe < 0 || pe >= size())
    throw RuntimeError(cat("cannot access ", what, " on rank ", pe, " ", where, " because the run has ", size(),
                           size() == 1 ? " rank" : " ranks", " (0 to ", size() - 1,
                           "); pass a rank in that range, or -1 for this rank"));
  std::byte* base = world->heap(rank);
  if (local < base || local + bytes > base + world->heap_bytes())
    throw RuntimeError(cat("cannot access ", what, " on rank ", pe, " ", where,
                           " because it is not in the symmetric heap, so it has no address on other ranks; allocate "
                           "it with the symmetric heap of tilescale::dist (rank.heap().empty/zeros) on every rank"));
  return world->heap(static_cast<int>(pe)) + (local - base);
}

RankView current_rank() { return current_rank_view; }
Participant* current_participant() { return current_participant_ptr; }

RankScope::RankScope(RankView rank, Participant* participant)
    : saved_rank_(current_rank_view), saved_participant_(current_participant_ptr) {
  current_rank_view = rank;
  current_participant_ptr = participant;
}

RankScope::~RankScope() {
  current_rank_view = saved_rank_;
  current_participant_ptr = saved_participant_;
}

}  // namespace tilescale::sim
