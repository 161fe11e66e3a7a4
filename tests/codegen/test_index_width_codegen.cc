// 64-bit safety in the generated CUDA: constants beyond int32 are never cut, and index arithmetic
// into dimensions that can pass 2^31 (constant extents above 2^30, symbolic ones) is 64-bit, while
// small constant dimensions keep their int32 arithmetic. Compiled with NVRTC, no GPU needed.
#include <gtest/gtest.h>

#include "example.h"
#include "jit/nvrtc.h"
#include "tilescale/tilescale.h"
#include "skips.h"
#include "wide_programs.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;
using test::wide::add_one_1d;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void expect_compiles(const T::PrimFunc& f) {
  for (const char* arch : {"sm_80", "sm_90a"})
    EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(f, arch), f.name(), arch, {}).cubin.empty()) << arch;
}

// The bug report: `tilescale dump elementwise_add --cuda --size M=3000000001,N=64` bounded the rows
// by (-1294967295) and indexed them in int32.
TEST(IndexWidthCodegen, ElementwiseAddWithRowsBeyondInt32) {
  SKIP_WITHOUT_NVRTC();
  const auto* ex = examples::find_example("elementwise_add");
  const auto f = ex->build(examples::parse_sizes("M=3000000001,N=64", ex->default_sizes));
  const std::string source = generate_cuda(f, "sm_80");
  EXPECT_FALSE(contains(source, "-1294967295")) << source;
  EXPECT_TRUE(contains(source, "if ((long long)by * 32LL + (long long)(tx / 128) < 3000000001LL && bx * 128 + tx % 128 < 64)"))
      << source;
  EXPECT_TRUE(contains(source, "C[((long long)by * 32LL + (long long)(tx / 128)) * C_stride0 + bx * 128 + tx % 128]"));
  EXPECT_TRUE(contains(source, "B[bx * 128 + tx % 128]"));  // N = 64: int32 indices
  expect_compiles(f);
}

TEST(IndexWidthCodegen, OneDimensionalTensorBeyond2To31) {
  SKIP_WITHOUT_NVRTC();
  for (const T::Expr& n : {T::Expr(3'000'000'077LL), T::dynamic("N", T::int64)}) {
    const auto f = add_one_1d(n);
    const std::string source = generate_cuda(f, "sm_80");
    SCOPED_TRACE(source.substr(0, 3000));
    EXPECT_TRUE(contains(source, "B[(long long)bx * 1024LL + (long long)"));
    EXPECT_TRUE(contains(source, "A[(long long)bx * 1024LL + (long long)"));
    EXPECT_FALSE(contains(source, "A[bx * 1024"));
    EXPECT_FALSE(contains(source, "C[bx * 1024"));
    EXPECT_TRUE(contains(source, "&C[(long long)bx * 1024LL + "));  // the tile copy's vector stores
    expect_compiles(f);
  }
  // The symbolic int64 extent is a 64-bit kernel parameter.
  EXPECT_TRUE(contains(generate_cuda(add_one_1d(T::dynamic("N", T::int64)), "sm_80"), "long long N"));
}

// Small constant shapes (every example at its sizes) keep int32 index arithmetic: no cost there.
TEST(IndexWidthCodegen, SmallConstantShapesKeepInt32Indices) {
  for (const char* name : {"gemm", "softmax", "elementwise_add", "flash_attention"}) {
    const auto* ex = examples::find_example(name);
    for (const char* arch : {"sm_80", "sm_90a"}) EXPECT_FALSE(contains(generate_cuda(ex->build(ex->default_sizes), arch), "(long long)")) << name << " " << arch;
  }
  EXPECT_FALSE(contains(generate_cuda(add_one_1d(T::Expr(1 << 30)), "sm_80"), "(long long)"));
  EXPECT_TRUE(contains(generate_cuda(add_one_1d(T::Expr((1 << 30) + 1)), "sm_80"), "(long long)"));
}

// A symbolic int32 extent is at most 2^31-1 (checked at the call), but an index past its last
// tile could still pass 2^31: 64-bit too.
TEST(IndexWidthCodegen, SymbolicInt32DimensionsUse64BitIndices) {
  SKIP_WITHOUT_NVRTC();
  const auto f = add_one_1d(T::dynamic("N"));
  const std::string source = generate_cuda(f, "sm_80");
  EXPECT_TRUE(contains(source, "int N"));
  EXPECT_TRUE(contains(source, "B[(long long)bx * 1024LL + (long long)")) << source.substr(0, 3000);
  expect_compiles(f);
}

// TMA coordinates are 32-bit: a gemm over 3e9 rows loads and stores through the threads instead,
// and says why.
TEST(IndexWidthCodegen, NoTmaBeyond2To31Rows) {
  SKIP_WITHOUT_NVRTC();
  const auto* ex = examples::find_example("gemm");
  const auto f = ex->build(examples::parse_sizes("M=3000000000", ex->default_sizes));
  const std::string source = generate_cuda(f, "sm_90a");
  EXPECT_TRUE(contains(source, "A may have more than 2^31-1 elements along dim 0, beyond the TMA's 32-bit coordinates"));
  EXPECT_FALSE(contains(source, "tma_load"));
  EXPECT_TRUE(contains(source, "&A[((long long)by * 128LL + "));
  EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), "sm_90a", {}).cubin.empty());
}

}  // namespace
}  // namespace tilescale
