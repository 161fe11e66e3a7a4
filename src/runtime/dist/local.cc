// The local transport (World::local): every rank a thread of this process, rank r on visible
// device r % devices, each rank's heap a VMM allocation on its device mapped once in this process
// and accessible from every device of the world.
#include <set>

#include "runtime/cuda/driver.h"
#include "runtime/cuda/shared_memory.h"
#include "runtime/dist/gpu_transport.h"
#include "runtime/dist/in_process_collective.h"
#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;

namespace {

class LocalTransport final : public GpuTransport {
 public:
  LocalTransport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms)
      : GpuTransport(ranks, heap_bytes, wait_timeout_ms, std::make_unique<InProcessCollective>(ranks)) {
    const int devices = cuda::driver().device_count;
    std::vector<int> sharing(static_cast<size_t>(devices), 0);
    std::set<int> used;
    for (int r = 0; r < ranks; ++r) ++sharing[r % devices], used.insert(r % devices);
    const std::vector<int> access(used.begin(), used.end());
    std::vector<std::byte*> bases;
    for (int r = 0; r < ranks; ++r) {
      const int device = r % devices;
      add_local_rank(r, device, sharing[device]);
      heaps_.push_back(cuda::DeviceHeap::create(device, mapped_heap_bytes(), access, false));
      bases.push_back(heaps_.back()->base());
      cuda::check(cuda::driver().MemsetD8(reinterpret_cast<std::uintptr_t>(bases.back()), 0, kReservedHeapBytes),
                  "cuMemsetD8 (the reserved bytes of a symmetric heap)");
    }
    set_bases(bases);
  }
  const char* name() const override { return "local"; }

 private:
  std::vector<std::unique_ptr<cuda::DeviceHeap>> heaps_;
};

}  // namespace

std::shared_ptr<Transport> make_local_transport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms) {
  return std::make_shared<LocalTransport>(ranks, heap_bytes, wait_timeout_ms);
}

}  // namespace tilescale::dist
