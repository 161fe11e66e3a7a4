// Knobs of the example programs that cannot work: a CompileError naming the knob with its value
// (and the example, for its own knobs) and what it may be, before any pass runs.
#include "example.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

lang::PrimFunc build_flash_attention(const std::string& spec) {
  const examples::Example* fa = examples::find_example("flash_attention");
  return fa->build(examples::parse_sizes(spec, fa->default_sizes));
}

// Switches (examples/reference.h, flag_of) are 0 or 1 in every example.
TEST(ExampleKnobErrors, SwitchesAreZeroOrOne) {
  EXPECT_COMPILE_ERROR(build_flash_attention("bf16=2"), "bf16=2", "is a switch", "bf16=0 or bf16=1");
  EXPECT_COMPILE_ERROR(build_flash_attention("persistent=3"), "persistent=3", "persistent=0 or persistent=1");
  EXPECT_COMPILE_ERROR(build_flash_attention("causal=7"), "causal=7", "causal=0 or causal=1");
  const examples::Example* gemm = examples::find_example("gemm");
  EXPECT_COMPILE_ERROR(gemm->build(examples::parse_sizes("stage_c=2", gemm->default_sizes)), "stage_c=2",
                       "stage_c=0 or stage_c=1");
}

TEST(FlashAttentionKnobErrors, ThreadsAreWholeWarps) {
  EXPECT_COMPILE_ERROR(build_flash_attention("threads=100"), "flash_attention", "threads=100", "multiple of 32",
                       "from 32 to 1024");
  EXPECT_COMPILE_ERROR(build_flash_attention("threads=0"), "threads=0", "multiple of 32");
  EXPECT_COMPILE_ERROR(build_flash_attention("threads=2048,BM=1024"), "threads=2048", "from 32 to 1024");
}

TEST(FlashAttentionKnobErrors, BlockMIs16RowsPerWarp) {
  EXPECT_COMPILE_ERROR(build_flash_attention("BM=96"), "flash_attention", "BM=96", "4 warps of threads=128",
                       "multiple of 64", "BM=128 with threads=256");
  EXPECT_COMPILE_ERROR(build_flash_attention("BM=64,threads=256"), "BM=64", "8 warps of threads=256",
                       "multiple of 128");
  EXPECT_COMPILE_ERROR(build_flash_attention("BM=0"), "BM=0", "positive multiple of 64");
}

TEST(FlashAttentionKnobErrors, BlockNIsAMultipleOf16) {
  EXPECT_COMPILE_ERROR(build_flash_attention("BN=40"), "flash_attention", "BN=40", "multiple of 16", "BN=64");
  EXPECT_COMPILE_ERROR(build_flash_attention("BN=0"), "BN=0", "positive multiple of 16");
}

TEST(FlashAttentionKnobErrors, AtLeastOneStage) {
  EXPECT_COMPILE_ERROR(build_flash_attention("stages=0"), "flash_attention", "stages=0", "stages=1 or more");
}

}  // namespace
}  // namespace tilescale::test
