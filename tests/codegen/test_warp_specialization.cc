// Which pipelined loops become warp-specialized TMA pipelines on sm_90a (src/codegen/cuda/tma.h,
// codegen.cc), with which tensor maps, and which stay cp.async pipelines. No GPU needed.
#include <gtest/gtest.h>

#include "codegen/cuda/codegen.h"
#include "example.h"
#include "jit/nvrtc.h"
#include "pipeline.h"
#include "tilescale/tilescale.h"
#include "warp_specialized_kernels.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

cuda::KernelSpec spec_for(const T::PrimFunc& f, int sm = 90) {
  return cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", sm}), cuda::Target{sm});
}

cuda::KernelSpec gemm_spec(const std::string& knobs, int sm = 90) {
  const auto* ex = examples::find_example("gemm");
  return spec_for(ex->build(examples::parse_sizes(knobs, ex->default_sizes)), sm);
}

TEST(WarpSpecialization, GemmTilesGetTensorMapsAndAProducerWarpgroup) {
  // A [128 x 64] fp16: 128-byte rows, one box. B [64 x 256]: four 128-byte panels, a box each.
  const auto s = gemm_spec("M=1000,N=1000,K=1000,BM=128,BN=256,BK=64,threads=256,stages=4");
  EXPECT_EQ(s.threads, 256 + 128);
  ASSERT_EQ(s.tensor_maps.size(), 3u);  // A and B, then the store of C (test_epilogue.cc)
  EXPECT_EQ(s.tensor_maps[0].param, 0);
  EXPECT_EQ(s.tensor_maps[0].box, (std::vector<std::int64_t>{64, 128}));
  EXPECT_EQ(s.tensor_maps[0].swizzle_bytes, 128);
  EXPECT_EQ(s.tensor_maps[1].param, 1);
  EXPECT_EQ(s.tensor_maps[1].box, (std::vector<std::int64_t>{64, 64}));
  EXPECT_NE(s.source.find("__launch_bounds__(384, 1)"), std::string::npos);
  EXPECT_NE(s.source.find("tl::setmaxnreg_dec<40>()"), std::string::npos);
  EXPECT_NE(s.source.find("tl::setmaxnreg_inc<232>()"), std::string::npos);
  // Four panels of B per stage, 4 stages of full and empty barriers, 256 consumer arrivals.
  EXPECT_NE(s.source.find("tl::mbarrier_init(&mbarriers[4 + s_1], 256)"), std::string::npos);
  EXPECT_NE(s.source.find("bx * 256 + 192, k * 64"), std::string::npos);
  // The consumers release the previous stage once its wgmma group has completed.
  EXPECT_NE(s.source.find("tl::gemm_ss_wgmma_async"), std::string::npos);
  EXPECT_NE(s.source.find(" > 0) {\n        tl::mbarrier_arrive(&mbarriers[4 + ("), std::string::npos);
}

// A GEMM main loop with one consumer warpgroup: two blocks share an SM (plan_warp_specialization), the
// registers moving from the producer (40) to the consumers (216 = (65536 / 2 - 128 * 40) / 128);
// T::min_blocks_per_sm overrides the choice, and fragments of more than 128 registers a thread
// keep one block.
TEST(WarpSpecialization, AGemmLoopWithOneConsumerWarpgroupSharesTheSmWithASecondBlock) {
  const auto readme = gemm_spec("");  // 128x128x32, 3 stages, 128 threads
  EXPECT_EQ(readme.threads, 128 + 128);
  EXPECT_NE(readme.source.find("__launch_bounds__(256, 2)"), std::string::npos);
  EXPECT_NE(readme.source.find("tl::setmaxnreg_dec<40>()"), std::string::npos);
  EXPECT_NE(readme.source.find("tl::setmaxnreg_inc<216>()"), std::string::npos);
  const auto asked = gemm_spec("blocks_per_sm=1");
  EXPECT_NE(asked.source.find("__launch_bounds__(256, 1)"), std::string::npos);
  EXPECT_EQ(asked.source.find("setmaxnreg"), std::string::npos);
  const auto wide = gemm_spec("BN=256,BK=64");  // a 128x256 accumulator: 256 registers a thread
  EXPECT_NE(wide.source.find("__launch_bounds__(256, 1)"), std::string::npos);
  EXPECT_EQ(wide.source.find("setmaxnreg"), std::string::npos);
  // Only the GEMM main loop (one asynchronous wgmma gemm): FlashAttention's loop keeps one block.
  const auto* fa = examples::find_example("flash_attention");
  const auto attention = spec_for(fa->build(fa->default_sizes));
  EXPECT_EQ(attention.threads, 128 + 128);
  EXPECT_NE(attention.source.find("__launch_bounds__(256, 1)"), std::string::npos);
}

TEST(WarpSpecialization, TheProducerBoundsEveryWaitOfThePipeline) {
  // The consumers' full[s] waits have no timeout of their own (mbarrier_wait_lean, the hot loop);
  // the producer waits with the timeout for the releases of the last 4 loads before it exits, so a
  // pipeline that stops anywhere ends in a hang report (mbarrier.h), not a hung kernel.
  const auto s = gemm_spec("M=1000,N=1000,K=1000,BM=128,BN=256,BK=64,threads=256,stages=4");
  EXPECT_EQ(s.pipeline_barriers, static_cast<std::int64_t>(s.shared_bytes) - 128);  // full[4], empty[4], padded
  EXPECT_EQ(s.pipeline_stages, 4);
  EXPECT_NE(s.source.find("tl::mbarrier_wait_lean(&mbarriers[stages_used % 4]"), std::string::npos);
  const auto drain = s.source.find("for (int load = max(loads_issued - 4, 0);");
  ASSERT_NE(drain, std::string::npos);
  EXPECT_NE(s.source.find("tl::mbarrier_wait(&mbarriers[4 + load % 4]", drain), std::string::npos);
  EXPECT_LT(drain, s.source.find("} else {"));  // in the producer's branch
  EXPECT_EQ(gemm_spec("M=1000,N=1000,K=1000", 80).pipeline_barriers, -1);
}

TEST(WarpSpecialization, NarrowRowsUseTheMatchingSwizzle) {
  // BK = 32: A's rows are 64 bytes (64-byte swizzle); B [32 x 128] has 256-byte rows (two panels).
  const auto s = gemm_spec("BM=128,BN=128,BK=32,threads=256,stages=3");
  ASSERT_EQ(s.tensor_maps.size(), 3u);
  EXPECT_EQ(s.tensor_maps[0].swizzle_bytes, 64);
  EXPECT_EQ(s.tensor_maps[0].box, (std::vector<std::int64_t>{32, 128}));
  EXPECT_EQ(s.tensor_maps[1].swizzle_bytes, 128);
}

TEST(WarpSpecialization, OnlyOnHopperAndOnlyWhenEveryTileQualifies) {
  EXPECT_TRUE(gemm_spec("BM=128,BN=256,BK=64,threads=256,stages=3", 80).tensor_maps.empty());
  const auto* ex = examples::find_example("gemm");
  const auto f = ex->build(examples::parse_sizes("BM=128,BN=256,BK=64,threads=256,stages=3", ex->default_sizes));
  // Without TMA (the variant for arguments whose tensor maps cannot be built) the passes plan none.
  cuda::Target no_tma{90};
  no_tma.tma = false;
  const auto without = cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", 90, false}), no_tma);
  EXPECT_TRUE(without.tensor_maps.empty());
  EXPECT_EQ(without.threads, 256);
  EXPECT_NE(without.source.find("tl::cp_async<16>"), std::string::npos);

  // A tile whose rows are 24 bytes (not whole 16-byte chunks): no TMA, so no producer warpgroup.
  auto narrow = T::prim_func("narrow_rows", [&] {
    auto A = T::Tensor("A", {256, 12}, T::float16);
    auto O = T::Tensor("O", {64, 12}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto As = T::alloc_shared({64, 12}, T::float16, "As");
      auto acc = T::alloc_fragment({64, 12}, T::float32, "acc");
      T::clear(acc);
      T::Pipelined(4, 2, [&](T::Expr k) {
        T::copy(A(k * 64, 0), As);
        T::copy(As, acc);
      });
      T::copy(acc, O);
    });
  });
  const auto s = spec_for(narrow);
  EXPECT_TRUE(s.tensor_maps.empty());
  EXPECT_EQ(s.threads, 128);
  // The source says why, for whoever dumps it looking for the fast path.
  EXPECT_NE(s.source.find("// no warp specialization: the copy from A into As cannot go by TMA because the rows of As are not "
                          "whole 16-byte chunks"),
            std::string::npos)
      << s.source.substr(0, 300);
}

TEST(WarpSpecialization, ProducerWaitsForConsumersWhenTilesReuseEarlierMemory) {
  const auto f = ws_kernels::staged_tile_reuses_memory();
  const auto s = spec_for(f);
  ASSERT_EQ(s.tensor_maps.size(), 1u);
  EXPECT_NE(s.source.find("Xs = reinterpret_cast<half_t*>(smem + 0)"), std::string::npos);
  EXPECT_NE(s.source.find("As = reinterpret_cast<half_t*>(smem + 0)"), std::string::npos);
  EXPECT_NE(s.source.find("tl::named_barrier_sync<2, 160>()"), std::string::npos);    // the producer warp
  EXPECT_NE(s.source.find("tl::named_barrier_arrive<2, 160>()"), std::string::npos);  // the consumers, at the loop
}

// T::persistent: the kernel walks the grid itself, rasterized, with and without warp specialization,
// and the result compiles for both targets.
TEST(WarpSpecialization, PersistentKernelsWalkTheGrid) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  for (int sm : {80, 90}) {
    SCOPED_TRACE(sm);
    const auto s = gemm_spec("M=2000,N=1000,K=300,BM=128,BN=128,BK=64,threads=256,stages=3,persistent=1", sm);
    EXPECT_TRUE(s.persistent);
    EXPECT_NE(s.source.find("const int ts_grid_x = 8, ts_grid_y = 16, ts_grid_z = 1;"), std::string::npos);
    EXPECT_NE(s.source.find("for (int ts_point = blockIdx.x; ts_point < ts_grid_x * ts_grid_y * ts_grid_z; ts_point += gridDim.x)"),
              std::string::npos);
    EXPECT_NE(s.source.find("tl::rasterize(ts_point % (ts_grid_x * ts_grid_y), ts_grid_x, ts_grid_y, 10, false)"), std::string::npos);
    EXPECT_EQ(s.tensor_maps.empty(), sm == 80);
    EXPECT_FALSE(jit::compile_nvrtc(s.source, s.name, cuda::Target{sm}.arch(), {}).cubin.empty());
  }
}

}  // namespace
}  // namespace tilescale
