// GEMM operand and accumulator types beyond float32 accumulation: float16 operands accumulated in a
// float16 fragment (mma.sync's f16 form; wgmma is planned for float32 accumulators only) compile
// with NVRTC for sm_80 and sm_90a (no GPU needed; the GPU test runs it: tests/gpu/test_tile_ops_gpu.cc).
#include <gtest/gtest.h>

#include "half_accumulator_gemm.h"
#include "jit/nvrtc.h"
#include "skips.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

TEST(GemmTypes, AFloat16AccumulatorCompilesWithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  const auto f = test::half_accumulator_gemm();
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const std::string source = generate_cuda(f, arch);
    EXPECT_NE(source.find("half_t C_local["), std::string::npos) << arch;
    EXPECT_NE(source.find(", half_t, half_t>("), std::string::npos) << arch << "\n" << source;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch;
  }
}

}  // namespace
}  // namespace tilescale
