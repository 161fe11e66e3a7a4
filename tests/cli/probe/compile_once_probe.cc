// One rank of a run under `tilescale launch` (tests/cli/test_cli.cc) that compiles a fixed kernel
// for sm_90a through the kernel cache, as tilescale::compile does (jit::compile_cached with NVRTC),
// at the same moment as the other ranks: they meet at the rendezvous first. Prints whether the compile
// was a cache hit and a hash of the cubin it got:
//   rank 2: cache hit, cubin 5c0e…
// TILESCALE_CACHE_DIR names the cache the ranks share. Exits 1 with the error when one is raised.
#include <chrono>
#include <cstdio>

#include "jit/cache.h"
#include "jit/hash.h"
#include "runtime/dist/launch_env.h"
#include "runtime/dist/rendezvous.h"

namespace {

const char* kSource = R"(#include "tilescale/common.h"
extern "C" __global__ void compile_once(float* __restrict__ y, const float* __restrict__ x, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    y[i] = sqrtf(x[i] * x[i] + 1.0f) + y[i];
}
)";

}  // namespace

int main() {
  using namespace tilescale;
  try {
    const auto env = dist::launch_env();
    if (!env) {
      std::puts("no launch environment");
      return 2;
    }
    const jit::JitRequest req{"compile_once", kSource, "sm_90a", {}, jit::Backend::NVRTC};
    jit::cache_key(req);  // loads NVRTC before the rendezvous, so that the compiles start together
    dist::Rendezvous rendezvous(*env, std::chrono::seconds(20));
    rendezvous.barrier("compile");
    const jit::JitResult r = jit::compile_cached(req);
    std::printf("rank %d: cache %s, cubin %s\n", env->rank, r.cache_hit ? "hit" : "miss",
                jit::Hasher().add_bytes(r.cubin.data(), r.cubin.size()).hex().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("%s\n", e.what());
    return 1;
  }
}
