// specialize_warps: the warp-specialized loop becomes a producer role that loads its stages by TMA
// and a consumer role that computes on them, with the mbarrier protocol between the two.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

TEST(SpecializeWarps, TheGemmLoopBecomesAProducerAndAConsumerRole) {
  const auto ir = around_pass(readme_gemm(), "specialize_warps");
  EXPECT_NE(ir.before.find("T.annotate(\"warp_specialization\""), std::string::npos);
  EXPECT_NE(ir.after.find("with T.Kernel(2, 2, 1, threads=256)"), std::string::npos);  // + the producer warpgroup
  EXPECT_EQ(kernel_body(ir.after), R"(tx = T.get_thread_binding()
A_shared = T.alloc_shared((128, 32), "float16")
T.annotate("shared_memory", A_shared, offset=0, stage_bytes=8192, stages=3)
B_shared = T.alloc_shared((32, 128), "float16")
T.annotate("shared_memory", B_shared, offset=24576, stage_bytes=8192, stages=3)
mbarriers = T.alloc_shared((6,), "uint64")
T.annotate("shared_memory", mbarriers, offset=49152, stage_bytes=128, stages=1)
T.annotate("pipeline_barriers", mbarriers, stages=3)
T.annotate("tensor_map", box=[32, 128], param=0, swizzle=64)
T.annotate("tensor_map", box=[64, 32], param=1, swizzle=128)
if tx == 0:
    for s in T.serial(3):
        T.tl.mbarrier_init(mbarriers[s], 1)
        T.tl.mbarrier_init(mbarriers[3 + s], 128)
    T.tl.fence_mbarrier_init()
T.tl.syncthreads()
with T.warp_role(first_thread=128, threads=128):
    T.tl.setmaxnreg_dec[40]()
    if tx / 32 == 4:
        loads_issued = T.alloc_var("int32")
        loads_issued[0] = 0
        if T.tl.elect_one():
            for k in T.serial(8):
                stage = T.alloc_var("int32")
                stage[0] = (loads_issued[0] + k) % 3
                with T.stage(stage[0], A_shared[0, 0], B_shared[0, 0]):
                    if loads_issued[0] + k >= 3:
                        T.tl.mbarrier_wait(mbarriers[3 + stage[0]], (loads_issued[0] + k) / 3 & 1 ^ 1)
                    T.tl.mbarrier_arrive_expect_tx(mbarriers[stage[0]], 16384)
                    T.tl.tma_load(A_shared[0, 0], A[by * 128, k * 32], mbarriers[stage[0]], map=0)
                    T.tl.tma_load(B_shared[0, 0], B[k * 32, bx * 128], mbarriers[stage[0]], map=1)
                    T.tl.tma_load(B_shared[0, 64], B[k * 32, bx * 128 + 64], mbarriers[stage[0]], map=1)
        T.tl.syncwarp()
        loads_issued[0] = loads_issued[0] + 8
        if T.tl.elect_one():
            for load in T.serial(T.max(loads_issued[0] - 3, 0), T.max(loads_issued[0] - 3, 0) + T.min(loads_issued[0], 3)):
                T.tl.mbarrier_wait(mbarriers[3 + load % 3], load / 3 & 1)
        T.tl.syncwarp()
with T.warp_role(barrier=1, first_thread=0, threads=128):
    T.tl.setmaxnreg_inc[216]()
    stages_used = T.alloc_var("int32")
    stages_used[0] = 0
    T.annotate("min_blocks_per_sm", blocks=2)
    T.annotate("shared_memory_total", bytes=49280)
    C_local = T.alloc_fragment((128, 128), "float32")
    T.annotate("fragment_layout", C_local, M=128, family="mma_accumulator", warp_rows="m64_tiles", warps_m=4, warps_n=1)
    T.fill(C_local, 0.0)
    with T.async_proxy_ready(A_shared[0, 0], B_shared[0, 0]):
        for k_1 in T.serial(8):
            with T.stage(stages_used[0] % 3, A_shared[0, 0], B_shared[0, 0]):
                T.tl.mbarrier_wait_lean(mbarriers[stages_used[0] % 3], stages_used[0] / 3 & 1)
                T.tl.gemm_ss_wgmma_async[128, 128, 32, 4, 1, False, False, "float16", "float32"](A_shared[0, 0], B_shared[0, 0], C_local[0, 0])
                if k_1 > 0:
                    T.tl.mbarrier_arrive(mbarriers[3 + (stages_used[0] + 2) % 3])
            stages_used[0] = stages_used[0] + 1
    T.tl.gemm_ss_wgmma_drain[128, 128, 32, 4, 1, False, False, "float16", "float32"](C_local[0, 0])
    T.tl.mbarrier_arrive(mbarriers[3 + (stages_used[0] + 2) % 3])
    T.copy(C_local, C[by * 128 : +128, bx * 128 : +128])
)");
}

// T::persistent: each role's per-point part walks the grid points; the counts carry over.
TEST(SpecializeWarps, APersistentKernelWalksTheGridPointsInEachRole) {
  const std::string after = around_pass(readme_gemm({.persistent = true}), "specialize_warps").after;
  const auto producer = after.find("loads_issued[0] = 0\n"), consumer = after.find("stages_used[0] = 0\n");
  ASSERT_NE(producer, std::string::npos);
  ASSERT_NE(consumer, std::string::npos);
  ASSERT_LT(producer, consumer);
  const auto producer_points = after.find("with T.grid_points():", producer);
  EXPECT_LT(producer_points, after.find("T.tl.tma_load", producer));  // the loads run per point
  EXPECT_GT(after.find("for load in T.serial", producer), producer_points);  // the drain once, after them
  EXPECT_NE(after.find("with T.grid_points():", consumer), std::string::npos);
}

TEST(SpecializeWarps, IdleWithoutAPlan) {
  const auto ir = around_pass(readme_gemm(), "specialize_warps", Target::CUDA, 80);
  EXPECT_EQ(ir.before, ir.after);
}

}  // namespace
}  // namespace testing
