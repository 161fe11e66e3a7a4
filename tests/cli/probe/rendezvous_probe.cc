// One rank of a run under `tilescale launch` (tests/cli/test_cli.cc): reads the launch environment,
// meets the other ranks at the rendezvous, all-gathers a greeting and prints what it gathered. With
// PROBE_FAIL_RANK=r, rank r exits with status 3 before the rendezvous instead.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/dist/launch_env.h"
#include "runtime/dist/rendezvous.h"

int main() {
  using namespace tilescale::dist;
  try {
    const auto env = launch_env();
    if (!env) {
      std::puts("no launch environment");
      return 2;
    }
    if (const char* f = std::getenv("PROBE_FAIL_RANK"); f && std::atoi(f) == env->rank) {
      std::puts("failing on purpose");
      return 3;
    }
    Rendezvous rendezvous(*env, std::chrono::seconds(20));
    const std::string greeting = "hello from " + std::to_string(env->rank);
    std::string gathered;
    for (const auto& b : rendezvous.all_gather("greeting", Bytes(greeting.begin(), greeting.end())))
      gathered += (gathered.empty() ? "" : ", ") + std::string(b.begin(), b.end());
    rendezvous.barrier("done");
    std::printf("rank %d of %d gathered: %s\n", env->rank, env->world_size, gathered.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("%s\n", e.what());
    return 1;
  }
}
