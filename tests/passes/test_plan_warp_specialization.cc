// plan_warp_specialization: which pipelined loop gets a producer warpgroup loading its tiles by TMA,
// with which occupancy and registers, or why not.
#include <gtest/gtest.h>

#include "example.h"
#include "ir/IR.h"
#include "pass_test.h"
#include "passes/plan_warp_specialization.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// The README GEMM's main loop over a 1024^3 problem: tiles BM x BN x 32, 3 stages.
T::PrimFunc gemm(int threads, std::int64_t BN, std::int64_t min_blocks = 0) {
  return T::prim_func("ws_gemm", [=] {
    auto A = T::Tensor("A", {1024, 1024}, T::float16);
    auto B = T::Tensor("B", {1024, 1024}, T::float16);
    auto C = T::Tensor("C", {1024, 1024}, T::float32);
    T::Kernel(1024 / BN, 8, T::threads(threads), [&](T::Expr bx, T::Expr by) {
      if (min_blocks) T::min_blocks_per_sm(min_blocks);
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, BN}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, BN}, T::float32, "C_local");
      T::clear(C_local);
      T::Pipelined(32, 3, [&](T::Expr k) {
        T::copy(A(by * 128, k * 32), A_shared);
        T::copy(B(k * 32, bx * BN), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      T::copy(C_local, C(by * 128, bx * BN));
    });
  });
}

// The line of the record, if any.
std::string record(const std::string& printed) {
  const auto at = printed.find("T.annotate(\"warp_specialization\"");
  if (at == std::string::npos) return "";
  return printed.substr(at, printed.find('\n', at) - at);
}

TEST(PlanWarpSpecialization, AGemmLoopWithOneConsumerWarpgroupGetsAProducerAndTwoBlocksPerSm) {
  const AroundPass p = around_pass(gemm(128, 128), "plan_warp_specialization", Target::CUDA, 90);
  EXPECT_EQ(record(p.before), "");
  // Statements 0 and 1 of the loop (the copies) go by TMA; the gemm overlaps the stage boundary
  // with asynchronous wgmma; two blocks share an SM, the consumers taking 216 registers.
  EXPECT_EQ(kernel_body(p.after).substr(kernel_body(p.after).find("T.annotate(\"warp_specialization\"")),
            R"(T.annotate("warp_specialization", blocks_per_sm=2, consumer_registers=216, overlap="wgmma_async", tma_loads=[0, 1], turns=[], wait_for_consumers=0)
for k in T.Pipelined(32, num_stages=3):
    T.copy(A[by * 128 : +128, k * 32 : +32], A_shared)
    T.copy(B[k * 32 : +32, bx * 128 : +128], B_shared)
    T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=0, policy=0, warps_m=4, warps_n=1, wgmma=1)
T.copy(C_local, C[by * 128 : +128, bx * 128 : +128])
)");
}

TEST(PlanWarpSpecialization, TwoConsumerWarpgroupsOrWideAccumulatorsKeepOneBlock) {
  // 256 threads: one block, registers still move (two consumer warpgroups).
  EXPECT_EQ(record(around_pass(gemm(256, 256), "plan_warp_specialization").after),
            R"(T.annotate("warp_specialization", blocks_per_sm=1, consumer_registers=232, overlap="wgmma_async", tma_loads=[0, 1], turns=[], wait_for_consumers=0))");
  // 128 threads over 128 x 256: 256 accumulator registers a thread, too many for two blocks.
  EXPECT_EQ(record(around_pass(gemm(128, 256), "plan_warp_specialization").after),
            R"(T.annotate("warp_specialization", blocks_per_sm=1, consumer_registers=0, overlap="wgmma_async", tma_loads=[0, 1], turns=[], wait_for_consumers=0))");
  // T::min_blocks_per_sm decides the occupancy, and the consumers' registers follow it.
  EXPECT_EQ(record(around_pass(gemm(128, 128, 1), "plan_warp_specialization").after),
            R"(T.annotate("warp_specialization", blocks_per_sm=1, consumer_registers=0, overlap="wgmma_async", tma_loads=[0, 1], turns=[], wait_for_consumers=0))");
}

// FlashAttention with two consumer warpgroups and 3 stages: the warpgroups take turns at the
// tensor cores; the turn spans the P.V gemm (statement 11, carried) and the next Q.K^T (statement 1).
TEST(PlanWarpSpecialization, FlashAttentionsTwoGemmsTakeTurnsAcrossTheIterationsEnd) {
  const auto* fa = examples::find_example("flash_attention");
  auto sizes = examples::parse_sizes("B=1,H=2,S=512,D=128,BM=128,BN=128,threads=256,stages=3", fa->default_sizes);
  EXPECT_NE(record(around_pass(fa->build(sizes), "plan_warp_specialization").after).find("overlap=\"none\", tma_loads=[0, 2], turns=[1, 11]"),
            std::string::npos);
  sizes["stages"] = 2;  // a stage is released one iteration late: 2 stages leave no turn to take
  EXPECT_NE(record(around_pass(fa->build(sizes), "plan_warp_specialization").after).find("turns=[]"), std::string::npos);
}

TEST(PlanWarpSpecialization, IdleBeforeHopper) {
  const AroundPass sm80 = around_pass(gemm(128, 128), "plan_warp_specialization", Target::CUDA, 80);
  EXPECT_EQ(sm80.after, sm80.before);
}

TEST(PlanWarpSpecialization, ACopyThatCannotGoByTmaIsTheRecordedReason) {
  // The loop converts float16 to float32 on its way into shared memory: TMA moves bytes as they are.
  const T::PrimFunc f = T::prim_func("converting", [] {
    auto A = T::Tensor("A", {128, 256}, T::float16);
    auto B = T::Tensor("B", {128, 32}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({128, 32}, T::float32, "A_shared");
      auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
      T::clear(acc);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), A_shared);
        T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + A_shared(i, j); });
      });
      T::copy(acc, B(0, 0));
    });
  });
  const std::string after = kernel_body(around_pass(f, "plan_warp_specialization").after);
  EXPECT_EQ(record(after), "");
  EXPECT_NE(after.find(R"(T.annotate("no_warp_specialization", reason="no warp specialization: the copy from A into A_shared cannot go by TMA because it converts between dtypes")
for k in T.Pipelined(8, num_stages=3):)"),
            std::string::npos)
      << after;
}

TEST(PlanWarpSpecialization, AnOccupancyThatLeavesTooFewRegistersKeepsTheCpAsyncPipeline) {
  const std::string after = kernel_body(around_pass(gemm(128, 128, 3), "plan_warp_specialization").after);
  EXPECT_EQ(record(after), "");
  EXPECT_NE(after.find(R"(T.annotate("no_warp_specialization", reason="no warp specialization: T::min_blocks_per_sm(3) leaves 85 registers a thread to 256 threads (a producer warpgroup's included), fewer than 128"))"),
            std::string::npos)
      << after;
}

TEST(PlanWarpSpecialization, ItsRecordDecodesAsEncoded) {
  passes::WarpSpecializationPlan plan;
  plan.tma_loads = {0, 2};
  plan.wait_for_consumers = true;
  plan.overlap = passes::StageOverlapKind::WgmmaAsync;
  plan.blocks_per_sm = 2;
  plan.consumer_registers = 216;
  const auto back = passes::WarpSpecializationPlan::decode(*ir::as<ir::AnnotateNode>(plan.encode()));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tma_loads, plan.tma_loads);
  EXPECT_TRUE(back->wait_for_consumers);
  EXPECT_EQ(back->overlap, plan.overlap);
  EXPECT_EQ(back->blocks_per_sm, 2);
  EXPECT_EQ(back->consumer_registers, 216);
  EXPECT_FALSE(passes::NoWarpSpecialization::decode(*ir::as<ir::AnnotateNode>(plan.encode())));
  const auto no = passes::NoWarpSpecialization::decode(*ir::as<ir::AnnotateNode>(passes::NoWarpSpecialization{"why"}.encode()));
  ASSERT_TRUE(no);
  EXPECT_EQ(no->reason, "why");
}

}  // namespace
}  // namespace tilescale::testing
