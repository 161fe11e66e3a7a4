// GEMM operand and accumulator forms: float16 operands accumulated in a float16 fragment (mma.sync's
// f16 form; wgmma is planned for float32 accumulators only), float32 operands as tf32, and a
// register operand A of either
// majorness compile with NVRTC for sm_80 and sm_90a (no GPU needed; the GPU tests run them:
// tests/gpu/test_tile_ops_gpu.cc).
#include <gtest/gtest.h>

#include "gemm_sr_kernels.h"
#include "gemm_type_programs.h"
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

// float32 operands as tf32 (mma.sync m16n8k8), K-major both.
TEST(GemmTypes, Float32OperandsCompileAsTf32WithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  const auto f = test::tf32_gemm();
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const std::string source = generate_cuda(f, arch);
    EXPECT_NE(source.find(", float, float>("), std::string::npos) << arch << "\n" << source;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch;
  }
}

// A read from registers, K-major ([M][K]) or M-major ([K][M], transpose_A): the same device gemm
// (gemm_rs) over the same registers, the M-major fragment laid out as the transposed accumulator.
TEST(GemmTypes, ARegisterOperandAEitherMajornessCompilesWithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  for (bool ta : {false, true}) {
    const auto f = sr_kernels::gemm_a_in_registers(200, 136, 160, ta, DataType::Float16);
    for (const char* arch : {"sm_80", "sm_90a"}) {
      const std::string source = generate_cuda(f, arch);
      EXPECT_NE(source.find("tl::gemm_rs"), std::string::npos) << arch << " ta=" << ta;
      EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch << " ta=" << ta;
    }
  }
}

}  // namespace
}  // namespace tilescale
