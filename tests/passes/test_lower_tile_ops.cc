// lower_tile_ops: the gemm becomes its device call (after its accumulator's clear and, on wgmma,
// the fence and barrier that hand shared operands to the async proxy unless they are there already).
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

std::string gemm_part(const std::string& printed) {
  const std::string body = kernel_body(printed);
  const auto from = body.find("T.copy(B, B_shared"), to = body.find("T.copy(C_local, C");
  return body.substr(body.find('\n', from) + 1, to - body.find('\n', from) - 1);
}

TEST(LowerTileOps, AnMmaGemmIsItsDeviceCallAfterItsClear) {
  const AroundPass p = around_pass(one_gemm(), "lower_tile_ops", Target::CUDA, 80);
  EXPECT_NE(p.before.find("T.gemm(A_shared, B_shared, C_local"), std::string::npos);
  EXPECT_EQ(gemm_part(p.after), R"(T.fill(C_local, 0.0)
T.tl.gemm_ss[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
)");
}

// wgmma reads shared memory through the async proxy: the writers fence, then meet at a barrier,
// which is the only one insert_barriers leaves before the gemm.
TEST(LowerTileOps, AWgmmaGemmFencesTheTilesTheThreadsWrote) {
  EXPECT_EQ(gemm_part(around_pass(one_gemm(), "lower_tile_ops", Target::CUDA, 90, /*tma=*/false).after), R"(T.fill(C_local, 0.0)
T.tl.fence_proxy_async()
T.tl.syncthreads()
T.tl.gemm_ss_wgmma[128, 128, 32, 4, 1, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
)");
  EXPECT_EQ(gemm_part(around_pass(one_gemm(), "insert_barriers", Target::CUDA, 90, /*tma=*/false).after), R"(T.fill(C_local, 0.0)
T.tl.fence_proxy_async()
T.tl.syncthreads()
T.tl.gemm_ss_wgmma[128, 128, 32, 4, 1, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
)");
}

// In a warp-specialized loop the TMA stages are visible to the async proxy already: no fence.
TEST(LowerTileOps, NoFenceWhereTheOperandsAreAsyncProxyReady) {
  const std::string after = around_pass(readme_gemm(), "lower_tile_ops").after;
  const auto loop = after.find("with T.async_proxy_ready(");
  ASSERT_NE(loop, std::string::npos);
  EXPECT_EQ(after.find("T.tl.fence_proxy_async()", loop), after.find("T.tl.fence_proxy_async()", after.find("T.copy(C_local")));
}

}  // namespace
}  // namespace tilescale::testing
