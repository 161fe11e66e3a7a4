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

// Size specs (the CLI's --size, the C ABI's sizes): values that do not fit in 64 bits are errors, not
// saturated to 2^63-1, and a size given twice is an error, not "the last one wins".
TEST(SizeSpecErrors, ValueBeyond64Bits) {
  const examples::Example* gemm = examples::find_example("gemm");
  EXPECT_RUNTIME_ERROR(examples::parse_sizes("M=99999999999999999999999", gemm->default_sizes),
                       "cannot parse sizes \"M=99999999999999999999999\" because the value of M (99999999999999999999999) "
                       "does not fit in 64 bits; sizes go up to 9223372036854775807");
  EXPECT_RUNTIME_ERROR(examples::parse_sizes("1e20", gemm->default_sizes), "every dimension", "\"1e20\"",
                       "not a non-negative integer");
  EXPECT_RUNTIME_ERROR(examples::parse_sizes("M=1e20", gemm->default_sizes), "value of M", "not a non-negative integer");
}

TEST(SizeSpecErrors, SizeGivenTwice) {
  const examples::Example* gemm = examples::find_example("gemm");
  EXPECT_RUNTIME_ERROR(examples::parse_sizes("M=64,N=32,M=128", gemm->default_sizes),
                       "cannot parse sizes \"M=64,N=32,M=128\" because it sets M more than once; give each size once");
}

}  // namespace
}  // namespace tilescale::test
