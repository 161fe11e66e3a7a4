// infer_fragment_layouts: which thread holds which fragment element, starting from the layouts the
// gemm insists on and flowing through copies and reductions.
#include <gtest/gtest.h>

#include <tuple>

#include "ir/IR.h"
#include "pass_test.h"
#include "passes/infer_fragment_layouts.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

TEST(InferFragmentLayouts, TheAccumulatorTakesTheGemmsLayoutAndTheRowSumFollowsIt) {
  const T::PrimFunc f = T::prim_func("rowsum_gemm", [] {
    auto A = T::Tensor("A", {64, 32}, T::float16);
    auto B = T::Tensor("B", {32, 64}, T::float16);
    auto S = T::Tensor("S", {64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({64, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 64}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({64, 64}, T::float32, "C_local");
      auto sums = T::alloc_fragment({64}, T::float32, "sums");
      T::copy(A(0, 0), A_shared);
      T::copy(B(0, 0), B_shared);
      T::gemm(A_shared, B_shared, C_local, {.clear_accum = true});
      T::reduce_sum(C_local, sums, 1);
      T::copy(sums, S(0));
    });
  });
  const AroundPass p = around_pass(f, "infer_fragment_layouts", Target::CUDA, 80);
  EXPECT_EQ(p.before.find("fragment_layout"), std::string::npos) << p.before;
  // C_local: the mma.sync accumulator of the gemm's 2x2 warps; sums: the rows of that layout (each
  // row's sum where the threads holding the row are).
  EXPECT_EQ(kernel_body(p.after), R"(A_shared = T.alloc_shared((64, 32), "float16")
B_shared = T.alloc_shared((32, 64), "float16")
C_local = T.alloc_fragment((64, 64), "float32")
T.annotate("fragment_layout", C_local, M=64, family="mma_accumulator", warps_m=2, warps_n=2)
sums = T.alloc_fragment((64,), "float32")
T.annotate("fragment_layout", sums, M=64, family="mma_rows", warps_m=2, warps_n=2)
T.copy(A, A_shared)
T.copy(B, B_shared)
T.gemm(A_shared, B_shared, C_local, A_major="K", B_major="MN", clear_accum=1, policy=0, warps_m=2, warps_n=2)
T.reduce(C_local, sums, clear=1, dim=1, kind="sum")
T.copy(sums, S)
)");
}

// A wgmma gemm with two m64 tiles per warpgroup (128 threads, 128 rows on sm_90): warp v holds rows
// 16 v .. 16 v + 15 of each tile (rows 64 apart), not 32 contiguous rows as mma.sync's warps do; the
// record says so, and the row maxima follow the same arrangement.
TEST(InferFragmentLayouts, AWgmmaAccumulatorOfTwoTilesPerWarpgroupIsLaidOutByTiles) {
  auto f = T::prim_func("tile_gemm_rows", [] {
    auto A = T::Tensor("A", {128, 32}, T::float16);
    auto B = T::Tensor("B", {32, 128}, T::float16);
    auto R = T::Tensor("R", {128}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 128}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, T::float32, "C_local");
      auto maxima = T::alloc_fragment({128}, T::float32, "maxima");
      T::copy(A(0, 0), A_shared);
      T::copy(B(0, 0), B_shared);
      T::gemm(A_shared, B_shared, C_local, {.clear_accum = true});
      T::reduce_max(C_local, maxima, 1);
      T::copy(maxima, R(0));
    });
  });
  const AroundPass p = around_pass(f, "infer_fragment_layouts", Target::CUDA, 90);
  const std::string body = kernel_body(p.after);
  EXPECT_NE(body.find(R"(T.annotate("fragment_layout", C_local, M=128, family="mma_accumulator", warp_rows="m64_tiles", warps_m=4, warps_n=1))"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"(T.annotate("fragment_layout", maxima, M=128, family="mma_rows", warp_rows="m64_tiles", warps_m=4, warps_n=1))"),
            std::string::npos)
      << body;
}

TEST(InferFragmentLayouts, ItsRecordDecodesAsEncoded) {
  const ir::Buffer b = ir::make_buffer("C_local", {ir::make_int(128), ir::make_int(128)}, DataType::Float32, ir::Scope::Fragment);
  for (const auto rows : {layout::WarpRows::Contiguous, layout::WarpRows::M64Tiles}) {
    const passes::FragmentLayoutRecord record{layout::mma_accumulator(128, 128, 4, 1, rows), "mma_accumulator", 128, 4, 1, rows};
    const auto decoded = passes::FragmentLayoutRecord::decode(*ir::as<ir::AnnotateNode>(record.encode(b)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->layout->to_string(), record.layout->to_string());
    EXPECT_EQ(std::tie(decoded->family, decoded->M, decoded->warps_m, decoded->warps_n, decoded->warp_rows),
              std::tie(record.family, record.M, record.warps_m, record.warps_n, record.warp_rows));
  }
}

}  // namespace
}  // namespace tilescale::testing
