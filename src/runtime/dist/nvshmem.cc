// The nvshmem transport (World::nvshmem): this process is one PE of NVSHMEM, whose rank is its
// launcher's (launch_env.h). The ranks meet at the rendezvous, as under ipc, for NVSHMEM's unique id
// and for every collective step of tilescale's own.
//
// Setup, in steps every rank takes together (rendezvous_collective.h: an error on one rank is raised
// on every rank, naming it):
//   1. "device":       the rank's device (LOCAL_RANK % devices), stream and wait control; NVSHMEM's
//                      host library loaded and its environment set (nvshmem_environment.h); rank 0
//                      makes the unique id, which travels to every rank in its payload;
//   2. "NVSHMEM":      nvshmemx_hostlib_init_attr with that id (or NVSHMEM's own MPI/PMI bootstrap
//                      when NVSHMEM_BOOTSTRAP is set), PE = rank;
//   3. "heap":         the symmetric heap, one nvshmem_malloc of the reserved bytes plus heap_bytes
//                      (collective in NVSHMEM), its reserved bytes zeroed;
//   4. "peers":        every PE's copy of it, by nvshmem_ptr: the base table of the kernels'
//                      Context, so tilescale's own operators (put_block, ld/st, waits, barriers)
//                      reach peers by loads and stores. A PE that is not reachable that way (another
//                      node) is an error: tilescale's operators need load/store peers today.
// Kernels that call NVSHMEM (compiled for Target::NVSHMEM) get nvshmemx_cumodule_init when loaded
// (runtime/cuda/nvshmem_host.h). One nvshmem world per process at a time: NVSHMEM is per process.
#include <atomic>
#include <cstdlib>

#include "runtime/cuda/driver.h"
#include "runtime/cuda/nvshmem_host.h"
#include "runtime/dist/nvshmem_environment.h"
#include "runtime/dist/rendezvous_collective.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

std::atomic<bool> nvshmem_world_alive{false};

// This process's claim on NVSHMEM, released however the transport ends (also when setup throws).
struct ProcessClaim {
  bool held = false;
  ~ProcessClaim() {
    if (held) nvshmem_world_alive = false;
  }
};

class NvshmemTransport final : public GpuTransport {
 public:
  NvshmemTransport(const LaunchEnv& env, std::size_t heap_bytes, std::int64_t wait_timeout_ms,
                   std::unique_ptr<RendezvousCollective> rendezvous)
      : GpuTransport(env.world_size, heap_bytes, wait_timeout_ms, std::move(rendezvous)), rank_(env.rank) {
    const int n = env.world_size;
    const char* bootstrap = std::getenv("NVSHMEM_BOOTSTRAP");
    const bool own_bootstrap = bootstrap && *bootstrap;  // NVSHMEM's MPI/PMI bootstrap, asked for
    // 1. Device, library, environment, unique id.
    std::string status;
    try {
      if (nvshmem_world_alive.exchange(true))
        throw RuntimeError("this process is a PE of another nvshmem world already; NVSHMEM is one per process, so "
                           "destroy that World first");
      claim_.held = true;
      host_ = &cuda::nvshmem_host();
      add_local_rank(rank_, env.local_rank % cuda::driver().device_count, 1);
      for (const auto& [name, value] : nvshmem_environment(env, mapped_heap_bytes(), std::getenv))
        ::setenv(name.c_str(), value.c_str(), 1);
      status = cat("ok ", heap_bytes);
      if (rank_ == 0 && !own_bootstrap) {
        const cuda::NvshmemUniqueId id = host_->unique_id();
        status += " " + to_hex(id.data(), id.size());
      }
    } catch (const std::exception& e) {
      status = error_status(e);
    }
    std::vector<std::string> payloads = agree(collective(), rank_, "nvshmem", "device", status);
    check_same_heap_bytes(payloads, heap_bytes, "nvshmem");
    // 2. NVSHMEM, PE = rank.
    try {
      cuda::NvshmemUniqueId id{};
      if (!own_bootstrap) from_hex(payloads[0], id.data(), id.size());
      host_->init(rank_, n, own_bootstrap ? nullptr : &id);
      initialised_ = true;
      status = "ok";
    } catch (const std::exception& e) {
      status = error_status(e);
    }
    agree(collective(), rank_, "nvshmem", "NVSHMEM", status);
    // 3. The symmetric heap.
    try {
      heap_ = static_cast<std::byte*>(host_->malloc(mapped_heap_bytes(), "the symmetric heap"));
      cuda::check(cuda::driver().MemsetD8(reinterpret_cast<std::uintptr_t>(heap_), 0, kReservedHeapBytes),
                  "cuMemsetD8 (the reserved bytes of the symmetric heap)");
      status = "ok";
    } catch (const std::exception& e) {
      status = error_status(e);
    }
    agree(collective(), rank_, "nvshmem", "heap", status);
    // 4. Every PE's heap, by load and store.
    std::vector<std::byte*> bases(static_cast<std::size_t>(n), nullptr);
    status = "ok";
    for (int p = 0; p < n; ++p) {
      bases[p] = static_cast<std::byte*>(host_->peer_pointer(heap_, p));
      if (!bases[p]) {
        status = cat("error PE ", p, " is not reachable from PE ", rank_, " by loads and stores (nvshmem_ptr is null: "
                     "another node, or no peer access between their GPUs), and tilescale's nvshmem transport needs "
                     "every PE within reach today; run the ranks on GPUs of one node");
        break;
      }
    }
    agree(collective(), rank_, "nvshmem", "peers", status);
    set_bases(bases);
  }

  ~NvshmemTransport() override {
    // NVSHMEM's free and finalize are collective: after a failed run the other PEs may never come,
    // so the process leaves NVSHMEM as it is (its exit releases it) rather than hang here.
    if (initialised_ && !failed()) {
      cuda::set_current_device(device(rank_).index);
      if (heap_) host_->free(heap_);
      host_->finalize();
    }
  }

  const char* name() const override { return "nvshmem"; }
  Target target() const override { return Target::NVSHMEM; }

 private:
  ProcessClaim claim_;
  int rank_;
  bool initialised_ = false;
  const cuda::NvshmemHost* host_ = nullptr;
  std::byte* heap_ = nullptr;
};

}  // namespace

std::shared_ptr<Transport> make_nvshmem_transport(std::size_t heap_bytes, std::int64_t wait_timeout_ms,
                                                  std::int64_t setup_timeout_ms) {
  const LaunchEnv env = launch_env().value_or(LaunchEnv{});
  auto rdv = std::make_unique<Rendezvous>(env, std::chrono::milliseconds(setup_timeout_ms));
  return std::make_shared<NvshmemTransport>(env, heap_bytes, wait_timeout_ms,
                                            std::make_unique<RendezvousCollective>(std::move(rdv)));
}

}  // namespace tilescale::dist
