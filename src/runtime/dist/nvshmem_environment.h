// The NVSHMEM settings the nvshmem transport makes before it initialises NVSHMEM (which reads them
// from the environment), so that a program run on one node needs none of them set by hand:
//
//   NVSHMEM_DISABLE_NVLS=1                   always, whatever was set: NVLink multicast stays off
//   NVSHMEM_SYMMETRIC_SIZE=<heap + 128 MiB>  when unset: room for the world's symmetric heap and
//                                            NVSHMEM's own symmetric objects
//   NVSHMEM_REMOTE_TRANSPORT=none            when unset and every rank runs on this node
//   NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME=lo     when unset and every rank runs on this node: the
//                                            unique-id bootstrap talks over the loopback interface
// A value the user set (other than NVSHMEM_DISABLE_NVLS) is kept.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/dist/launch_env.h"

namespace tilescale::dist {

// NVSHMEM's own symmetric objects (team and barrier state) beyond the world's heap.
inline constexpr std::size_t kNvshmemOwnBytes = std::size_t(128) << 20;

// The variables to set, in the order above, for a world launched as `env` whose symmetric heap
// takes `heap_bytes` per rank; `getenv` answers nullptr or "" for an unset variable.
std::vector<std::pair<std::string, std::string>> nvshmem_environment(const LaunchEnv& env, std::size_t heap_bytes,
                                                                     const std::function<const char*(const char*)>& getenv);

}  // namespace tilescale::dist
