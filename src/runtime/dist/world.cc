// tilescale::dist (include/tilescale/dist.h) over the sim transport.
#include <cstring>

#include "runtime/dist/sim.h"
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
  std::int64_t numel = 1;
  for (auto d : shape) {
    if (d < 0)
      throw RuntimeError(cat("cannot allocate ", describe(shape, dtype), " in the symmetric heap because dimensions are 0 "
                             "or more"));
    numel *= d;
  }
  const auto bytes_needed = static_cast<std::size_t>(numel) * static_cast<std::size_t>(bytes(dtype));
  const std::size_t offset = world_->allocate(*self_, bytes_needed, describe(shape, dtype));
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
  return World(std::make_shared<sim::World>(sim::Options{ranks, options.heap_bytes, timeout}));
}

int World::size() const { return impl_->size(); }

void World::run(const std::function<void(Rank&)>& fn) const {
  sim::World* w = impl_.get();
  w->run([&](int r) {
    Rank rank(w, r, sim::current_participant());
    fn(rank);
  });
}

}  // namespace tilescale::dist
