// GEMM operand and accumulator forms: float16 operands accumulated in a float16 fragment (mma.sync's
// f16 form; wgmma is planned for float32 accumulators only), float32 (tf32), int8 and float8
// operands stored either way, and a register operand A of either majorness compile with NVRTC for
// sm_80/sm_89 and sm_90a (no GPU needed; the GPU tests run them: tests/gpu/test_tile_ops_gpu.cc).
#include <gtest/gtest.h>

#include "gemm_sr_kernels.h"
#include "gemm_type_programs.h"
#include "typed_gemm.h"
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

// float32 operands as tf32, int8 and float8 (from sm_89), stored either way: both K-major (A as
// [M, K], B as [N, K]) they run on wgmma on sm_90a, else on mma.sync (m16n8k8 tf32, m16n8k32), where
// an MN-major operand (A as [K, M], B as [K, N]) is gathered element by element, since ldmatrix and
// wgmma transpose 16-bit elements only.
TEST(GemmTypes, EightAndThirtyTwoBitOperandsOfEitherMajornessCompileWithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  struct Case {
    DataType in, acc;
    std::vector<const char*> archs;
  };
  for (const Case& c : {Case{DataType::Float32, DataType::Float32, {"sm_80", "sm_90a"}},
                        Case{DataType::Int8, DataType::Int32, {"sm_80", "sm_90a"}},
                        Case{DataType::Float8E4M3, DataType::Float32, {"sm_89", "sm_90a"}}})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (const char* arch : c.archs) {
          const auto f = examples::typed_gemm(c.in, c.acc, ta, tb);
          const std::string source = generate_cuda(f, arch);
          const std::string where = std::string(name(c.in)) + " " + arch + " transpose_A=" + std::to_string(ta) +
                                    " transpose_B=" + std::to_string(tb);
          // The device gemm's TRANS_A, TRANS_B: the user's flags.
          const std::string trans = std::string(ta ? "true, " : "false, ") + (tb ? "true" : "false");
          const bool wgmma = std::string(arch) == "sm_90a" && !ta && tb;  // K-major both
          EXPECT_NE(source.find("tl::gemm_ss"), std::string::npos) << where;
          EXPECT_EQ(source.find("wgmma") != std::string::npos, wgmma) << where;
          EXPECT_NE(source.find(trans + ", " + c_type(c.in)), std::string::npos) << where << "\n" << source;
          EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << where;
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
