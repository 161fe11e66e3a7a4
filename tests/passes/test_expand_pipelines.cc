// expand_pipelines: a multistage Pipelined loop that the block's own threads run becomes a cp.async
// prologue, a serial loop that waits for each stage, and a final wait; the GEMM main loop's gemm
// adapts to the stage boundary.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// The pipeline scope: from its start to its final wait.
std::string pipeline(const std::string& printed) {
  const std::string body = kernel_body(printed), last = "\n    T.tl.cp_async_wait[0]()\n";
  const auto from = body.find("with T.pipeline():"), to = body.find(last, from);
  return from == std::string::npos || to == std::string::npos ? body : body.substr(from, to + last.size() - from);
}

// Consumers without a stage overlap: the loop waits for its stage and meets at a barrier first.
TEST(ExpandPipelines, AWaitAndABarrierBeforeEachIterationsConsumers) {
  const T::PrimFunc f = T::prim_func("staged", [] {
    auto A = T::Tensor("A", {128, 256}, T::float16);
    auto B = T::Tensor("B", {128, 32}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto S = T::alloc_shared({128, 32}, T::float16, "S");
      auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
      T::clear(acc);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), S);
        T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + T::cast(S(i, j), T::float32); });
      });
      T::copy(acc, B);
    });
  });
  const AroundPass p = around_pass(f, "expand_pipelines", Target::CUDA, 80);
  EXPECT_NE(p.before.find("T.annotate(\"pipeline\", ahead=2, consumers=[1], overlap=\"none\", producers=[0])"), std::string::npos);
  EXPECT_EQ(p.after.find("T.annotate(\"pipeline\""), std::string::npos);  // spent
  EXPECT_EQ(pipeline(p.after), R"(with T.pipeline():
    for s in T.serial(2):
        if s < 8:
            with T.bind(k, s, 0, 8):
                with T.stage(k % 3, S[0, 0]):
                    with T.async_copies():
                        T.copy(A[0 : +128, k * 32 : +32], S)
        T.tl.cp_async_commit()
    for k_1 in T.serial(8):
        T.tl.cp_async_wait[1]()
        T.tl.syncthreads()
        if k_1 + 2 < 8:
            with T.bind(k_2, k_1 + 2, 0, 8):
                with T.stage(k_2 % 3, S[0, 0]):
                    with T.async_copies():
                        T.copy(A[0 : +128, k_2 * 32 : +32], S)
        T.tl.cp_async_commit()
        with T.stage(k_1 % 3, S[0, 0]):
            for i, j in T.Parallel(128, 32):
                acc[i, j] = acc[i, j] + T.cast(S[i, j], "float32")
    T.tl.cp_async_wait[0]()
)");
}

// mma.sync: the gemm's fragments are carried across the stage boundary; the barrier moves between
// the gemm's head (every k step but the last) and its tail (which loads from the next stage).
TEST(ExpandPipelines, AnMmaGemmCarriesItsFragmentsAcrossTheStageBoundary) {
  const AroundPass p = around_pass(readme_gemm(), "expand_pipelines", Target::CUDA, 80);
  EXPECT_EQ(pipeline(p.after), R"(with T.pipeline():
    for s in T.serial(2):
        if s < 8:
            with T.bind(k, s, 0, 8):
                with T.stage(k % 3, A_shared[0, 0], B_shared[0, 0]):
                    with T.async_copies():
                        T.copy(A[by * 128 : +128, k * 32 : +32], A_shared)
                        T.copy(B[k * 32 : +32, bx * 128 : +128], B_shared)
        T.tl.cp_async_commit()
    T.tl.cp_async_wait[1]()
    T.tl.syncthreads()
    C_local_prefetched = T.alloc_local((38,), "uint32")
    with T.stage(0, A_shared[0, 0], B_shared[0, 0]):
        T.tl.gemm_ss_prefetched_first[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local_prefetched[0])
    for k_1 in T.serial(8):
        if k_1 + 2 < 8:
            with T.bind(k_2, k_1 + 2, 0, 8):
                with T.stage(k_2 % 3, A_shared[0, 0], B_shared[0, 0]):
                    with T.async_copies():
                        T.copy(A[by * 128 : +128, k_2 * 32 : +32], A_shared)
                        T.copy(B[k_2 * 32 : +32, bx * 128 : +128], B_shared)
        T.tl.cp_async_commit()
        with T.stage(k_1 % 3, A_shared[0, 0], B_shared[0, 0]):
            T.tl.gemm_ss_prefetched_head[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0], C_local_prefetched[0])
        T.tl.cp_async_wait[1]()
        T.tl.syncthreads()
        with T.stage((k_1 + 1) % 3, A_shared[0, 0], B_shared[0, 0]):
            T.tl.gemm_ss_prefetched_tail[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0], C_local_prefetched[0])
    T.tl.cp_async_wait[0]()
)");
}

// wgmma without TMA: the stage is fenced for the async proxy after its wait, each iteration's
// group stays in flight until the next one's issue, the last is drained after the loop; loads run
// one stage less ahead.
TEST(ExpandPipelines, AWgmmaGemmKeepsOneGroupInFlight) {
  const AroundPass p = around_pass(readme_gemm(), "expand_pipelines", Target::CUDA, 90, /*tma=*/false);
  EXPECT_EQ(pipeline(p.after), R"(with T.pipeline():
    for s in T.serial(1):
        if s < 8:
            with T.bind(k, s, 0, 8):
                with T.stage(k % 3, A_shared[0, 0], B_shared[0, 0]):
                    with T.async_copies():
                        T.copy(A[by * 128 : +128, k * 32 : +32], A_shared)
                        T.copy(B[k * 32 : +32, bx * 128 : +128], B_shared)
        T.tl.cp_async_commit()
    for k_1 in T.serial(8):
        T.tl.cp_async_wait[0]()
        T.tl.fence_proxy_async()
        T.tl.syncthreads()
        if k_1 + 1 < 8:
            with T.bind(k_2, k_1 + 1, 0, 8):
                with T.stage(k_2 % 3, A_shared[0, 0], B_shared[0, 0]):
                    with T.async_copies():
                        T.copy(A[by * 128 : +128, k_2 * 32 : +32], A_shared)
                        T.copy(B[k_2 * 32 : +32, bx * 128 : +128], B_shared)
        T.tl.cp_async_commit()
        with T.stage(k_1 % 3, A_shared[0, 0], B_shared[0, 0]):
            T.tl.gemm_ss_wgmma_async[128, 128, 32, 4, 1, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
    T.tl.gemm_ss_wgmma_drain[128, 128, 32, 4, 1, False, False, "float16", "float32"](C_local[0, 0])
    T.tl.cp_async_wait[0]()
)");
}

// A warp-specialized loop is specialize_warps' to expand: nothing is left for this pass.
TEST(ExpandPipelines, LeavesAWarpSpecializedKernelAlone) {
  const AroundPass p = around_pass(readme_gemm(), "expand_pipelines", Target::CUDA, 90);
  EXPECT_NE(p.before.find("T.warp_role("), std::string::npos);
  EXPECT_EQ(p.after, p.before);
}

}  // namespace
}  // namespace tilescale::testing
