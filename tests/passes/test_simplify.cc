// simplify: integer constants folded, dead statements removed, before any other pass.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

TEST(Simplify, FoldsIndexArithmeticAndDropsWhatCannotRun) {
  const T::PrimFunc f = T::prim_func("fold", [] {
    auto A = T::Tensor("A", {256, 64}, T::float32);
    auto B = T::Tensor("B", {256, 64}, T::float32);
    T::Kernel(2, T::threads(128), [&](T::Expr bx) {
      T::Parallel(128, 64, [&](T::Expr i, T::Expr j) {
        B((bx * 1 + 0) * 128 + i, j * (4 - 3)) = A(bx * 128 + i + (2 * 3 - 6), j);
      });
      T::serial(0, [&](T::Expr) { B(0, 0) = 1.0f; });
      T::If(T::Expr(1) < 2, [&] { B(1, 1) = 2.0f; }).Else([&] { B(2, 2) = 3.0f; });
    });
  });
  const AroundPass p = around_pass(f, "simplify");
  EXPECT_EQ(kernel_body(p.before), R"(for i, j in T.Parallel(128, 64):
    B[(bx * 1 + 0) * 128 + i, j * 1] = A[bx * 128 + i + 0, j]
for i_1 in T.serial(0):
    B[0, 0] = 1.0
if 1 < 2:
    B[1, 1] = 2.0
else:
    B[2, 2] = 3.0
)");
  EXPECT_EQ(kernel_body(p.after), R"(for i, j in T.Parallel(128, 64):
    B[bx * 128 + i, j] = A[bx * 128 + i, j]
B[1, 1] = 2.0
)");
}

}  // namespace
}  // namespace tilescale::testing
