// Warpgroup turns (LowerContext::WgmmaSchedule, gemm_sm90.h "Turns"): in a warp-specialized loop
// with several consumer warpgroups, 3 or more stages and a wgmma gemm last, each warpgroup issues
// that gemm and the next iteration's first gemm in one turn, and the first gemm's wait covers the
// carried one. Checked on the generated CUDA; no GPU needed.
#include <gtest/gtest.h>

#include "codegen/cuda/codegen.h"
#include "example.h"
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
  const std::string s = example_source("flash_attention", "B=1,H=2,S=300,D=128,BM=128,BN=128,threads=256,stages=3,bf16=1", 90);
  const std::string turns = "tl::WarpgroupTurns<3, 2>::";
  const auto at = in_order(s, {
                                  turns + "start();",
                                  "for (int it_",
                                  // Q·Kᵀ: the first turn is taken here, later ones before P·V.
                                  " == 0) " + turns + "acquire();",
                                  "tl::gemm_ss_wgmma_issue<128, 128, 128, 8, 1, false, true, bfloat16_t, float>(Q_shared",
                                  turns + "release();",
                                  // One wait for Q·Kᵀ and the previous iteration's P·V, whose
                                  // registers and stage it then hands back.
                                  "tl::wgmma_wait<0>();",
                                  "tl::wgmma_fence_regs<64>(acc_s);",
                                  "tl::wgmma_fence_regs<64>(acc_o);",
                                  "tl::wgmma_fence_regs<32>(acc_s_cast);",
                                  " > 0) tl::mbarrier_arrive(&ts_barriers[3 + (ts_uses + 2) % 3]);",
                                  turns + "acquire();",
                                  "tl::gemm_rs_wgmma_issue<128, 128, 128, 8, 1, false, bfloat16_t, float>(acc_s_cast",
                                  // After the loop: the last P·V, waited outside any branch.
                                  "  }\n    tl::wgmma_wait<0>();\n    tl::wgmma_fence_regs<64>(acc_o);",
                                  turns + "release();",
                                  "tl::mbarrier_arrive(&ts_barriers[3 + (ts_uses + 2) % 3]);",
                                  turns + "finish();",
                              });
  for (std::size_t i = 0; i < at.size(); ++i) EXPECT_NE(at[i], std::string::npos) << "part " << i;
  // The stage is released once per iteration, by the next iteration's wait, not at the loop's end.
  EXPECT_EQ(s.find("tl::mbarrier_arrive(&ts_barriers[3 + stage_"), std::string::npos);
  EXPECT_EQ(s.find("tl::gemm_rs_wgmma<"), std::string::npos);
  if (jit::nvrtc_unavailable_reason().empty()) EXPECT_FALSE(jit::compile_nvrtc(s, "flash_attention", "sm_90a", {}).cubin.empty());
}

TEST(WarpgroupTurns, ThreeWarpgroupsPassTheTurnAround) {
  const std::string s = example_source("flash_attention", "B=1,H=2,S=400,D=64,BM=192,BN=64,threads=384,stages=3,causal=1", 90);
  EXPECT_NE(s.find("tl::WarpgroupTurns<3, 3>::start();"), std::string::npos);
  EXPECT_NE(s.find("tl::WarpgroupTurns<3, 3>::finish();"), std::string::npos);
}

TEST(WarpgroupTurns, OnlyWhereTheyPay) {
  // Two stages: a stage released one iteration late would leave the producer one stage to fill.
  const std::string two_stages = example_source("flash_attention", "B=1,H=2,S=300,D=128,BM=128,BN=128,threads=256,stages=2", 90);
  EXPECT_EQ(two_stages.find("WarpgroupTurns"), std::string::npos);
  EXPECT_NE(two_stages.find("tl::gemm_rs_wgmma<"), std::string::npos);
  // One consumer warpgroup has nobody to take turns with.
  EXPECT_EQ(example_source("flash_attention", "B=1,H=2,S=300,D=64,stages=3", 90).find("WarpgroupTurns"), std::string::npos);
  // The GEMM main loop overlaps its one gemm with the next stage instead.
  EXPECT_EQ(example_source("gemm", "M=512,N=512,K=512,BM=128,BN=256,BK=64,threads=256,stages=4", 90).find("WarpgroupTurns"),
            std::string::npos);
  // No wgmma, no warp specialization on sm_80.
  EXPECT_EQ(example_source("flash_attention", "B=1,H=2,S=300,D=64,BM=128,BN=128,threads=256,stages=3", 80).find("WarpgroupTurns"),
            std::string::npos);
}

namespace T = tilescale::lang;

// An attention-shaped loop (S = Q·Kᵀ, then O += P·V) on two consumer warpgroups with 3 stages, P
// in registers or, with p_in_shared, through a shared tile; touch_o_first rescales O before Q·Kᵀ.
std::string attention_loop_source(bool p_in_shared, bool touch_o_first) {
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
  ASSERT_NE(registers.find("tl::WarpgroupTurns<3, 2>::start();"), std::string::npos);  // the shape qualifies
  EXPECT_NE(registers.find("tl::gemm_rs_wgmma_issue<"), std::string::npos);
  // O rescaled before Q·Kᵀ: the carried P·V would still be accumulating into it.
  EXPECT_EQ(attention_loop_source(false, true).find("WarpgroupTurns"), std::string::npos);
  // P through shared memory: the other warpgroup's carried P·V still reads P_shared when this one
  // writes it again.
  const std::string shared = attention_loop_source(true, false);
  EXPECT_NE(shared.find("tl::gemm_ss_wgmma<"), std::string::npos);
  EXPECT_EQ(shared.find("WarpgroupTurns"), std::string::npos);
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
