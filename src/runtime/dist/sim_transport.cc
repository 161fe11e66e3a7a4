// The sim transport behind World::sim: the CPU backend's simulation (sim.h), all ranks here.
#include "runtime/dist/transport.h"

#include <cstring>
#include <numeric>

#include "runtime/dist/sim.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

class SimTransport final : public Transport {
 public:
  explicit SimTransport(const sim::Options& options) : world_(options) {}

  const char* name() const override { return "sim"; }
  Target target() const override { return Target::CPU; }
  int size() const override { return world_.size(); }
  std::vector<int> local_ranks() const override {
    std::vector<int> ranks(static_cast<size_t>(world_.size()));
    std::iota(ranks.begin(), ranks.end(), 0);
    return ranks;
  }
  void run(const std::function<void(int)>& fn) override { world_.run(fn); }

  void* allocate(int rank, std::size_t bytes, const std::string& what, bool zero) override {
    std::byte* p = world_.heap(rank) + world_.allocate(self(), bytes, what);
    if (zero) std::memset(p, 0, bytes);
    return p;
  }
  void* peer(int rank, const void* local, std::size_t, int pe, const std::string& what) const override {
    const auto* p = static_cast<const std::byte*>(local);
    const std::byte* base = world_.heap(rank);
    if (p < base || p >= base + world_.heap_bytes())
      throw RuntimeError(cat("cannot view ", what, " on rank ", pe, " because it is not in rank ", rank,
                             "'s symmetric heap; allocate it with rank.heap().empty/zeros"));
    return world_.heap(pe) + (p - base);
  }
  void barrier(int) override { world_.host_barrier(self()); }
  Device device(int) const override { return Device::cpu(); }
  void* stream(int) const override { return nullptr; }
  std::size_t heap_bytes() const override { return world_.heap_bytes(); }
  std::size_t heap_used(int) const override { return world_.heap_used(); }

 private:
  static sim::Participant& self() {
    sim::Participant* p = sim::current_participant();
    TS_ICHECK(p, "a rank-level call of the sim transport outside World::run");
    return *p;
  }
  mutable sim::World world_;
};

}  // namespace

std::shared_ptr<Transport> make_sim_transport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms) {
  return std::make_shared<SimTransport>(sim::Options{ranks, heap_bytes, wait_timeout_ms});
}

}  // namespace tilescale::dist
