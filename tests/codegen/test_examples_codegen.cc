// Every example's generated CUDA compiles with NVRTC for sm_80 and sm_90a (no GPU needed), and the
// generated source has the shape the design promises.
#include <gtest/gtest.h>

#include "example.h"
#include "gemm_sr_kernels.h"
#include "jit/nvrtc.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

struct Case {
  std::string example;
  std::string arch;
  std::string sizes;  // "" : the example's test sizes
};

std::string label(const testing::TestParamInfo<Case>& info) {
  std::string s = info.param.example + "_" + info.param.arch + (info.param.sizes.empty() ? "" : "_default");
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class ExampleCodegen : public testing::TestWithParam<Case> {};

TEST_P(ExampleCodegen, CompilesWithNvrtc) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* ex = examples::find_example(GetParam().example);
  ASSERT_NE(ex, nullptr);
  const auto sizes = GetParam().sizes.empty() ? ex->test_sizes : examples::parse_sizes(GetParam().sizes, ex->default_sizes);
  const auto func = ex->build(sizes);
  const std::string source = generate_cuda(func, GetParam().arch);
  EXPECT_NE(source.find("extern \"C\" __global__ void __launch_bounds__"), std::string::npos);
  const auto bin = jit::compile_nvrtc(source, func.name(), GetParam().arch, {});
  EXPECT_FALSE(bin.cubin.empty());
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& ex : examples::all_examples())
    for (const char* arch : {"sm_80", "sm_90a"}) out.push_back({ex.name, arch, ""});
  out.push_back({"gemm", "sm_90a", "M=8192,N=8192,K=8192"});
  out.push_back({"flash_attention", "sm_90a", "causal=1"});
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, ExampleCodegen, testing::ValuesIn(cases()), label);

TEST(Codegen, GemmUsesMmaAndCpAsyncInPtx) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* ex = examples::find_example("gemm");
  const std::string ptx = generate_ptx(ex->build(ex->test_sizes), "sm_80");
  EXPECT_NE(ptx.find("mma.sync.aligned.m16n8k16"), std::string::npos);
  EXPECT_NE(ptx.find("cp.async.cg.shared.global"), std::string::npos);
  EXPECT_NE(ptx.find("ldmatrix.sync.aligned"), std::string::npos);
}

// On sm_90a a gemm whose warps come in whole warpgroups of 64 rows becomes wgmma (A from shared
// memory or registers); the same program for sm_80, or with 4 warps on a 128-row tile, stays on
// mma.sync.
TEST(Codegen, HopperGemmUsesWgmma) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* ex = examples::find_example("gemm");
  for (const char* spec : {"BM=128,BN=256,BK=64,threads=256", "BM=128,BN=128,BK=32,threads=256,stages=4",
                           "BM=64,BN=128,BK=64,threads=128,stages=2,bf16=1"}) {
    SCOPED_TRACE(spec);
    const auto func = ex->build(examples::parse_sizes(spec, ex->default_sizes));
    EXPECT_NE(generate_ptx(func, "sm_90a").find("wgmma.mma_async.sync.aligned.m64n"), std::string::npos);
    const std::string sm80 = generate_ptx(func, "sm_80");
    EXPECT_EQ(sm80.find("wgmma"), std::string::npos);
    EXPECT_NE(sm80.find("mma.sync.aligned.m16n8k16"), std::string::npos);
  }
  // FlashAttention: Q·K^T from shared memory and P·V with P in registers, one warpgroup of 64 rows.
  const auto* fa = examples::find_example("flash_attention");
  for (const char* spec : {"D=64", "D=128,causal=1"}) {
    const auto func = fa->build(examples::parse_sizes(spec, fa->default_sizes));
    EXPECT_NE(generate_cuda(func, "sm_90a").find("tl::gemm_rs_wgmma<"), std::string::npos) << spec;
    EXPECT_NE(generate_ptx(func, "sm_90a").find("wgmma.mma_async"), std::string::npos) << spec;
  }
  // The GEMM main loop on Hopper: TMA loads from a producer warpgroup that hands its registers to
  // the consumers; nothing of it on sm_80.
  for (const char* spec : {"BM=128,BN=256,BK=64,threads=256,stages=3", "BM=64,BN=128,BK=64,threads=128,stages=2,bf16=1"}) {
    SCOPED_TRACE(spec);
    const auto func = ex->build(examples::parse_sizes(spec, ex->default_sizes));
    const std::string ptx = generate_ptx(func, "sm_90a");
    EXPECT_NE(ptx.find("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"), std::string::npos);
    EXPECT_NE(ptx.find("mbarrier.try_wait.parity"), std::string::npos);
    EXPECT_EQ(generate_ptx(func, "sm_80").find("cp.async.bulk"), std::string::npos);
  }
  EXPECT_NE(generate_ptx(ex->build(examples::parse_sizes("BM=128,BN=256,BK=64,threads=256", ex->default_sizes)), "sm_90a")
                .find("setmaxnreg.inc.sync.aligned.u32 232"),
            std::string::npos);
  // The README kernel (128 x 128, four warps): one warpgroup, two m64 wgmma tiles; two warps form no
  // warpgroup, so mma.sync.
  const std::string four_warps = generate_ptx(ex->build(ex->default_sizes), "sm_90a");
  EXPECT_NE(four_warps.find("wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16"), std::string::npos);
  EXPECT_EQ(four_warps.find("mma.sync.aligned.m16n8k16"), std::string::npos);
  const std::string two_warps = generate_ptx(ex->build(examples::parse_sizes("threads=64", ex->default_sizes)), "sm_90a");
  EXPECT_EQ(two_warps.find("wgmma"), std::string::npos);
  EXPECT_NE(two_warps.find("mma.sync.aligned.m16n8k16"), std::string::npos);
}

}  // namespace
}  // namespace tilescale

namespace tilescale {
namespace {

namespace T = tilescale::lang;

// Regression: a variable created and freed while lowering one op could hand its generated name to
// a later variable at the same address ("identifier v_1 is undefined" in cumsum after atomic_add).
TEST(Codegen, FreedTemporariesDoNotLendTheirNames) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  auto f = T::prim_func("misc_ops", [&] {
    auto A = T::Tensor("A", {40, 48}, T::float32);
    auto S = T::Tensor("S", {40, 48}, T::float32);
    auto H = T::Tensor("H", {48}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto sh = T::alloc_shared({40, 48}, T::float32, "sh");
      auto out = T::alloc_shared({40, 48}, T::float32, "out");
      T::copy(A, sh);
      T::fill(H, 0);
      T::Parallel(40, 48, [&](T::Expr i, T::Expr j) { T::atomic_add(H(j), sh(i, j)); });
      T::cumsum(sh, out, 1, /*reverse=*/true);
      T::copy(out, S);
    });
  });
  for (const char* arch : {"sm_80", "sm_90a"})
    EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(f, arch), f.name(), arch, {}).cubin.empty()) << arch;
}

// T::copy as device calls, per CopyPlan path: a partial GEMM tile loads by cp.async with zero fill
// at the tensor's edge (tl::cp_async_zfill), falls back to a scalar loop kept rolled (`#pragma
// unroll 1`: unrolled and if-converted it would cost issue slots in the main loop) when a stride is
// not a multiple of the vector, and stores the accumulator by register vectors; softmax moves its
// rows through fragments by tl::load_vector / tl::store_vector. All compile for both targets.
TEST(Codegen, CopyPathsAreDeviceCalls) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  const auto* gemm = examples::find_example("gemm");
  const auto edge = gemm->build(examples::parse_sizes("M=200,N=136,K=72", gemm->default_sizes));
  const auto* softmax = examples::find_example("softmax");
  const auto rows = softmax->build(softmax->default_sizes);
  for (const char* arch : {"sm_80", "sm_90a"}) {
    SCOPED_TRACE(arch);
    const std::string g = generate_cuda(edge, arch), s = generate_cuda(rows, arch);
    const std::string zfill = std::string(arch) == "sm_80" ? "tl::cp_async_zfill<16>(" : "tl::tma_load_2d(";  // sm_90a: TMA
    EXPECT_NE(g.find(zfill), std::string::npos) << g;
    if (std::string(arch) == "sm_80") EXPECT_NE(g.find("#pragma unroll 1\n"), std::string::npos);
    const auto rolled = g.find("#pragma unroll 1");
    if (rolled != std::string::npos) EXPECT_EQ(g.find_first_not_of(" \n", rolled + 16), g.find("for (int it", rolled));
    EXPECT_NE(s.find("tl::load_vector<4, half_t, float>("), std::string::npos) << s;
    EXPECT_NE(s.find("tl::store_vector<4, float, half_t>("), std::string::npos);
    EXPECT_FALSE(jit::compile_nvrtc(g, edge.name(), arch, {}).cubin.empty());
    EXPECT_FALSE(jit::compile_nvrtc(s, rows.name(), arch, {}).cubin.empty());
  }
}

// T::atomic_add compiles for every type the GPU adds atomically, from a fragment, from a shared
// tile and as one scalar (tl::atomic_add's overloads, device/tilescale/common.h).
TEST(Codegen, AtomicAddCompilesForEveryTypeFromEverySource) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  for (const DataType dt : {DataType::Float32, DataType::Float64, DataType::Float16, DataType::BFloat16, DataType::Int32,
                            DataType::UInt32, DataType::Int64, DataType::UInt64}) {
    auto f = T::prim_func("atomic_add_kinds", [&] {
      auto A = T::Tensor("A", {64}, dt);
      auto H = T::Tensor("H", {64}, dt);
      T::Kernel(1, T::threads(64), [&](T::Expr) {
        auto sh = T::alloc_shared({64}, dt, "sh");
        auto frag = T::alloc_fragment({64}, dt, "frag");
        T::copy(A, sh);
        T::copy(A, frag);
        T::atomic_add(H, frag);
        T::atomic_add(H, sh);
        T::atomic_add(H(3), 1);
      });
    });
    for (const char* arch : {"sm_80", "sm_90a"})
      EXPECT_FALSE(jit::compile_nvrtc(generate_cuda(f, arch), f.name(), arch, {}).cubin.empty()) << name(dt) << " " << arch;
  }
}

// T::gemm with B in registers lowers to tl::gemm_sr (A from shared memory by ldmatrix, B from the
// fragment), and compiles for both architectures: every transpose, B brought in through shared
// memory or from global memory, serial and pipelined K loops, and B as the converted accumulator
// of an earlier gemm.
TEST(Codegen, GemmWithBInRegistersCompiles) {
  const std::string why = jit::nvrtc_unavailable_reason();
  if (!why.empty()) GTEST_SKIP() << "NVRTC unavailable: " << why;
  struct Case {
    bool ta, tb, through_shared;
    DataType dt;
    int stages;
  };
  std::vector<T::PrimFunc> funcs;
  for (const Case& c : {Case{false, false, true, DataType::Float16, 3}, Case{false, true, false, DataType::Float16, 0},
                        Case{true, false, false, DataType::Float16, 2}, Case{true, true, true, DataType::Float16, 0},
                        Case{false, false, false, DataType::BFloat16, 3}})
    funcs.push_back(sr_kernels::gemm_b_in_registers(70, 100, 83, c.ta, c.tb, c.dt, c.through_shared, c.stages));
  funcs.push_back(sr_kernels::gemm_b_from_accumulator(70, 64, 32, 48, DataType::Float16));
  funcs.push_back(sr_kernels::gemm_b_from_accumulator(70, 64, 32, 48, DataType::BFloat16));
  for (const auto& f : funcs)
    for (const char* arch : {"sm_80", "sm_90a"}) {
      const std::string source = generate_cuda(f, arch);
      EXPECT_NE(source.find("tl::gemm_sr<"), std::string::npos) << source;
      EXPECT_FALSE(jit::compile_nvrtc(source, f.name(), arch, {}).cubin.empty()) << arch << "\n" << source;
    }
}

}  // namespace
}  // namespace tilescale
