// The gemm's typed record (ops/gemm.h): the user's transpose flags resolved into operand
// majorness once, GemmPlan's round trip through a gemm's attrs, and the plan plan_tile_ops
// records through the gemm's hook.
#include "ops/gemm.h"

#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/tile_op.h"
#include "pipeline.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

using ops::GemmOperand;
using ops::GemmPlan;
using ops::Major;

// C[128, 128] (+)= A · B in float16, K = 32, A given as [M, K] or [K, M] (transpose_A) and B as
// [K, N] or [N, K] (transpose_B).
T::PrimFunc gemm_program(bool transpose_a, bool transpose_b, int threads = 128) {
  const std::int64_t M = 128, N = 128, K = 32;
  const std::vector<T::Expr> a_shape = transpose_a ? std::vector<T::Expr>{K, M} : std::vector<T::Expr>{M, K};
  const std::vector<T::Expr> b_shape = transpose_b ? std::vector<T::Expr>{N, K} : std::vector<T::Expr>{K, N};
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", a_shape, T::float16);
    auto B = T::Tensor("B", b_shape, T::float16);
    auto C = T::Tensor("C", {M, N}, T::float32);
    T::Kernel(1, T::threads(threads), [&](T::Expr) {
      auto As = T::alloc_shared(a_shape, T::float16, "A_shared");
      auto Bs = T::alloc_shared(b_shape, T::float16, "B_shared");
      auto Cf = T::alloc_fragment({M, N}, T::float32, "C_local");
      T::copy(A, As);
      T::copy(B, Bs);
      T::gemm(As, Bs, Cf, transpose_a, transpose_b, T::GemmWarpPolicy::Square, /*clear_accum=*/true);
      T::copy(Cf, C);
    });
  });
}

// The one gemm of a program.
const ir::TileOpNode& the_gemm(const ir::PrimFunc& f) {
  struct Finder : ir::Visitor {
    const ir::TileOpNode* gemm = nullptr;
    void visit(const ir::TileOpNode* op) override {
      if (ops::as_gemm(*op)) gemm = op;
    }
  } finder;
  finder.visit_stmt(f->body);
  if (!finder.gemm) throw std::runtime_error("no gemm in " + ir::print(f));
  return *finder.gemm;
}

bool same(const GemmPlan& x, const GemmPlan& y) {
  return x.warps_m == y.warps_m && x.warps_n == y.warps_n && x.wgmma == y.wgmma && x.a == y.a && x.b == y.b;
}

TEST(GemmPlan, TransposeFlagsResolveToMajorness) {
  struct Case {
    bool transpose_a, transpose_b;
    Major a, b;
    const char* printed;
  };
  const Case cases[] = {
      {false, false, Major::K, Major::MN, R"(A_major="K", B_major="MN")"},   // A [M, K], B [K, N]
      {true, false, Major::MN, Major::MN, R"(A_major="MN", B_major="MN")"},  // A [K, M]
      {false, true, Major::K, Major::K, R"(A_major="K", B_major="K")"},      // B [N, K]: "TN"
      {true, true, Major::MN, Major::K, R"(A_major="MN", B_major="K")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "transpose_A=" << c.transpose_a << " transpose_B=" << c.transpose_b);
    EXPECT_EQ(ops::major_of(GemmOperand::A, c.transpose_a), c.a);
    EXPECT_EQ(ops::major_of(GemmOperand::B, c.transpose_b), c.b);
    // The device gemms' TRANS parameters keep the user's convention.
    EXPECT_EQ(ops::device_trans(GemmOperand::A, c.a), c.transpose_a);
    EXPECT_EQ(ops::device_trans(GemmOperand::B, c.b), c.transpose_b);
    // The front end records the majorness, unplanned.
    const T::PrimFunc f = gemm_program(c.transpose_a, c.transpose_b);
    const GemmPlan plan = GemmPlan::decode(the_gemm(f.node()));
    EXPECT_EQ(plan.a, c.a);
    EXPECT_EQ(plan.b, c.b);
    EXPECT_FALSE(plan.planned());
    EXPECT_NE(f.to_string().find(c.printed), std::string::npos) << f.to_string();
    EXPECT_EQ(f.to_string().find("transpose_"), std::string::npos) << f.to_string();
  }
}

TEST(GemmPlan, RoundTripsThroughAttrs) {
  const ir::PrimFunc program = gemm_program(false, false).node();  // the gemm lives as long as it
  const ir::TileOpNode& user = the_gemm(program);
  for (const GemmPlan& plan : {GemmPlan{0, 0, false, Major::K, Major::MN}, GemmPlan{2, 2, false, Major::MN, Major::K},
                               GemmPlan{8, 1, true, Major::K, Major::K}, GemmPlan{4, 1, true, Major::MN, Major::MN}}) {
    ir::Attrs attrs = user.attrs;  // policy and clear_accum stay beside the plan
    for (const auto& [k, v] : plan.encode()) attrs[k] = v;
    const ir::Stmt op = ir::make_tile_op(user.op, user.regions, user.args, attrs);
    const GemmPlan back = GemmPlan::decode(*ir::as<ir::TileOpNode>(op));
    EXPECT_TRUE(same(back, plan)) << ir::print(op);
    EXPECT_EQ(plan.encode().count("warps_m"), plan.planned() ? 1u : 0u);
    EXPECT_EQ(plan.encode().count("wgmma"), plan.wgmma ? 1u : 0u);
  }
}

TEST(GemmPlan, OnlyGemmsHaveOne) {
  const ir::PrimFunc f = gemm_program(false, false).node();
  struct Count : ir::Visitor {
    int ops = 0, gemms = 0;
    void visit(const ir::TileOpNode* op) override { ++ops, gemms += ops::as_gemm(*op).has_value(); }
  } count;
  count.visit_stmt(f->body);
  EXPECT_EQ(count.ops, 4);
  EXPECT_EQ(count.gemms, 1);
}

// plan_tile_ops records the gemm's hook's decision: square warp tiles with mma.sync, or on Hopper
// whole warpgroups with wgmma (one warp per 16 rows, or all warps along M with several m64 tiles
// per warpgroup) when the block has a warpgroup.
TEST(GemmPlan, PlanTileOpsRecordsTheGemmsPlan) {
  auto planned = [](bool transpose_b, int threads, int sm) {
    const PipelineOptions options{Target::CUDA, "plan_tile_ops", sm};
    const ir::PrimFunc f = run_pipeline(gemm_program(false, transpose_b, threads).node(), options);
    return GemmPlan::decode(the_gemm(f));
  };
  EXPECT_TRUE(same(planned(false, 128, 80), GemmPlan{2, 2, false, Major::K, Major::MN}));
  EXPECT_TRUE(same(planned(false, 128, 90), GemmPlan{4, 1, true, Major::K, Major::MN}));  // two m64 tiles per warpgroup
  EXPECT_TRUE(same(planned(false, 64, 90), GemmPlan{1, 2, false, Major::K, Major::MN}));  // no whole warpgroup
  EXPECT_TRUE(same(planned(false, 256, 90), GemmPlan{8, 1, true, Major::K, Major::MN}));
  EXPECT_TRUE(same(planned(true, 256, 90), GemmPlan{8, 1, true, Major::K, Major::K}));
  EXPECT_TRUE(same(planned(true, 256, 80), GemmPlan{2, 4, false, Major::K, Major::K}));
}

}  // namespace
}  // namespace tilescale::test
