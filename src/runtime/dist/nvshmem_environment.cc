#include "runtime/dist/nvshmem_environment.h"

namespace tilescale::dist {

std::vector<std::pair<std::string, std::string>> nvshmem_environment(const LaunchEnv& env, std::size_t heap_bytes,
                                                                     const std::function<const char*(const char*)>& getenv) {
  const auto unset = [&](const char* name) {
    const char* v = getenv(name);
    return !v || !*v;
  };
  std::vector<std::pair<std::string, std::string>> out{{"NVSHMEM_DISABLE_NVLS", "1"}};
  if (unset("NVSHMEM_SYMMETRIC_SIZE")) out.emplace_back("NVSHMEM_SYMMETRIC_SIZE", std::to_string(heap_bytes + kNvshmemOwnBytes));
  if (env.local_world_size == env.world_size) {
    if (unset("NVSHMEM_REMOTE_TRANSPORT")) out.emplace_back("NVSHMEM_REMOTE_TRANSPORT", "none");
    if (unset("NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME")) out.emplace_back("NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME", "lo");
  }
  return out;
}

}  // namespace tilescale::dist
