#include "runtime/dist/gpu_transport.h"

#include <exception>
#include <thread>

#include "runtime/cuda/driver.h"
#include "runtime/dist/symmetric_allocation.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

thread_local const LaunchRank* current = nullptr;

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An allocation request as it travels between ranks: "<bytes> <what>".
Bytes encode(std::size_t bytes, const std::string& what) { return to_bytes(cat(bytes, " ", what)); }
AllocationRequest decode(const Bytes& b) {
  const std::string s(b.begin(), b.end());
  const std::size_t space = s.find(' ');
  TS_ICHECK(space != std::string::npos, "malformed allocation request '", s, "'");
  return {static_cast<std::size_t>(std::stoull(s.substr(0, space))), s.substr(space + 1)};
}

}  // namespace

const LaunchRank* current_launch_rank() { return current; }

GpuTransport::GpuTransport(int size, std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::unique_ptr<Collective> collective)
    : size_(size), heap_bytes_(heap_bytes), wait_timeout_ms_(wait_timeout_ms), collective_(std::move(collective)) {}

GpuTransport::~GpuTransport() {
  for (auto& r : ranks_)
    if (r->launch.stream) cuda::driver().StreamDestroy(r->launch.stream);
}

void GpuTransport::add_local_rank(int rank, int device, int ranks_sharing_device) {
  auto r = std::make_unique<RankState>();
  r->launch.rank = rank;
  r->launch.device = device;
  r->launch.ranks_sharing_device = ranks_sharing_device;
  r->launch.target = target();
  cuda::set_current_device(device);
  // Non-blocking: the legacy default stream (synchronous copies) must not wait for a kernel that
  // spins until another rank's kernel, launched later, arrives.
  cuda::check(cuda::driver().StreamCreate(&r->launch.stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  r->control = cuda::WaitControl::create(rank);
  cuda::DistContext& c = r->launch.context;
  c.rank = rank;
  c.num_ranks = size_;
  c.wait_budget_ns = cuda::wait_budget_ns(wait_timeout_ms_);
  c.control = r->control->device_pointer();
  ranks_.push_back(std::move(r));
}

void GpuTransport::set_bases(const std::vector<std::byte*>& bases) {
  TS_ICHECK(static_cast<int>(bases.size()) == size_, "set_bases with ", bases.size(), " bases for ", size_, " ranks");
  bases_ = bases;
  for (auto& r : ranks_)
    for (int p = 0; p < size_; ++p) r->launch.context.base[p] = reinterpret_cast<std::uintptr_t>(bases[p]);
}

GpuTransport::RankState& GpuTransport::state(int rank) {
  for (auto& r : ranks_)
    if (r->launch.rank == rank) return *r;
  throw InternalError(cat("rank ", rank, " is not driven by this process"));
}
const GpuTransport::RankState& GpuTransport::state(int rank) const { return const_cast<GpuTransport*>(this)->state(rank); }

std::vector<int> GpuTransport::local_ranks() const {
  std::vector<int> out;
  for (const auto& r : ranks_) out.push_back(r->launch.rank);
  return out;
}

void GpuTransport::stop_all(const std::string& why) {
  failed_ = true;
  collective_->stop(why);
  for (auto& r : ranks_) r->control->request_stop();
}

void GpuTransport::run(const std::function<void(int)>& fn) {
  std::mutex mu;
  std::exception_ptr first;
  std::vector<std::thread> threads;
  for (auto& r : ranks_) {
    threads.emplace_back([&, state = r.get()] {
      try {
        cuda::set_current_device(state->launch.device);
        current = &state->launch;
        struct Reset {
          ~Reset() { current = nullptr; }
        } reset;
        fn(state->launch.rank);
      } catch (...) {
        std::string why = cat("rank ", state->launch.rank, " failed");
        try {
          throw;
        } catch (const std::exception& e) {
          why += cat(": ", e.what());
        } catch (...) {
        }
        std::lock_guard<std::mutex> lock(mu);
        if (!first) {
          first = std::current_exception();
          stop_all(why);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

void* GpuTransport::allocate(int rank, std::size_t bytes, const std::string& what, bool zero) {
  RankState& r = state(rank);
  const int k = r.allocations++;
  std::vector<AllocationRequest> requests;
  for (const Bytes& b : collective_->all_gather(rank, cat("alloc#", k), encode(bytes, what))) requests.push_back(decode(b));
  const AllocationDecision decision = decide_allocation(k, requests, r.used, heap_bytes_);
  if (!decision.error.empty()) throw RuntimeError(decision.error);
  r.used = decision.offset + bytes;
  std::byte* p = bases_[rank] + kReservedHeapBytes + decision.offset;
  if (zero && bytes > 0) {
    cuda::set_current_device(r.launch.device);
    const CUdeviceptr d = reinterpret_cast<std::uintptr_t>(p);
    cuda::check(cuda::driver().MemsetD8Async(d, 0, bytes, r.launch.stream), "cuMemsetD8Async (a symmetric allocation)");
    cuda::check(cuda::driver().StreamSynchronize(r.launch.stream), "cuStreamSynchronize (a symmetric allocation)");
  }
  return p;
}

void* GpuTransport::peer(int rank, const void* local, std::size_t bytes, int pe, const std::string& what) const {
  const auto* p = static_cast<const std::byte*>(local);
  const std::byte* base = bases_[rank] + kReservedHeapBytes;
  if (p < base || p + bytes > base + heap_bytes_)
    throw RuntimeError(cat("cannot view ", what, " on rank ", pe, " because it is not in rank ", rank,
                           "'s symmetric heap; allocate it with rank.heap().empty/zeros"));
  return bases_[pe] + kReservedHeapBytes + (p - base);
}

void GpuTransport::barrier(int rank) {
  const RankState& r = state(rank);
  cuda::set_current_device(r.launch.device);
  cuda::check(cuda::driver().StreamSynchronize(r.launch.stream), cat("cuStreamSynchronize (rank ", rank, "'s barrier)"));
  collective_->barrier(rank);
}

Device GpuTransport::device(int rank) const { return Device::cuda(state(rank).launch.device); }
void* GpuTransport::stream(int rank) const { return state(rank).launch.stream; }
std::size_t GpuTransport::heap_used(int rank) const { return state(rank).used; }

}  // namespace tilescale::dist
