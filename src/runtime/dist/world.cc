// tilescale::dist (include/tilescale/dist.h) over the sim transport.
#include <cstring>
#include <mutex>
#include <set>

#include "runtime/dist/sim.h"
#include "support/checked.h"
#include "tilescale/dist.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

std::string describe(const std::vector<std::int64_t>& shape, DataType dtype) {
  std::string out = cat(name(dtype), "[");
  for (size_t i = 0; i < shape.size(); ++i) out += cat(i ? ", " : "", shape[i]);
  return out + "]";
}

}  // namespace

Tensor SymmetricHeap::empty(std::vector<std::int64_t> shape, DataType dtype) const {
  for (auto d : shape)
    if (d < 0)
      throw RuntimeError(cat("cannot allocate ", describe(shape, dtype), " in the symmetric heap because dimensions are 0 "
                             "or more"));
  const auto bytes_needed = checked_product(shape, bytes(dtype));
  if (!bytes_needed)
    throw RuntimeError(cat("cannot allocate ", describe(shape, dtype), " in the symmetric heap because its size in bytes "
                           "exceeds 2^63-1; use smaller extents"));
  const std::size_t offset = world_->allocate(*self_, static_cast<std::size_t>(*bytes_needed), describe(shape, dtype));
  return Tensor::wrap(world_->heap(rank_) + offset, std::move(shape), dtype);
}

Tensor SymmetricHeap::zeros(std::vector<std::int64_t> shape, DataType dtype) const {
  Tensor t = empty(std::move(shape), dtype);
  std::memset(t.data(), 0, static_cast<std::size_t>(t.numel()) * static_cast<std::size_t>(bytes(dtype)));
  return t;
}

Tensor SymmetricHeap::peer(const Tensor& local, int pe) const {
  if (pe < 0 || pe >= world_->size())
    throw RuntimeError(cat("cannot view ", local.describe(), " on rank ", pe, " because the world has ranks 0 to ",
                           world_->size() - 1));
  const auto* p = static_cast<const std::byte*>(local.data());
  const std::byte* base = world_->heap(rank_);
  if (p < base || p >= base + world_->heap_bytes())
    throw RuntimeError(cat("cannot view ", local.describe(), " on rank ", pe, " because it is not in rank ", rank_,
                           "'s symmetric heap; allocate it with rank.heap().empty/zeros"));
  return Tensor::wrap(world_->heap(pe) + (p - base), local.shape(), local.dtype(), local.strides());
}

std::size_t SymmetricHeap::capacity() const { return world_->heap_bytes(); }
std::size_t SymmetricHeap::used() const { return world_->heap_used(); }

int Rank::size() const { return world_->size(); }
void Rank::barrier() const { world_->host_barrier(*self_); }

World World::sim(int ranks, const WorldOptions& options) {
  if (ranks < 1 || ranks > kMaxRanks)
    throw RuntimeError(cat("cannot create a world of ", ranks, " ranks; tilescale runs 1 to ", kMaxRanks, " ranks"));
  if (options.wait_timeout_ms < -1)
    throw RuntimeError(cat("cannot create a world with wait_timeout_ms = ", options.wait_timeout_ms, " because the ",
                           "per-wait budget is a number of milliseconds, 0 for none or -1 for TILESCALE_WAIT_TIMEOUT_MS; ",
                           "use one of those"));
  const std::int64_t timeout = options.wait_timeout_ms == -1 ? sim::wait_timeout_from_environment() : options.wait_timeout_ms;
  try {
    return World(std::make_shared<sim::World>(sim::Options{ranks, options.heap_bytes, timeout}));
  } catch (...) {
    detail::rethrow_as_error(cat("create a sim world of ", ranks, " ranks with ", options.heap_bytes, "-byte heaps"));
  }
}

int World::size() const { return impl_->size(); }

void World::run(const std::function<void(Rank&)>& fn) const {
  if (sim::current_participant())
    throw RuntimeError("cannot call World::run from inside World::run (from a rank's code) because runs do not nest: "
                       "the calling rank would stop taking part in its own world's barriers and allocations; call it "
                       "after the outer run returns");
  static std::mutex mu;
  static std::set<const sim::World*> running;
  sim::World* w = impl_.get();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!running.insert(w).second)
      throw RuntimeError("cannot run a World while another thread runs it; wait for that World::run to return");
  }
  struct Done {
    sim::World* w;
    ~Done() {
      std::lock_guard<std::mutex> lock(mu);
      running.erase(w);
    }
  } done{w};
  w->run([&](int r) {
    Rank rank(w, r, sim::current_participant());
    try {
      fn(rank);
    } catch (const std::exception&) {
      throw;
    } catch (...) {
      throw RuntimeError(cat("rank ", r, " threw an exception that is not a std::exception, so the run stopped; throw "
                             "types derived from std::exception from rank code"));
    }
  });
}

}  // namespace tilescale::dist
