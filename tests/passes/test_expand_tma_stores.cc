// expand_tma_stores: a copy that plan_tma_stores sends by TMA store becomes the writers' fence, a
// barrier and one thread's bulk stores, its tensor map numbered after the kernel's load maps.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// A tile computed by the threads, then stored from shared memory: [64, 128] fp16 rows are 256
// bytes, two 128-byte panels, one box each.
T::PrimFunc staged_store() {
  return T::prim_func("staged_store", [] {
    auto A = T::Tensor("A", {256, 256}, T::float16);
    auto C = T::Tensor("C", {256, 256}, T::float16);
    T::Kernel(2, 4, T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto tile = T::alloc_shared({64, 128}, T::float16, "tile");
      T::Parallel(64, 128, [&](T::Expr i, T::Expr j) { tile(i, j) = A(by * 64 + i, bx * 128 + j) * T::cast(2.0, T::float16); });
      T::copy(tile, C(by * 64, bx * 128));
    });
  });
}

TEST(ExpandTmaStores, AFenceABarrierAndOneThreadsStoresPerPanel) {
  const AroundPass p = around_pass(staged_store(), "expand_tma_stores");
  EXPECT_NE(kernel_body(p.before).find("T.annotate(\"tma_store\")\nT.copy(tile, C[by * 64 : +64, bx * 128 : +128])"), std::string::npos)
      << p.before;
  const std::string body = kernel_body(p.after);
  EXPECT_EQ(body.substr(body.find("T.annotate(\"tensor_map\"")), R"(T.annotate("tensor_map", box=[64, 64], param=1, swizzle=128)
T.tl.fence_proxy_async()
T.tl.syncthreads()
if tx == 0:
    T.tl.tma_store(C[by * 64, bx * 128], tile[0, 0], map=0)
    T.tl.tma_store(C[by * 64, bx * 128 + 64], tile[0, 64], map=0)
    T.tl.tma_store_commit()
    T.tl.tma_store_wait_read[0]()
)");
}

// The barrier before the store is the one insert_barriers would have placed: it adds none.
TEST(ExpandTmaStores, TheStoresBarrierIsTheOnlyOneBeforeIt) {
  const std::string body = kernel_body(around_pass(staged_store(), "insert_barriers").after);
  const auto parallel = body.find("for i, j in T.Parallel"), store = body.find("T.tl.tma_store(");
  ASSERT_NE(store, std::string::npos);
  EXPECT_EQ(body.substr(parallel, store - parallel).find("T.tl.syncthreads()"), body.substr(parallel, store - parallel).rfind("T.tl.syncthreads()"));
}

// In a warp-specialized kernel the store's map comes after the loads' (A, B: maps 0 and 1).
TEST(ExpandTmaStores, NumbersItsMapAfterTheLoads) {
  // C in float16 staged through shared memory allocated after the loop, as the gemm example does.
  const auto staged = [](T::Buffer C, T::Buffer C_local, T::Expr bx, T::Expr by) {
    auto C_shared = T::alloc_shared({128, 128}, T::float16, "C_shared");
    T::copy(C_local, C_shared);
    T::copy(C_shared, C(by * 128, bx * 128));
  };
  const AroundPass p = around_pass(readme_gemm({.c_dtype = DataType::Float16, .epilogue = staged}), "expand_tma_stores");
  EXPECT_NE(p.after.find("T.annotate(\"tensor_map\", box=[64, 128], param=2, swizzle=128)"), std::string::npos) << p.after;
  EXPECT_NE(p.after.find("T.tl.tma_store(C[by * 128, bx * 128 + 64], C_shared[0, 64], map=2)"), std::string::npos) << p.after;
}

}  // namespace
}  // namespace tilescale::testing
