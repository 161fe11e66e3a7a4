// plan_tile_ops: each tile op's decisions through its plan hook; the gemm's warp split (and wgmma
// on Hopper) recorded as its GemmPlan.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// The gemm line of the kernel body.
std::string gemm_line(const std::string& printed) {
  const std::string body = kernel_body(printed);
  const auto at = body.find("T.gemm(");
  return body.substr(at, body.find('\n', at) - at);
}

TEST(PlanTileOps, SplitsAGemmOverTheWarpsAndTakesWgmmaOnHopperWhenTheWarpsFormWarpgroups) {
  const AroundPass sm80 = around_pass(one_gemm(128), "plan_tile_ops", Target::CUDA, 80);
  EXPECT_EQ(gemm_line(sm80.before), R"(T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0))");
  EXPECT_EQ(gemm_line(sm80.after),
            R"(T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0, warps_m=2, warps_n=2))");
  // 256 threads on sm_90: 8 warps of 16 rows make two 64-row warpgroups, so wgmma.
  const AroundPass sm90 = around_pass(one_gemm(256), "plan_tile_ops", Target::CUDA, 90);
  EXPECT_EQ(gemm_line(sm90.after),
            R"(T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0, warps_m=8, warps_n=1, wgmma=1))");
  // 128 threads on sm_90: one warpgroup takes the 128 rows as two m64 tiles (WarpRows::M64Tiles).
  const AroundPass sm90_small = around_pass(one_gemm(128), "plan_tile_ops", Target::CUDA, 90);
  EXPECT_EQ(gemm_line(sm90_small.after),
            R"(T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0, warps_m=4, warps_n=1, wgmma=1))");
  // 64 threads: no whole warpgroup, so mma.sync.
  const AroundPass sm90_two_warps = around_pass(one_gemm(64), "plan_tile_ops", Target::CUDA, 90);
  EXPECT_EQ(gemm_line(sm90_two_warps.after),
            R"(T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0, warps_m=1, warps_n=2))");
}

}  // namespace
}  // namespace tilescale::testing
