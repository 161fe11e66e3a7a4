// widen_indices: indices of global tensors computed in 64 bits in every dimension that can pass
// 2^31, and only there.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

TEST(WidenIndices, WidensTheLargeDimensionOnly) {
  const T::PrimFunc f = T::prim_func("wide", [] {
    auto A = T::Tensor("A", {std::int64_t{3} << 30, 64}, T::int8);
    T::Kernel(1 << 23, T::threads(128), [&](T::Expr bx) {
      T::Parallel(128, 64, [&](T::Expr i, T::Expr j) { A(bx * 128 + i, j) = T::cast(j, T::int8); });
    });
  });
  const AroundPass p = around_pass(f, "widen_indices", Target::CPU);
  EXPECT_EQ(kernel_body(p.before), R"(for i, j in T.Parallel(128, 64):
    A[bx * 128 + i, j] = T.cast(j, "int8")
)");
  // Rows reach 3 * 2^30: computed in 64 bits from the leaves up. Columns (64) stay int32.
  EXPECT_EQ(kernel_body(p.after), R"(for i, j in T.Parallel(128, 64):
    A[T.cast(bx, "int64") * T.int64(128) + T.cast(i, "int64"), j] = T.cast(j, "int8")
)");
}

}  // namespace
}  // namespace tilescale::testing
