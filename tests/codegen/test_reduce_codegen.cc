// Integer reductions compile to integer code: the accumulator, the lane shuffles and the workspace
// have the integer type of the reduction (64-bit for 64-bit types), with no float or double on the
// way (a float32 intermediate once cut int64 values around 1e12 to 24 significant bits). Compiled
// with NVRTC, no GPU needed.
#include <gtest/gtest.h>

#include <regex>

#include "jit/nvrtc.h"
#include "tilescale/tilescale.h"
#include "skips.h"

namespace tilescale {
namespace {

namespace T = tilescale::lang;

// Every reduce kind over the three CUDA lowerings: rows held by the threads of one warp (shuffles
// only), the same rows over 4 warps (shuffles, then a shared workspace), and columns (through
// shared memory).
T::PrimFunc all_reductions(DataType dt, int threads) {
  return T::prim_func("int_reductions", [&] {
    auto A = T::Tensor("A", {8, 128}, dt);
    auto O = T::Tensor("O", {10, 128}, dt);
    T::Kernel(1, T::threads(threads), [&](T::Expr) {
      auto F = T::alloc_fragment({8, 128}, dt, "F");
      auto Rows = T::alloc_fragment({8}, dt, "Rows");
      auto Cols = T::alloc_fragment({128}, dt, "Cols");
      T::copy(A, F);
      int k = 0;
      for (auto reduce : {T::reduce_sum, T::reduce_max, T::reduce_min, T::reduce_abssum, T::reduce_absmax}) {
        reduce(F, Rows, 1, false);
        reduce(F, Cols, 0, true);
        T::copy(Rows, O(k++, 0));
        T::copy(Cols, O(k++, 0));
      }
    });
  });
}

TEST(IntegerReduceCodegen, AccumulatesInTheIntegerTypeWithoutFloats) {
  SKIP_WITHOUT_NVRTC();
  struct Case {
    DataType dt;
    const char* acc;  // the accumulator's C type
  };
  for (const Case& c : {Case{DataType::Int8, "int"}, Case{DataType::Int16, "int"}, Case{DataType::Int32, "int"},
                        Case{DataType::Int64, "long long"}, Case{DataType::UInt8, "unsigned int"},
                        Case{DataType::UInt16, "unsigned int"}, Case{DataType::UInt32, "unsigned int"},
                        Case{DataType::UInt64, "unsigned long long"}})
    for (int threads : {32, 128}) {
      SCOPED_TRACE(std::string(name(c.dt)) + " on " + std::to_string(threads) + " threads");
      const auto f = all_reductions(c.dt, threads);
      const std::string source = generate_cuda(f, "sm_80");
      EXPECT_EQ(source.find("float"), std::string::npos) << source;
      EXPECT_EQ(source.find("double"), std::string::npos);
      const std::string acc = c.acc;
      EXPECT_NE(source.find(acc + " part["), std::string::npos);  // per-row accumulators
      EXPECT_NE(source.find(acc + " acc;"), std::string::npos);   // per-column accumulators
      EXPECT_NE(source.find("tl::reduce_identity<1, " + acc + ">()"), std::string::npos);
      EXPECT_NE(source.find("tl::absolute<" + acc + ">("), std::string::npos);
      if (threads > 32)
        EXPECT_NE(source.find(acc + "* ws"), std::string::npos);  // warps meet in a workspace of the type
      // The PTX: integer instructions only; a 64-bit accumulator is reduced by 64-bit operations.
      const std::string ptx = generate_ptx(f, "sm_80");
      EXPECT_FALSE(std::regex_search(ptx, std::regex(R"(\.f(32|64)\b)"))) << "float instruction in the PTX";
      EXPECT_NE(ptx.find("shfl.sync.bfly"), std::string::npos);
      if (bits(c.dt) == 64) {
        const std::string sign = is_signed(c.dt) ? "s64" : "u64";
        EXPECT_NE(ptx.find("max." + sign), std::string::npos);
        EXPECT_NE(ptx.find("min." + sign), std::string::npos);
      }
      EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(f, "sm_90a"), f.name(), "sm_90a", {}).cubin.empty());
    }
}

// A float64 reduction accumulates in double (it went through float32 too).
TEST(IntegerReduceCodegen, Float64AccumulatesInDouble) {
  SKIP_WITHOUT_NVRTC();
  const std::string source = generate_cuda(all_reductions(DataType::Float64, 128), "sm_80");
  EXPECT_EQ(source.find("float"), std::string::npos) << source;
  EXPECT_NE(source.find("double part["), std::string::npos);
}

// Integer prefix sums too: in the integer type, no float on the way.
TEST(IntegerReduceCodegen, CumsumStaysInteger) {
  SKIP_WITHOUT_NVRTC();
  for (DataType dt : {DataType::Int32, DataType::Int64, DataType::UInt64}) {
    auto f = T::prim_func("int_cumsum", [&] {
      auto X = T::Tensor("X", {8, 100}, dt);
      auto Y = T::Tensor("Y", {8, 100}, dt);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto S = T::alloc_shared({8, 100}, dt, "S");
        T::copy(X, S);
        T::cumsum(S, Y, 1, true);
      });
    });
    const std::string source = generate_cuda(f, "sm_80");
    EXPECT_EQ(source.find("float"), std::string::npos) << source;
    EXPECT_NE(source.find("run = tl::reduce_combine<0, "), std::string::npos) << source;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), "sm_80", {}).cubin.empty());
  }
}

// T::cumsum on fragments (issue 17): the registers go through the workspace, a barrier after they
// are stored and another before they are read back, and the scan runs there; in place, from a
// fragment to shared memory and from shared memory to a fragment, for sm_80 and sm_90a.
TEST(CumsumCodegen, FragmentsScanThroughTheWorkspace) {
  SKIP_WITHOUT_NVRTC();
  auto f = T::prim_func("fragment_cumsum", [&] {
    auto X = T::Tensor("X", {16, 48}, T::float32);
    auto Y = T::Tensor("Y", {16, 48}, T::float32);
    auto Z = T::Tensor("Z", {16, 48}, T::float16);
    auto W = T::Tensor("W", {16, 48}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto F = T::alloc_fragment({16, 48}, T::float32, "F");
      auto S = T::alloc_shared({16, 48}, T::float16, "S");
      auto G = T::alloc_fragment({16, 48}, T::float32, "G");
      T::copy(X, F);
      T::cumsum(F, F, 1);
      T::copy(F, Y);
      T::cumsum(F, S, 0, /*reverse=*/true);
      T::copy(S, Z);
      T::cumsum(S, G, 1);
      T::copy(G, W);
    });
  });
  for (const char* arch : {"sm_80", "sm_90a"}) {
    SCOPED_TRACE(arch);
    const std::string source = generate_cuda(f, arch);
    // Staged copies: F twice in place (source and result), F as a source, G as a result.
    std::size_t staged = 0;
    for (auto at = source.find("float* ws"); at != std::string::npos; at = source.find("float* ws", at + 1)) ++staged;
    EXPECT_EQ(staged, 4u) << source;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty());
  }
}

// Rows of an int8 gemm's int32 accumulator (the mma-rows lowering: quad shuffles, then warps
// through shared memory) reduce in int.
TEST(IntegerReduceCodegen, Int32AccumulatorRows) {
  SKIP_WITHOUT_NVRTC();
  auto f = T::prim_func("int8_gemm_rows", [&] {
    auto A = T::Tensor("A", {64, 32}, T::int8);
    auto B = T::Tensor("B", {64, 32}, T::int8);
    auto O = T::Tensor("O", {64}, T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto As = T::alloc_shared({64, 32}, T::int8, "As");
      auto Bs = T::alloc_shared({64, 32}, T::int8, "Bs");
      auto C = T::alloc_fragment({64, 64}, T::int32, "C");
      auto R = T::alloc_fragment({64}, T::int32, "R");
      T::copy(A, As);
      T::copy(B, Bs);
      T::gemm(As, Bs, C, false, true, T::GemmWarpPolicy::FullCol, true);
      T::reduce_max(C, R, 1);
      T::copy(R, O);
    });
  });
  for (const char* arch : {"sm_80", "sm_90a"}) {
    const std::string source = generate_cuda(f, arch);
    EXPECT_NE(source.find("int part["), std::string::npos) << arch;
    EXPECT_NE(source.find("tl::lane_reduce<3, 1, int>("), std::string::npos) << arch;
    EXPECT_NE(source.find("int* ws"), std::string::npos) << arch;
    EXPECT_EQ(source.find("float"), std::string::npos) << arch;
    EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch;
  }
}

}  // namespace
}  // namespace tilescale
