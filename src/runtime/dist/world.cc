// tilescale::dist (include/tilescale/dist.h): World, Rank and SymmetricHeap over a Transport.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "runtime/dist/sim.h"
#include "runtime/dist/transport.h"
#include "support/checked.h"
#include "tilescale/dist.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

const char* article(const std::string& transport) { return transport == "ipc" ? "an" : "a"; }

std::string describe(const std::vector<std::int64_t>& shape, DataType dtype) {
  std::string out = cat(name(dtype), "[");
  for (size_t i = 0; i < shape.size(); ++i) out += cat(i ? ", " : "", shape[i]);
  return out + "]";
}

}  // namespace

Tensor SymmetricHeap::empty(std::vector<std::int64_t> shape, DataType dtype) const { return allocate(std::move(shape), dtype, false); }
Tensor SymmetricHeap::zeros(std::vector<std::int64_t> shape, DataType dtype) const { return allocate(std::move(shape), dtype, true); }

Tensor SymmetricHeap::allocate(std::vector<std::int64_t> shape, DataType dtype, bool zero) const {
  for (auto d : shape)
    if (d < 0)
      throw RuntimeError(cat("cannot allocate ", describe(shape, dtype), " in the symmetric heap because dimensions are 0 "
                             "or more"));
  const auto bytes_needed = checked_product(shape, bytes(dtype));
  if (!bytes_needed)
    throw RuntimeError(cat("cannot allocate ", describe(shape, dtype), " in the symmetric heap because its size in bytes "
                           "exceeds 2^63-1; use smaller extents"));
  void* p = transport_->allocate(rank_, static_cast<std::size_t>(*bytes_needed), describe(shape, dtype), zero);
  return Tensor::wrap(p, std::move(shape), dtype, {}, transport_->device(rank_));
}

Tensor SymmetricHeap::peer(const Tensor& local, int pe) const {
  if (pe < 0 || pe >= transport_->size())
    throw RuntimeError(cat("cannot view ", local.describe(), " on rank ", pe, " because the world has ranks 0 to ",
                           transport_->size() - 1));
  const std::size_t span = static_cast<std::size_t>(local.numel()) * static_cast<std::size_t>(bytes(local.dtype()));
  void* p = transport_->peer(rank_, local.data(), span, pe, local.describe());
  return Tensor::wrap(p, local.shape(), local.dtype(), local.strides(), transport_->device(rank_));
}

std::size_t SymmetricHeap::capacity() const { return transport_->heap_bytes(); }
std::size_t SymmetricHeap::used() const { return transport_->heap_used(rank_); }

int Rank::size() const { return transport_->size(); }
Device Rank::device() const { return transport_->device(rank_); }
void* Rank::stream() const { return transport_->stream(rank_); }
void Rank::barrier() const { transport_->barrier(rank_); }

std::int64_t checked_wait_timeout(const WorldOptions& options, const char* transport) {
  if (options.wait_timeout_ms < -1)
    throw RuntimeError(cat("cannot create a ", transport, " world with wait_timeout_ms = ", options.wait_timeout_ms,
                           " because the per-wait budget is a number of milliseconds, 0 for none or -1 for "
                           "TILESCALE_WAIT_TIMEOUT_MS; use one of those"));
  return options.wait_timeout_ms == -1 ? sim::wait_timeout_from_environment() : options.wait_timeout_ms;
}

void check_heap_bytes(const WorldOptions& options, const char* transport) {
  if (options.heap_bytes > kMaxHeapBytes)
    throw RuntimeError(cat("cannot create ", article(transport), " ", transport, " world with ", options.heap_bytes, "-byte heaps because a "
                           "symmetric heap holds at most 2^52 bytes; use a smaller WorldOptions::heap_bytes"));
}

void check_rank_count(int ranks) {
  if (ranks < 1 || ranks > kMaxRanks)
    throw RuntimeError(cat("cannot create a world of ", ranks, " ranks; tilescale runs 1 to ", kMaxRanks, " ranks"));
}

World World::local(int ranks, const WorldOptions& options) {
  check_rank_count(ranks);
  const std::int64_t timeout = checked_wait_timeout(options, "local");
  check_heap_bytes(options, "local");
  try {
    return World(make_local_transport(ranks, options.heap_bytes, timeout));
  } catch (...) {
    detail::rethrow_as_error(cat("create a local world of ", ranks, " ranks with ", options.heap_bytes, "-byte heaps"));
  }
}

namespace {

// The ipc and nvshmem factories' checks and error context.
std::shared_ptr<Transport> one_process_per_rank(const WorldOptions& options, const char* transport,
                           std::shared_ptr<Transport> (*make)(std::size_t, std::int64_t, std::int64_t)) {
  const std::int64_t timeout = checked_wait_timeout(options, transport);
  check_heap_bytes(options, transport);
  if (options.setup_timeout_ms < 1)
    throw RuntimeError(cat("cannot create ", article(transport), " ", transport, " world with setup_timeout_ms = ",
                           options.setup_timeout_ms,
                           " because the ranks need time to meet; give it a positive number of milliseconds"));
  try {
    return make(options.heap_bytes, timeout, options.setup_timeout_ms);
  } catch (...) {
    detail::rethrow_as_error(cat("create ", article(transport), " ", transport, " world with ", options.heap_bytes, "-byte heaps"));
  }
}

}  // namespace

World World::from_env(const WorldOptions& options) {
  const char* chosen = std::getenv("TILESCALE_TRANSPORT");
  const std::string transport = chosen && *chosen ? chosen : "ipc";
  if (transport == "nvshmem") return nvshmem(options);
  if (transport != "ipc")
    throw RuntimeError(cat("cannot create a world from the environment with TILESCALE_TRANSPORT=", transport,
                           " because World::from_env makes ipc or nvshmem worlds; set it to ipc or nvshmem, or unset it"));
  return World(one_process_per_rank(options, "ipc", make_ipc_transport));
}

World World::nvshmem(const WorldOptions& options) {
  return World(one_process_per_rank(options, "nvshmem", make_nvshmem_transport));
}

World World::sim(int ranks, const WorldOptions& options) {
  check_rank_count(ranks);
  const std::int64_t timeout = checked_wait_timeout(options, "sim");
  check_heap_bytes(options, "sim");
  try {
    return World(make_sim_transport(ranks, options.heap_bytes, timeout));
  } catch (...) {
    detail::rethrow_as_error(cat("create a sim world of ", ranks, " ranks with ", options.heap_bytes, "-byte heaps"));
  }
}

int World::size() const { return impl_->size(); }
const char* World::transport() const { return impl_->name(); }
Target World::target() const { return impl_->target(); }
std::vector<int> World::local_ranks() const { return impl_->local_ranks(); }

namespace {
thread_local bool in_run = false;  // this thread runs a rank's code
}  // namespace

void World::run(const std::function<void(Rank&)>& fn) const {
  if (in_run || sim::current_participant())
    throw RuntimeError("cannot call World::run from inside World::run (from a rank's code) because runs do not nest: "
                       "the calling rank would stop taking part in its own world's barriers and allocations; call it "
                       "after the outer run returns");
  static std::mutex mu;
  static std::set<const Transport*> running;
  Transport* t = impl_.get();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!running.insert(t).second)
      throw RuntimeError("cannot run a World while another thread runs it; wait for that World::run to return");
  }
  struct Done {
    Transport* t;
    ~Done() {
      std::lock_guard<std::mutex> lock(mu);
      running.erase(t);
    }
  } done{t};
  t->run([&](int r) {
    in_run = true;
    struct Leave {
      ~Leave() { in_run = false; }
    } leave;
    Rank rank(t, r);
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
