// The sim transport (World::sim): N ranks simulated in this process by the CPU backend (sim.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "runtime/dist/transport.h"

namespace tilescale::dist {

// `ranks` ranks with `heap_bytes`-byte heaps and a per-wait budget (0: none), all checked by the caller.
std::shared_ptr<Transport> make_sim_transport(int ranks, std::size_t heap_bytes, std::int64_t wait_timeout_ms);

}  // namespace tilescale::dist
