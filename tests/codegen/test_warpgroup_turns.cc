// Warpgroup turns (passes/specialize_warps.h, gemm_sm90.h "Turns"): in a warp-specialized loop
// with several consumer warpgroups, 3 or more stages and a wgmma gemm last, each warpgroup issues
// that gemm and the next iteration's first gemm in one turn, and the first gemm's wait covers the
// carried one. Checked on the IR after specialize_warps (and the CUDA compiles); no GPU needed.
#include <gtest/gtest.h>

#include "codegen/cuda/codegen.h"
#include "example.h"
#include "ir/printer.h"
#include "jit/nvrtc.h"
#include "pipeline.h"
#include "tilescale/lang.h"
#include "tilescale/tilescale.h"

namespace tilescale {
namespace {

std::string example_source(const std::string& name, const std::string& knobs, int sm) {
  const auto* ex = examples::find_example(name);
  const auto f = ex->build(examples::parse_sizes(knobs, ex->default_sizes));
  return cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", sm}), cuda::Target{sm}).source;
}

// The example's IR after specialize_warps, which decides the turns.
std::string example_ir(const std::string& name, const std::string& knobs, int sm) {
  const auto* ex = examples::find_example(name);
  const auto f = ex->build(examples::parse_sizes(knobs, ex->default_sizes));
  return ir::print(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "specialize_warps", sm}));
}

// The positions of `parts` in `text`, each searched after the previous one; npos from a missing one on.
std::vector<std::size_t> in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::vector<std::size_t> at;
  std::size_t from = 0;
  for (const auto& p : parts) {
    from = from == std::string::npos ? from : text.find(p, from);
    at.push_back(from);
  }
  return at;
}

TEST(WarpgroupTurns, AttentionCarriesItsValueGemmIntoTheNextIteration) {
  const std::string knobs = "B=1,H=2,S=300,D=128,BM=128,BN=128,threads=256,stages=3,bf16=1";
  const std::string s = example_ir("flash_attention", knobs, 90);
  const std::string turns = "[3, 2]()";
  const auto at = in_order(s, {
                                  "T.tl.warpgroup_turns_start" + turns,
                                  "for k_1 in T.serial(",
                                  // Q·Kᵀ: the first turn is taken here, later ones before P·V.
                                  "if k_1 == 0:",
                                  "T.tl.warpgroup_turns_acquire" + turns,
                                  "T.gemm(Q_shared, K_shared, acc_s, ",
                                  "wgmma_issue_only=1)",
                                  "T.tl.warpgroup_turns_release" + turns,
                                  // One wait for Q·Kᵀ and the previous iteration's P·V, whose
                                  // registers and stage it then hands back.
                                  "T.tl.wgmma_wait[0]()",
                                  "T.tl.wgmma_fence_regs[64](acc_s[0, 0])",
                                  "T.tl.wgmma_fence_regs[64](acc_o[0, 0])",
                                  "T.tl.wgmma_fence_regs[32](acc_s_cast[0, 0])",
                                  "if k_1 > 0:",
                                  "T.tl.mbarrier_arrive(mbarriers[3 + (stages_used[0] + 2) % 3])",
                                  "T.tl.warpgroup_turns_acquire" + turns,
                                  "T.gemm(acc_s_cast, V_shared, acc_o, ",
                                  "wgmma_issue_only=1)",
                                  // After the loop: the last P·V, waited outside any branch.
                                  "            T.tl.wgmma_wait[0]()\n            T.tl.wgmma_fence_regs[64](acc_o[0, 0])",
                                  "T.tl.warpgroup_turns_release" + turns,
                                  "T.tl.mbarrier_arrive(mbarriers[3 + (stages_used[0] + 2) % 3])",
                                  "T.tl.warpgroup_turns_finish" + turns,
                              });
  for (std::size_t i = 0; i < at.size(); ++i) EXPECT_NE(at[i], std::string::npos) << "part " << i << "\n" << s;
  // The stage is released once per iteration, by the next iteration's wait, not at the loop's end.
  EXPECT_EQ(s.find("T.tl.mbarrier_arrive(mbarriers[3 + stages_used[0] % 3])"), std::string::npos);
  const std::string cuda = example_source("flash_attention", knobs, 90);
  EXPECT_EQ(cuda.find("tl::gemm_rs_wgmma<"), std::string::npos);
  EXPECT_NE(cuda.find("tl::gemm_rs_wgmma_issue<"), std::string::npos);
  if (jit::nvrtc_unavailable_reason().empty()) EXPECT_FALSE(jit::compile_nvrtc(cuda, "flash_attention", "sm_90a", {}).cubin.empty());
}

TEST(WarpgroupTurns, ThreeWarpgroupsPassTheTurnAround) {
  const std::string s = example_ir("flash_attention", "B=1,H=2,S=400,D=64,BM=192,BN=64,threads=384,stages=3,causal=1", 90);
  EXPECT_NE(s.find("T.tl.warpgroup_turns_start[3, 3]()"), std::string::npos);
  EXPECT_NE(s.find("T.tl.warpgroup_turns_finish[3, 3]()"), std::string::npos);
}

TEST(WarpgroupTurns, OnlyWhereTheyPay) {
  // Two stages: a stage released one iteration late would leave the producer one stage to fill.
  const std::string two_stages = example_source("flash_attention", "B=1,H=2,S=300,D=128,BM=128,BN=128,threads=256,stages=2", 90);
  EXPECT_EQ(two_stages.find("warpgroup_turns"), std::string::npos);
  EXPECT_NE(two_stages.find("tl::gemm_rs_wgmma<"), std::string::npos);
  // One consumer warpgroup has nobody to take turns with.
  EXPECT_EQ(example_source("flash_attention", "B=1,H=2,S=300,D=64,stages=3", 90).find("warpgroup_turns"), std::string::npos);
  // The GEMM main loop overlaps its one gemm with the next stage instead.
  EXPECT_EQ(example_source("gemm", "M=512,N=512,K=512,BM=128,BN=256,BK=64,threads=256,stages=4", 90).find("warpgroup_turns"),
            std::string::npos);
  // No wgmma, no warp specialization on sm_80.
  EXPECT_EQ(example_source("flash_attention", "B=1,H=2,S=300,D=64,BM=128,BN=128,threads=256,stages=3", 80).find("warpgroup_turns"),
            std::string::npos);
}

namespace T = tilescale::lang;

// An attention-shaped loop (S = Q·Kᵀ, then O += P·V) on two consumer warpgroups with 3 stages, P
// in registers or, with p_in_shared, through a shared tile; touch_o_first rescales O before Q·Kᵀ,
// scale_q_first rescales Q_shared.
std::string attention_loop_source(bool p_in_shared, bool touch_o_first, bool scale_q_first = false) {
  const std::int64_t BM = 128, BN = 64, D = 64, S = 512;
  auto f = T::prim_func("attention_loop", [&] {
    auto Q = T::Tensor("Q", {S, D}, T::float16), K = T::Tensor("K", {S, D}, T::float16);
    auto V = T::Tensor("V", {S, D}, T::float16), O = T::Tensor("O", {S, D}, T::float32);
    T::Kernel(S / BM, T::threads(256), [&](T::Expr bx) {
      auto Q_shared = T::alloc_shared({BM, D}, T::float16, "Q_shared");
      auto K_shared = T::alloc_shared({BN, D}, T::float16, "K_shared");
      auto V_shared = T::alloc_shared({BN, D}, T::float16, "V_shared");
      auto P_shared = T::alloc_shared({BM, BN}, T::float16, "P_shared");
      auto acc_s = T::alloc_fragment({BM, BN}, T::float32, "acc_s");
      auto acc_s_cast = T::alloc_fragment({BM, BN}, T::float16, "acc_s_cast");
      auto acc_o = T::alloc_fragment({BM, D}, T::float32, "acc_o");
      T::copy(Q(bx * BM, 0), Q_shared);
      T::fill(acc_o, 0);
      T::Pipelined(S / BN, 3, [&](T::Expr k) {
        T::copy(K(k * BN, 0), K_shared);
        if (touch_o_first) T::Parallel(BM, D, [&](T::Expr i, T::Expr j) { acc_o(i, j) *= 0.5f; });
        if (scale_q_first) T::Parallel(BM, D, [&](T::Expr i, T::Expr j) { Q_shared(i, j) = Q_shared(i, j) * T::cast(T::Expr(0.5f), T::float16); });
        T::gemm(Q_shared, K_shared, acc_s,
                T::GemmOptions{.transpose_B = true, .policy = T::GemmWarpPolicy::FullRow, .clear_accum = true});
        T::copy(acc_s, acc_s_cast);
        T::copy(V(k * BN, 0), V_shared);
        if (p_in_shared) {
          T::copy(acc_s_cast, P_shared);
          T::gemm(P_shared, V_shared, acc_o, T::GemmOptions{.policy = T::GemmWarpPolicy::FullRow});
        } else {
          T::gemm(acc_s_cast, V_shared, acc_o, T::GemmOptions{.policy = T::GemmWarpPolicy::FullRow});
        }
      });
      T::copy(acc_o, O(bx * BM, 0));
    });
  });
  return cuda::generate(run_pipeline(f.node(), PipelineOptions{Target::CUDA, "", 90}), cuda::Target{90}).source;
}

TEST(WarpgroupTurns, NotWhileTheCarriedGemmsOperandsAreStillInUse) {
  const std::string registers = attention_loop_source(false, false);
  ASSERT_NE(registers.find("tl::warpgroup_turns_start<3, 2>();"), std::string::npos);  // the shape qualifies
  EXPECT_NE(registers.find("tl::gemm_rs_wgmma_issue<"), std::string::npos);
  // O rescaled before Q·Kᵀ: the carried P·V would still be accumulating into it.
  EXPECT_EQ(attention_loop_source(false, true).find("warpgroup_turns"), std::string::npos);
  // P through shared memory: the other warpgroup's carried P·V still reads P_shared when this one
  // writes it again.
  const std::string shared = attention_loop_source(true, false);
  EXPECT_NE(shared.find("tl::gemm_ss_wgmma<"), std::string::npos);
  EXPECT_EQ(shared.find("warpgroup_turns"), std::string::npos);
  // Q_shared written before Q·Kᵀ: that gemm needs a fence and a barrier of all consumers, which
  // cannot come after a turn is taken (the other warpgroup waits for the turn, not the barrier).
  const std::string scaled = attention_loop_source(false, false, true);
  EXPECT_NE(scaled.find("tl::fence_proxy_async();"), std::string::npos);
  EXPECT_EQ(scaled.find("warpgroup_turns"), std::string::npos);
}

TEST(FastExp2, FloatExp2IsTheHardwareInstruction) {
  // T::exp2 in float lowers to tl::fast_exp2 (ex2.approx.ftz), on every target the CUDA backend has.
  for (int sm : {80, 90}) {
    const std::string s = example_source("flash_attention", "B=1,H=2,S=300,D=64", sm);
    EXPECT_NE(s.find("tl::fast_exp2("), std::string::npos) << sm;
    EXPECT_EQ(s.find("exp2f("), std::string::npos) << sm;
  }
}

}  // namespace
}  // namespace tilescale
