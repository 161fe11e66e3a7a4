#include "runtime/dist/sim.h"

#include "runtime/dist/symmetric_allocation.h"

#include <algorithm>
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

constexpr auto kWatchdogPeriod = std::chrono::milliseconds(10);
constexpr std::int64_t kPollsPerClockRead = 64;  // polling reads the clock once per this many loads

std::string rank_list(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out;
}

}  // namespace

std::int64_t wait_timeout_from_environment() {
  const char* v = std::getenv("TILESCALE_WAIT_TIMEOUT_MS");
  if (!v || !*v) return 0;
  std::int64_t ms = 0;
  for (const char* c = v; *c; ++c) {
    if (*c < '0' || *c > '9')
      throw RuntimeError(cat("cannot use TILESCALE_WAIT_TIMEOUT_MS=\"", v, "\" because it is not a whole number of ",
                             "milliseconds (digits only); set it to the per-wait budget in milliseconds, such as 2000, ",
                             "or to 0 or nothing for none"));
    ms = std::min(kMaxWaitTimeoutMs, ms * 10 + (*c - '0'));  // ms * 10 + 9 cannot overflow from at most the maximum
  }
  return ms;
}

// ------------------------------------------------------------------------------------------------
// Participant

Participant::Participant(World& world, int rank, std::string name, Participant* parent)
    : world_(world), rank_(rank), name_(std::move(name)), parent_(parent) {}

void Participant::check_stopped() const {
  if (world_.stopped()) throw RuntimeError(world_.stop_message());
}

void Participant::time_out(const std::string& kind, const std::string& what, const std::string& why) {
  const std::string message = cat("a ", kind, " ran out of its time budget of ", world_.wait_timeout_ms(),
                                  " ms (per-wait timeout, TILESCALE_WAIT_TIMEOUT_MS or ",
                                  "dist::WorldOptions::wait_timeout_ms): ", name_, ": ", what, "; ", why);
  world_.stop(message);
  throw RuntimeError(message);
}

void Participant::wait(const std::function<bool()>& satisfied, const std::function<std::string()>& describe) {
  polled_.clear();  // a wait ends a chain of polling loads
  if (satisfied()) return;
  check_stopped();
  {
    std::lock_guard<std::mutex> lock(world_.mu_);
    state_ = State::Waiting;
    satisfied_ = &satisfied;
    describe_ = &describe;
  }
  // The condition is evaluated holding examine_mu_ shared, and a wait that sees it hold becomes
  // Running (Leave, destroyed before `examined`) before letting go: the watchdog, which examines
  // holding examine_mu_ alone, never sees a participant halfway out of its wait.
  std::shared_lock<std::shared_mutex> examined(world_.examine_mu_, std::defer_lock);
  struct Leave {
    Participant& p;
    ~Leave() {
      std::lock_guard<std::mutex> lock(p.world_.mu_);
      p.state_ = State::Running;
      p.satisfied_ = nullptr;
      p.describe_ = nullptr;
    }
  } leave{*this};
  const auto start = Clock::now();
  auto pause = std::chrono::microseconds(20);
  examined.lock();
  for (int spins = 0; !satisfied(); ++spins) {
    examined.unlock();
    check_stopped();
    if (world_.wait_budget_.count() > 0 && Clock::now() - start > world_.wait_budget_) {
      std::string what;
      {
        std::lock_guard<std::mutex> lock(world_.mu_);
        what = describe();
      }
      time_out("wait", what, "the value it waits for did not arrive in time");
    }
    // Spin briefly (the writer is often about to run), then sleep with a growing pause so that on
    // few cores the threads that will satisfy the wait get to run.
    if (spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
    examined.lock();
  }
}

bool Participant::polled_too_long(const std::byte* address, int bytes, const void* value) {
  check_stopped();
  if (world_.wait_budget_.count() == 0) return false;
  const auto same = std::find_if(polled_.begin(), polled_.end(),
                                 [&](const Polled& p) { return p.address == address && p.bytes == bytes; });
  const bool known = same != polled_.end();
  const bool unchanged = known ? std::memcmp(same->value.data(), value, bytes) == 0 : polled_.size() < kPolledPlaces;
  if (!unchanged) {
    polled_.clear();
    polls_ = 0;
  }
  if (!known || !unchanged) {
    Polled p{address, bytes, {}};
    std::memcpy(p.value.data(), value, bytes);
    polled_.push_back(p);
  }
  if (++polls_ % kPollsPerClockRead != 0) return false;
  const auto now = Clock::now();
  if (polls_ == kPollsPerClockRead) polling_since_ = now;
  return now - polling_since_ > world_.wait_budget_;
}

// ------------------------------------------------------------------------------------------------
// World

namespace {
std::chrono::nanoseconds budget_of(std::int64_t ms) {
  TS_ICHECK(ms >= 0, "a per-wait budget of ", ms, " ms");
  return std::chrono::milliseconds(std::min(ms, kMaxWaitTimeoutMs));
}
}  // namespace

World::World(const Options& options) : options_(options), wait_budget_(budget_of(options.wait_timeout_ms)) {
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

std::vector<std::shared_ptr<Participant>> World::launch(Participant& host, const std::vector<std::string>& names) {
  TS_ICHECK(!names.empty(), "a launch of no blocks");
  std::vector<std::shared_ptr<Participant>> blocks;
  for (const auto& name : names) blocks.push_back(std::make_shared<Participant>(*this, host.rank(), name, &host));
  std::lock_guard<std::mutex> lock(mu_);
  participants_.insert(participants_.end(), blocks.begin(), blocks.end());
  host.state_ = Participant::State::Joining;
  host.blocks_ = static_cast<int>(blocks.size());
  return blocks;
}

void World::leave(const std::shared_ptr<Participant>& block) {
  std::lock_guard<std::mutex> lock(mu_);
  participants_.erase(std::find(participants_.begin(), participants_.end(), block));
  if (--block->parent_->blocks_ == 0) block->parent_->state_ = Participant::State::Running;
}

void World::run(const std::function<void(int rank)>& fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    TS_ICHECK(!watchdog_.joinable(), "World::run called while the world is already running");
    stopped_.store(false);
    stop_message_.clear();
    watchdog_quit_ = false;
    forget_unfinished_collectives();
  }
  watchdog_ = std::thread([this] { watchdog(); });

  std::mutex error_mu;
  std::exception_ptr first_error;
  std::vector<std::shared_ptr<Participant>> hosts;
  for (int r = 0; r < size(); ++r) hosts.push_back(std::make_shared<Participant>(*this, r, cat("rank ", r, " host code"), nullptr));
  {
    std::lock_guard<std::mutex> lock(mu_);
    participants_ = hosts;
  }
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
      std::lock_guard<std::mutex> lock(mu_);
      hosts[r]->state_ = Participant::State::Done;
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
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (watchdog_cv_.wait_for(lock, kWatchdogPeriod, [this] { return watchdog_quit_; })) return;
    }
    std::unique_lock<std::shared_mutex> examining(examine_mu_);
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_.load(std::memory_order_relaxed) && deadlocked()) {
      stop_message_ = deadlock_report();
      stopped_.store(true, std::memory_order_release);
    }
  }
}

bool World::deadlocked() const {
  bool waiting = false;
  for (const auto& p : participants_) {
    switch (p->state_) {
      case Participant::State::Running: return false;
      case Participant::State::Waiting:
        if ((*p->satisfied_)()) return false;
        waiting = true;
        break;
      case Participant::State::Joining:  // its blocks are participants too (launch)
      case Participant::State::Done: break;
    }
  }
  return waiting;
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
      std::vector<dist::AllocationRequest> requests;
      for (const auto& r : round->requests) requests.push_back({r->first, r->second});
      const dist::AllocationDecision decision = dist::decide_allocation(k, requests, heap_top_, options_.heap_bytes);
      round->error = decision.error;
      if (decision.error.empty()) {
        round->offset = decision.offset;
        heap_top_ = decision.offset + bytes;
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

void World::forget_unfinished_collectives() {
  for (Barrier* b : {&host_barrier_, &rank_barrier_}) {
    b->count = 0;
    b->arrived.assign(size(), false);
    b->where.assign(size(), "");
  }
  for (auto it = rounds_.begin(); it != rounds_.end();)
    it = it->second.decided.load() ? std::next(it) : rounds_.erase(it);
  allocations_.assign(size(), static_cast<int>(rounds_.size()));
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
