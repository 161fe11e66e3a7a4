// The Hopper device headers (mbarrier.h, tma.h, wgmma_sm90.h) through NVRTC, without a GPU: a
// kernel that uses every wrapper compiles for sm_90a and its PTX holds the Hopper instructions; the
// sm_90a-only wrappers refuse to build for sm_80, naming what they need, while the parts that exist
// there (mbarrier init/arrive/wait, elect_one's fallback) build. tests/device/check_sm90.cu checks
// the same wrappers' results on an H100.
#include <gtest/gtest.h>

#include "codegen/temp_cache.h"
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "jit/nvrtc.h"
#include "skips.h"
#include "tilescale/errors.h"

namespace tilescale {
namespace {

namespace fs = std::filesystem;

using HopperHeaders = TempCache;

// Warp-specialized: warpgroup 0 loads A (64 x 64) and B (128 x 64) with TMA into shared memory,
// warpgroup 1 multiplies them with wgmma (ss, then rs with A from registers) and stores C with TMA.
const char* kHopperKernel = R"(#include "tilescale/mbarrier.h"
#include "tilescale/tma.h"
#include "tilescale/wgmma_sm90.h"

extern "C" __global__ void __launch_bounds__(256, 1)
hopper_probe(const __grid_constant__ tl::TmaDescriptor desc_a, const __grid_constant__ tl::TmaDescriptor desc_b,
             const __grid_constant__ tl::TmaDescriptor desc_c) {
  extern __shared__ __align__(1024) unsigned char smem[];
  __shared__ uint64_t full, done;
  half_t* As = reinterpret_cast<half_t*>(smem);
  half_t* Bs = As + 64 * 64;
  float* Cs = reinterpret_cast<float*>(Bs + 128 * 64);
  if (threadIdx.x == 0) {
    tl::mbarrier_init(&full, 1);
    tl::mbarrier_init(&done, 128);
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x < 128) {
    tl::setmaxnreg_dec<40>();
    if (threadIdx.x < 32 && tl::elect_one()) {
      tl::tma_prefetch_descriptor(&desc_a);
      tl::tma_prefetch_2d(&desc_b, 0, blockIdx.y * 128);
      tl::mbarrier_arrive_expect_tx(&full, (64 + 128) * 64 * 2);
      tl::tma_load_2d(As, &desc_a, &full, 0, blockIdx.x * 64);
      tl::tma_load_2d(Bs, &desc_b, &full, 0, blockIdx.y * 128);
      tl::mbarrier_wait(&done, 0);
      tl::tma_store_2d(&desc_c, Cs, blockIdx.y * 128, blockIdx.x * 64);
      tl::tma_store_commit();
      tl::tma_store_wait_read<0>();
    }
  } else {
    tl::setmaxnreg_inc<232>();
    const int t = threadIdx.x - 128;
    float acc[64];
    tl::mbarrier_wait(&full, 0);
    tl::wgmma_fence();
    for (int s = 0; s < 4; ++s)
      tl::wgmma_ss<128, half_t>(acc, tl::wgmma_desc_kmajor<128>(As + 16 * s), tl::wgmma_desc_kmajor<128>(Bs + 16 * s),
                                s > 0);
    tl::wgmma_commit();
    tl::wgmma_wait<0>();
    tl::wgmma_fence_regs<64>(acc);
    uint32_t a[4];
    for (int q = 0; q < 4; ++q) a[q] = __float_as_uint(acc[q]);
    tl::wgmma_fence();
    tl::wgmma_rs<128, half_t>(acc, a, tl::wgmma_desc(Bs, 16, 1024, tl::kWgmmaSwizzle128B));
    tl::wgmma_commit();
    tl::wgmma_wait<0>();
    tl::wgmma_fence_regs<64>(acc);
    for (int i = 0; i < 64; ++i) Cs[i * 128 + t] = acc[i];
    tl::fence_proxy_async();
    tl::mbarrier_arrive(&done);
  }
}
)";

TEST_F(HopperHeaders, AKernelUsingEveryWrapperCompilesForSm90a) {
  SKIP_WITHOUT_NVRTC();
  jit::CompiledBinary b;
  ASSERT_NO_THROW(b = jit::compile_nvrtc(kHopperKernel, "hopper_probe", "sm_90a", {}));
  EXPECT_FALSE(b.cubin.empty());
}

TEST_F(HopperHeaders, PtxHoldsTheHopperInstructions) {
  SKIP_WITHOUT_NVRTC();
  const std::string ptx = jit::ptx_for(kHopperKernel, "compute_90a");
  for (const char* instr :
       {"wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16", "wgmma.fence.sync.aligned", "wgmma.commit_group.sync.aligned",
        "wgmma.wait_group.sync.aligned", "cp.async.bulk.tensor.2d.shared::cluster.global",
        "mbarrier::complete_tx::bytes", "cp.async.bulk.tensor.2d.global.shared::cta", "cp.async.bulk.commit_group",
        "cp.async.bulk.wait_group.read", "cp.async.bulk.prefetch.tensor.2d", "prefetch.tensormap",
        "mbarrier.init.shared::cta.b64", "mbarrier.arrive.expect_tx", "mbarrier.arrive.shared::cta.b64",
        "mbarrier.try_wait.parity", "fence.mbarrier_init", "fence.proxy.async.shared::cta", "elect.sync",
        "setmaxnreg.inc.sync.aligned.u32 232", "setmaxnreg.dec.sync.aligned.u32 40"}) {
    EXPECT_NE(ptx.find(instr), std::string::npos) << "PTX lacks " << instr;
  }
  // The ss form takes two descriptors, the rs form four A registers in braces.
  EXPECT_NE(ptx.find("wgmma.mma_async"), ptx.rfind("wgmma.mma_async"));
}

// Every N and element type the wrappers accept assembles (ptxas checks the operand counts).
TEST_F(HopperHeaders, EveryWgmmaShapeAndTypeAssembles) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = R"(#include "tilescale/wgmma_sm90.h"
template <int N, class AT> __device__ void one(float* d, uint64_t da, uint64_t db, const uint32_t (&a)[4]) {
  tl::wgmma_ss<N, AT>(d, da, db, false);
  if constexpr (sizeof(AT) == 2) {
    tl::wgmma_ss<N, AT, true, true>(d, da, db);
    tl::wgmma_rs<N, AT, true>(d, a, db);
  }
}
template <class AT> __device__ void all_n(float* d, uint64_t da, uint64_t db, const uint32_t (&a)[4]) {
  one<8, AT>(d, da, db, a); one<16, AT>(d, da, db, a); one<32, AT>(d, da, db, a); one<64, AT>(d, da, db, a);
  one<96, AT>(d, da, db, a); one<128, AT>(d, da, db, a); one<192, AT>(d, da, db, a); one<256, AT>(d, da, db, a);
}
extern "C" __global__ void shapes(float* out, unsigned long long da, unsigned long long db) {
  float d[128];
  for (int i = 0; i < 128; ++i) d[i] = out[i];
  const uint32_t a[4] = {1, 2, 3, 4};
  tl::wgmma_fence();
  all_n<half_t>(d, da, db, a); all_n<bfloat16_t>(d, da, db, a);
  all_n<fp8_e4m3_t>(d, da, db, a); all_n<fp8_e5m2_t>(d, da, db, a);
  tl::wgmma_commit();
  tl::wgmma_wait<0>();
  tl::wgmma_fence_regs<128>(d);
  for (int i = 0; i < 128; ++i) out[i * 128 + threadIdx.x] = d[i];
}
)";
  jit::CompiledBinary b;
  ASSERT_NO_THROW(b = jit::compile_nvrtc(src, "shapes", "sm_90a", {}));
  EXPECT_FALSE(b.cubin.empty());
  const std::string ptx = jit::ptx_for(src, "compute_90a");
  for (const char* shape : {"m64n8k16.f32.f16", "m64n96k16.f32.bf16", "m64n256k16.f32.f16", "m64n192k32.f32.e4m3",
                            "m64n256k32.f32.e5m2"})
    EXPECT_NE(ptx.find(shape), std::string::npos) << "PTX lacks " << shape;
}

// mbarrier_wait with its timeout (globaltimer, hang report, trap) compiles with any timeout.
TEST_F(HopperHeaders, WaitTimeoutCompilesWithAnyBudget) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = R"(#include "tilescale/mbarrier.h"
extern "C" __global__ void waits(int* out) {
  __shared__ uint64_t bar;
  if (threadIdx.x == 0) { tl::mbarrier_init(&bar, blockDim.x); tl::fence_mbarrier_init(); }
  __syncthreads();
  tl::mbarrier_arrive(&bar);
  tl::mbarrier_wait(&bar, 0);
  out[threadIdx.x] = 1;
}
)";
  EXPECT_NO_THROW(jit::compile_nvrtc(src, "waits", "sm_90a", {}));
  EXPECT_NO_THROW(jit::compile_nvrtc(src, "waits", "sm_90a", {"-DTL_MBARRIER_TIMEOUT_NS=1000000ull"}));
}

// What exists on sm_80 builds there: mbarrier init/arrive/wait (test_wait), elect_one's fallback,
// the descriptor encoder.
TEST_F(HopperHeaders, TheSm80SubsetBuildsForSm80) {
  SKIP_WITHOUT_NVRTC();
  const std::string src = R"(#include "tilescale/mbarrier.h"
#include "tilescale/tma.h"
#include "tilescale/wgmma_sm90.h"
extern "C" __global__ void sm80_subset(unsigned long long* out) {
  __shared__ uint64_t bar;
  if (threadIdx.x == 0) tl::mbarrier_init(&bar, blockDim.x);
  __syncthreads();
  tl::mbarrier_arrive(&bar);
  tl::mbarrier_wait(&bar, 0);
  out[threadIdx.x] = tl::elect_one() ? tl::wgmma_desc_kmajor<64>(&bar) : 0;
}
)";
  EXPECT_NO_THROW(jit::compile_nvrtc(src, "sm80_subset", "sm_80", {}));
}

// A Hopper-only wrapper used on sm_80 stops the build, and the log names what it needs.
TEST_F(HopperHeaders, HopperOnlyWrappersRefuseToBuildForSm80) {
  SKIP_WITHOUT_NVRTC();
  struct Case {
    const char* body;
    const char* needs;
  };
  for (const Case& c : {Case{"tl::wgmma_fence();", "tl_error_needs_sm_90a_wgmma"},
                        Case{"tl::setmaxnreg_inc<232>();", "tl_error_needs_sm_90a_setmaxnreg"},
                        Case{"tl::mbarrier_arrive_expect_tx(&bar, 128);", "tl_error_needs_sm_90_mbarrier"},
                        Case{"tl::tma_load_2d(&bar, p, &bar, 0, 0);", "tl_error_needs_sm_90_tma"}}) {
    SCOPED_TRACE(c.body);
    const std::string src = std::string(R"(#include "tilescale/mbarrier.h"
#include "tilescale/tma.h"
#include "tilescale/wgmma_sm90.h"
extern "C" __global__ void misuse(const void* p) {
  __shared__ uint64_t bar;
  )") + c.body + "\n}\n";
    EXPECT_NO_THROW(jit::compile_nvrtc(src, "misuse", "sm_90a", {}));
    try {
      jit::compile_nvrtc(src, "misuse", "sm_80", {});
      ADD_FAILURE() << "compiled for sm_80";
    } catch (const CompileError& e) {
      EXPECT_NE(std::string(e.what()).find(c.needs), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tilescale
