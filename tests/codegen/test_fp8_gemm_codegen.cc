// The gemm example with fp8=1 (A [M, K] and B^T [N, K] in float8_e4m3): on sm_90a a tile whose
// warps form whole 64-row warpgroups becomes fp8 wgmma (k32) over TMA-loaded, K-major swizzled
// tiles; otherwise, and on sm_89, mma.sync m16n8k32. Compiled with NVRTC, no GPU needed.
#include <gtest/gtest.h>

#include "codegen/cuda/codegen.h"
#include "example.h"
#include "jit/nvrtc.h"
#include "pipeline.h"
#include "tilescale/tilescale.h"
#include "skips.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

T::PrimFunc fp8_gemm(const std::string& knobs) {
  const auto* ex = examples::find_example("gemm");
  return ex->build(examples::parse_sizes(knobs, ex->default_sizes));
}

TEST(Fp8GemmCodegen, HopperUsesFp8Wgmma) {
  SKIP_WITHOUT_NVRTC();
  struct Case {
    const char* knobs;
    const char* instruction;  // the wgmma shape each warpgroup issues
  };
  // K-major rows of 128 bytes (128B swizzle), 64 (64B), 32 (32B) and 256 (two 128-byte panels).
  for (const Case& c : {Case{"M=8192,N=8192,K=8192,BM=128,BN=256,BK=128,threads=256,stages=4,fp8=1", "m64n256k32.f32.e4m3.e4m3"},
                        Case{"M=1000,N=1000,K=1000,BM=128,BN=128,BK=64,threads=256,stages=3,fp8=1", "m64n128k32.f32.e4m3.e4m3"},
                        Case{"M=200,N=136,K=72,BM=64,BN=128,BK=32,threads=128,stages=2,fp8=1,bf16=1", "m64n128k32.f32.e4m3.e4m3"},
                        Case{"M=512,N=512,K=512,BM=128,BN=256,BK=256,threads=256,stages=2,fp8=1", "m64n256k32.f32.e4m3.e4m3"},
                        Case{"M=512,N=512,K=512,BM=128,BN=128,BK=128,threads=512,stages=3,fp8=1", "m64n64k32.f32.e4m3.e4m3"}}) {
    SCOPED_TRACE(c.knobs);
    const auto func = fp8_gemm(c.knobs);
    const std::string source = generate_cuda(func, "sm_90a");
    EXPECT_NE(source.find("tl::gemm_ss_wgmma_async<"), std::string::npos);
    EXPECT_NE(source.find(", false, true, fp8_e4m3_t, float>("), std::string::npos);
    const std::string ptx = generate_ptx(func, "sm_90a");
    EXPECT_NE(ptx.find("wgmma.mma_async.sync.aligned.m64n"), std::string::npos);
    EXPECT_NE(ptx.find(std::string("wgmma.mma_async.sync.aligned.") + c.instruction), std::string::npos);
    EXPECT_EQ(ptx.find("mma.sync.aligned"), std::string::npos);
    // The stages come in by TMA from the producer warpgroup.
    EXPECT_NE(ptx.find("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"), std::string::npos);
    // ptxas takes it (register allocation, the wgmma operand rules).
    EXPECT_FALSE(jit::compile_nvrtc(source, func.name(), "sm_90a", {}).cubin.empty());
  }
}

// TMA boxes of 1-byte elements: a row of 128 fp8 values is one 128-byte swizzled box row; 256
// values are two panels, a box each.
TEST(Fp8GemmCodegen, TensorMapsOfFp8Tiles) {
  const auto spec = [](const std::string& knobs) {
    return cuda::generate(run_pipeline(fp8_gemm(knobs).node(), PipelineOptions{Target::CUDA, "", 90}), cuda::Target{90});
  };
  const auto s = spec("M=1024,N=1024,K=1024,BM=128,BN=256,BK=128,threads=256,stages=4,fp8=1");
  ASSERT_EQ(s.tensor_maps.size(), 3u);  // A and B, then the store of C
  EXPECT_EQ(s.tensor_maps[0].box, (std::vector<std::int64_t>{128, 128}));
  EXPECT_EQ(s.tensor_maps[0].swizzle_bytes, 128);
  EXPECT_EQ(s.tensor_maps[1].box, (std::vector<std::int64_t>{128, 256}));
  EXPECT_EQ(s.tensor_maps[1].swizzle_bytes, 128);
  const auto narrow = spec("M=1024,N=1024,K=1024,BM=128,BN=128,BK=64,threads=256,stages=3,fp8=1");
  ASSERT_EQ(narrow.tensor_maps.size(), 3u);
  EXPECT_EQ(narrow.tensor_maps[0].swizzle_bytes, 64);
  const auto panels = spec("M=1024,N=1024,K=1024,BM=128,BN=256,BK=256,threads=256,stages=2,fp8=1");
  ASSERT_EQ(panels.tensor_maps.size(), 3u);
  EXPECT_EQ(panels.tensor_maps[0].box, (std::vector<std::int64_t>{128, 128}));
}

// Two warps form no warpgroup: mma.sync m16n8k32 on Hopper too; sm_89 has no wgmma at all.
TEST(Fp8GemmCodegen, MmaSyncWhereWgmmaDoesNotFit) {
  SKIP_WITHOUT_NVRTC();
  const auto* ex = examples::find_example("gemm");
  auto sizes = ex->test_sizes;
  sizes["fp8"] = 1;
  sizes["threads"] = 64;
  const auto func = ex->build(sizes);
  for (const char* arch : {"sm_90a", "sm_89"}) {
    SCOPED_TRACE(arch);
    const std::string ptx = generate_ptx(func, arch);
    EXPECT_EQ(ptx.find("wgmma"), std::string::npos);
    EXPECT_NE(ptx.find("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32"), std::string::npos);
    EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(func, arch), func.name(), arch, {}).cubin.empty());
  }
}

}  // namespace
}  // namespace tilescale
