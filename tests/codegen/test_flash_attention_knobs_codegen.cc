// The flash_attention knobs the benchmark uses (bench/flash_attention_sdpa.py) compile with NVRTC
// (no GPU needed): bfloat16 with 64-row tiles over 4 warps and 128-row tiles over 8 warps both run
// their two gemms on bf16 wgmma on sm_90a, and on mma.sync on sm_80 where the tiles fit its shared
// memory (128x128 tiles with D=128 in 2 stages need 192 KB, more than an A100's 163 KB: a
// CompileError that says so).
#include <gtest/gtest.h>

#include "example.h"
#include "jit/nvrtc.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

TEST(FlashAttentionKnobsCodegen, Bf16TilesUseWgmmaOnHopper) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* fa = examples::find_example("flash_attention");
  ASSERT_NE(fa, nullptr);
  struct Case {
    const char* spec;
    bool fits_sm80;
  };
  for (const Case& c : {Case{"D=128,bf16=1", true}, Case{"D=128,bf16=1,BM=128,BN=64,threads=256,stages=3", true},
                        Case{"D=128,bf16=1,BM=128,BN=128,threads=256,causal=1", true},
                        Case{"D=128,bf16=1,BM=128,BN=128,threads=256,stages=3,causal=1", false}}) {
    SCOPED_TRACE(c.spec);
    const auto func = fa->build(examples::parse_sizes(c.spec, fa->default_sizes));
    const std::string hopper = generate_ptx(func, "sm_90a");
    EXPECT_NE(hopper.find("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16"), std::string::npos);
    if (!c.fits_sm80) {
      EXPECT_THROW(
          {
            try {
              generate_ptx(func, "sm_80");
            } catch (const CompileError& e) {
              EXPECT_NE(std::string(e.what()).find("229376 bytes of shared memory"), std::string::npos) << e.what();
              throw;
            }
          },
          CompileError);
      continue;
    }
    const std::string ampere = generate_ptx(func, "sm_80");
    EXPECT_EQ(ampere.find("wgmma"), std::string::npos);
    EXPECT_NE(ampere.find("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"), std::string::npos);
  }
}

}  // namespace
}  // namespace tilescale
