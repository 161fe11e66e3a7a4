// plan_tma_stores: which copies of a shared tile into a global tensor go by TMA store, or why not.
#include <gtest/gtest.h>

#include "ir/IR.h"
#include "pass_test.h"
#include "passes/plan_tma_stores.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// A tile staged in shared memory and stored to C; with `read_back` the kernel also reads C.
T::PrimFunc staged_store(bool read_back) {
  return T::prim_func("staged_store", [=] {
    auto A = T::Tensor("A", {256, 128}, T::float16);
    auto C = T::Tensor("C", {256, 128}, T::float16);
    T::Kernel(2, T::threads(128), [&](T::Expr bx) {
      auto S = T::alloc_shared({128, 128}, T::float16, "S");
      T::copy(A(bx * 128, 0), S);
      T::copy(S, C(bx * 128, 0));
      if (read_back) T::copy(C(bx * 128, 0), S);
    });
  });
}

TEST(PlanTmaStores, AStagedTileGoesToGlobalMemoryByTmaStore) {
  const AroundPass p = around_pass(staged_store(false), "plan_tma_stores", Target::CUDA, 90);
  const std::string after = kernel_body(p.after);
  EXPECT_EQ(kernel_body(p.before).find("tma_store"), std::string::npos);
  EXPECT_NE(after.find(R"(T.annotate("tma_store")
T.copy(S, C[bx * 128 : +128, 0 : +128]))"),
            std::string::npos)
      << after;
  const AroundPass sm80 = around_pass(staged_store(false), "plan_tma_stores", Target::CUDA, 80);
  EXPECT_EQ(sm80.after, sm80.before);
}

TEST(PlanTmaStores, AStoreToATensorTheKernelAlsoReadsStaysWithTheThreads) {
  const std::string after = kernel_body(around_pass(staged_store(true), "plan_tma_stores").after);
  EXPECT_NE(after.find(R"(T.annotate("no_tma_store", reason="the threads store S into C, not TMA, because the kernel also reads C")
T.copy(S, C[bx * 128 : +128, 0 : +128]))"),
            std::string::npos)
      << after;
}

TEST(PlanTmaStores, ItsRecordsDecodeAsEncoded) {
  EXPECT_TRUE(passes::TmaStorePlan::decode(*ir::as<ir::AnnotateNode>(passes::TmaStorePlan{}.encode())));
  const auto no = passes::NoTmaStore::decode(*ir::as<ir::AnnotateNode>(passes::NoTmaStore{"why"}.encode()));
  ASSERT_TRUE(no);
  EXPECT_EQ(no->reason, "why");
  EXPECT_FALSE(passes::TmaStorePlan::decode(*ir::as<ir::AnnotateNode>(passes::NoTmaStore{"why"}.encode())));
}

}  // namespace
}  // namespace tilescale::testing
