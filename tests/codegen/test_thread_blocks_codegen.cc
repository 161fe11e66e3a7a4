// 2-D and 3-D thread blocks (T::threads(x, y[, z])) launch as 1-D blocks of x * y * z threads whose
// indices the front end derives from the thread number; compiled with NVRTC for sm_80 and sm_90a
// (no GPU needed; the GPU test runs them: tests/gpu/test_tile_ops_gpu.cc).
#include <gtest/gtest.h>

#include "jit/nvrtc.h"
#include "skips.h"
#include "thread_level_programs.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

TEST(ThreadBlocks, TwoAndThreeDimensionalBlocksCompileWithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  for (const auto& f : {test::thread_level::gemv_on_a_2d_block(), test::thread_level::thread_indices_of_a_3d_block()})
    for (const char* arch : {"sm_80", "sm_90a"}) {
      const std::string source = generate_cuda(f, arch);
      EXPECT_NE(source.find("__launch_bounds__(" + std::to_string(f.name() == "gemv_2d" ? 128 : 64) + ")"), std::string::npos) << source;
      EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << f.name() << " " << arch;
    }
}

// Blocks that are not whole warps: the tile ops lower without warp shuffles (a row reduction goes
// through shared memory), and a 2-D block of 4 x 4 threads runs the GEMV.
TEST(ThreadBlocks, BlocksThatAreNotWholeWarpsCompileWithNvrtc) {
  SKIP_WITHOUT_NVRTC();
  for (int threads : {16, 48, 7})
    for (const char* arch : {"sm_80", "sm_90a"}) {
      const auto f = test::thread_level::tile_ops_on_a_block_of(threads);
      const std::string source = generate_cuda(f, arch);
      EXPECT_NE(source.find("__launch_bounds__(" + std::to_string(threads) + ")"), std::string::npos) << source;
      EXPECT_EQ(source.find("lane_reduce"), std::string::npos) << threads << " " << arch;
      EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << threads << " " << arch;
    }
  const auto gemv = test::thread_level::gemv_on_a_2d_block(4, 4);
  EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(gemv, "sm_80"), gemv.name(), "sm_80", {}).cubin.empty());
}

}  // namespace
}  // namespace tilescale
