// plan_pipelines: each multistage Pipelined loop's producers, consumers, how far ahead the producers
// load and how the consumer gemm overlaps the stage boundary.
#include <gtest/gtest.h>

#include "ir/IR.h"
#include "pass_test.h"
#include "passes/plan_pipelines.h"
#include "tilescale/errors.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// A GEMM main loop (two copies into staged tiles, one gemm) of `stages` stages.
T::PrimFunc gemm(int threads, int stages) {
  return T::prim_func("pipelined_gemm", [=] {
    auto A = T::Tensor("A", {256, 256}, T::float16);
    auto B = T::Tensor("B", {256, 256}, T::float16);
    auto C = T::Tensor("C", {256, 256}, T::float32);
    T::Kernel(2, 2, T::threads(threads), [&](T::Expr bx, T::Expr by) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 128}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, T::float32, "C_local");
      T::clear(C_local);
      T::Pipelined(8, stages, [&](T::Expr k) {
        T::copy(A(by * 128, k * 32), A_shared);
        T::copy(B(k * 32, bx * 128), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      T::copy(C_local, C(by * 128, bx * 128));
    });
  });
}

std::string schedule_line(const std::string& printed) {
  const auto at = printed.find("T.annotate(\"pipeline\"");
  return at == std::string::npos ? "" : printed.substr(at, printed.find('\n', at) - at);
}

TEST(PlanPipelines, TheGemmMainLoopLoadsAheadAndOverlapsTheStageBoundary) {
  // mma.sync (sm_80): the next k step's fragments cross the boundary; loads run stages - 1 ahead.
  const AroundPass sm80 = around_pass(gemm(128, 3), "plan_pipelines", Target::CUDA, 80);
  EXPECT_EQ(schedule_line(sm80.before), "");
  const std::string body = kernel_body(sm80.after);
  EXPECT_EQ(body.substr(body.find("T.annotate(\"pipeline\""), body.find("    T.copy(A") - body.find("T.annotate(\"pipeline\"")),
            R"(T.annotate("pipeline", ahead=2, consumers=[2], overlap="mma_fragments", producers=[0, 1])
for k in T.Pipelined(8, num_stages=3):
)");
  // wgmma (sm_90, 8 warps): the previous group stays in flight, so loads run stages - 2 ahead.
  EXPECT_EQ(schedule_line(around_pass(gemm(256, 3), "plan_pipelines", Target::CUDA, 90).after),
            R"(T.annotate("pipeline", ahead=1, consumers=[2], overlap="wgmma_async", producers=[0, 1]))");
  // Two stages leave no stage for a group in flight.
  EXPECT_EQ(schedule_line(around_pass(gemm(256, 2), "plan_pipelines", Target::CUDA, 90).after),
            R"(T.annotate("pipeline", ahead=1, consumers=[2], overlap="none", producers=[0, 1]))");
}

TEST(PlanPipelines, TheLoopsOrderGivesTheIssueOrderAndStageZeroMustBeTheProducers) {
  auto loop = [](std::vector<int> order, std::vector<int> stage) {
    return T::prim_func("ordered", [=] {
      auto A = T::Tensor("A", {128, 256}, T::float16);
      auto B = T::Tensor("B", {128, 32}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
        auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
        auto twice = T::alloc_fragment({128, 32}, T::float32, "twice");
        T::clear(acc);
        T::Pipelined(8, T::PipelineOptions{3, order, stage}, [&](T::Expr k) {
          T::copy(A(0, k * 32), A_shared);
          T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + T::cast(A_shared(i, j), T::float32); });
          T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { twice(i, j) = acc(i, j) * 2.0f; });
        });
        T::copy(twice, B(0, 0));
      });
    });
  };
  EXPECT_EQ(schedule_line(around_pass(loop({0, 2, 1}, {0, 1, 1}), "plan_pipelines", Target::CUDA, 80).after),
            R"(T.annotate("pipeline", ahead=2, consumers=[2, 1], overlap="none", producers=[0]))");
  try {
    around_pass(loop({}, {0, 0, 1}), "plan_pipelines", Target::CUDA, 80);
    FAIL() << "stage 0 holding a consumer was accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot pipeline loop k with stage=[...] as given: on this target stage 0 must hold exactly "
                                         "the T::copy statements from global into shared memory (statement 1 breaks this)"),
              std::string::npos)
        << e.what();
  }
}

TEST(PlanPipelines, ItsRecordDecodesAsEncoded) {
  const passes::PipelineSchedule s{{0, 2}, {3, 1}, 2, passes::StageOverlapKind::MmaFragments};
  const auto back = passes::PipelineSchedule::decode(*ir::as<ir::AnnotateNode>(s.encode()));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->producers, s.producers);
  EXPECT_EQ(back->consumers, s.consumers);
  EXPECT_EQ(back->ahead, 2);
  EXPECT_EQ(back->overlap, passes::StageOverlapKind::MmaFragments);
}

}  // namespace
}  // namespace tilescale::testing
