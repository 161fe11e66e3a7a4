// The ipc transport (World::from_env): this process is one rank; the ranks meet at the rendezvous
// of the launch environment (launch_env.h, rendezvous.h), and each maps every other rank's heap.
//
// Setup, in steps that every rank takes together (each an all_gather, so that an error on one rank
// is raised on every rank, naming it, instead of leaving the others waiting):
//   1. "setup":  the rank's device (LOCAL_RANK % devices), stream, wait control and heap: a VMM
//               allocation exported as a POSIX fd, served to the other ranks over a Unix socket
//               (fd_passing.h), or a legacy CUDA IPC arena whose handle travels in the message;
//   2. "mapped": every other rank's heap imported and mapped here, the reserved bytes zeroed.
#include <unistd.h>

#include <cstring>
#include <optional>

#include "runtime/cuda/driver.h"
#include "runtime/cuda/shared_memory.h"
#include "runtime/dist/fd_passing.h"
#include "runtime/dist/rendezvous_collective.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

CUipcMemHandle ipc_handle(const std::string& hex) {
  CUipcMemHandle h;
  from_hex(hex, &h, sizeof(h));
  return h;
}

class IpcTransport final : public GpuTransport {
 public:
  IpcTransport(const LaunchEnv& env, std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::int64_t setup_timeout_ms,
               std::unique_ptr<RendezvousCollective> rendezvous)
      : GpuTransport(env.world_size, heap_bytes, wait_timeout_ms, std::move(rendezvous)), rank_(env.rank) {
    const std::chrono::milliseconds timeout(setup_timeout_ms);
    const int n = env.world_size;
    // 1. This rank's device and heap.
    std::string status;
    std::optional<FdServer> server;
    int device = 0;
    try {
      device = env.local_rank % cuda::driver().device_count;
      add_local_rank(rank_, device, 1);
      mine_ = cuda::DeviceHeap::create(device, mapped_heap_bytes(), {device}, true);
      cuda::check(cuda::driver().MemsetD8(reinterpret_cast<std::uintptr_t>(mine_->base()), 0, kReservedHeapBytes),
                  "cuMemsetD8 (the reserved bytes of the symmetric heap)");
      if (mine_->kind() == cuda::DeviceHeap::Kind::Vmm) {
        const std::string socket = fd_socket_name(std::to_string(env.master_port), rank_, ::getpid());
        const UniqueFd fd(mine_->export_fd());
        if (n > 1) server.emplace(socket, fd.get(), n - 1, timeout);
        status = cat("ok ", heap_bytes, " vmm ", mine_->bytes(), " ", socket);
      } else {
        const CUipcMemHandle h = mine_->export_ipc_handle();
        status = cat("ok ", heap_bytes, " legacy ", mine_->bytes(), " ", to_hex(&h, sizeof(h)));
      }
    } catch (const std::exception& e) {
      status = error_status(e);
    }
    std::vector<std::string> heaps = agree(collective(), rank_, "ipc", "heaps", status);
    check_same_heap_bytes(heaps, heap_bytes, "ipc");
    // 2. Every other rank's heap, mapped here.
    std::vector<std::byte*> bases(static_cast<size_t>(n), nullptr);
    bases[rank_] = mine_->base();
    try {
      for (int p = 0; p < n; ++p) {
        if (p == rank_) continue;
        const std::string& h = heaps[p];
        const std::size_t a = h.find(' '), b = h.find(' ', a + 1);
        const std::string kind = h.substr(0, a), where = h.substr(b + 1);
        const std::size_t bytes = std::stoull(h.substr(a + 1, b - a - 1));
        if (kind == "vmm") {
          const UniqueFd fd = receive_fd(where, timeout);
          peers_.push_back(cuda::DeviceHeap::import_fd(fd.get(), bytes, {device}));
        } else {
          peers_.push_back(cuda::DeviceHeap::import_ipc(ipc_handle(where), device));
        }
        bases[p] = peers_.back()->base();
      }
      if (server) server->wait();
      status = "ok";
    } catch (const std::exception& e) {
      status = error_status(e);
    }
    agree(collective(), rank_, "ipc", "mapping every rank's heap", status);
    set_bases(bases);
  }
  const char* name() const override { return "ipc"; }

 private:
  int rank_;
  std::unique_ptr<cuda::DeviceHeap> mine_;
  std::vector<std::unique_ptr<cuda::DeviceHeap>> peers_;
};

}  // namespace

std::shared_ptr<Transport> make_ipc_transport(std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::int64_t setup_timeout_ms) {
  const LaunchEnv env = launch_env().value_or(LaunchEnv{});
  auto rdv = std::make_unique<Rendezvous>(env, std::chrono::milliseconds(setup_timeout_ms));
  return std::make_shared<IpcTransport>(env, heap_bytes, wait_timeout_ms, setup_timeout_ms,
                                        std::make_unique<RendezvousCollective>(std::move(rdv)));
}

}  // namespace tilescale::dist
