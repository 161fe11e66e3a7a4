// The flash_attention example with its knobs away from the defaults passes its own check on the CPU
// backend: bfloat16 inputs and output, 128-row query tiles over 8 warps (the shape that is one
// wgmma warpgroup per 64 rows on Hopper), wider key tiles, one and three stages, with and without
// the causal mask and with a sequence that is not a multiple of the tiles.
#include <ostream>

#include "example.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

struct KnobCase {
  std::string label;
  std::string spec;  // over the example's test sizes
  friend std::ostream& operator<<(std::ostream& os, const KnobCase& c) { return os << c.label << " {" << c.spec << "}"; }
};

class FlashAttentionKnobs : public ::testing::TestWithParam<KnobCase> {};

TEST_P(FlashAttentionKnobs, PassesItsCheck) {
  const examples::Example* fa = examples::find_example("flash_attention");
  ASSERT_NE(fa, nullptr);
  const examples::Sizes sizes = examples::parse_sizes(GetParam().spec, fa->test_sizes);
  Kernel k = cpu(fa->build(sizes));
  for (std::uint64_t seed : {1, 2}) {
    const examples::CheckResult r = fa->check(k, sizes, seed);
    EXPECT_TRUE(r.passed()) << GetParam() << " seed " << seed << ": max relative error " << r.max_relative_error
                            << " > tolerance " << r.tolerance;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, FlashAttentionKnobs,
    ::testing::Values(KnobCase{"bf16", "bf16=1"}, KnobCase{"bf16_causal_ragged", "bf16=1,causal=1,S=100"},
                      KnobCase{"bm128_threads256", "BM=128,threads=256"},
                      KnobCase{"bm128_threads256_causal_ragged", "BM=128,threads=256,causal=1,S=100"},
                      KnobCase{"bm128_bn128_threads256_bf16_stages3", "BM=128,BN=128,threads=256,stages=3,bf16=1,S=200"},
                      KnobCase{"bn32_stages1_causal", "BN=32,stages=1,causal=1"}),
    [](const auto& info) { return info.param.label; });

}  // namespace
}  // namespace tilescale::test
