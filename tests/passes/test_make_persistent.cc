// make_persistent: a T::persistent kernel without a producer warpgroup walks its grid points.
#include <gtest/gtest.h>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

T::PrimFunc persistent_scale() {
  return T::prim_func("scale", [] {
    auto A = T::Tensor("A", {256, 64}, T::float32);
    T::Kernel(4, T::threads(128), [&](T::Expr bx) {
      T::persistent();
      auto S = T::alloc_shared({64, 64}, T::float32, "S");
      T::copy(A(bx * 64, 0), S);
      T::Parallel(64, 64, [&](T::Expr i, T::Expr j) { A(bx * 64 + i, j) = S(i, j) * 2.0f; });
    });
  });
}

// The body runs once per grid point and ends with a barrier: the next point reuses the shared
// memory.
TEST(MakePersistent, TheKernelBodyRunsPerGridPoint) {
  const AroundPass p = around_pass(persistent_scale(), "make_persistent", Target::CUDA, 80);
  EXPECT_EQ(p.before.find("T.grid_points()"), std::string::npos);
  const std::string body = kernel_body(p.after);
  EXPECT_EQ(body.find("with T.grid_points():\n"), 0u) << body;
  EXPECT_EQ(body.substr(body.size() - std::string("    T.tl.syncthreads()\n").size()), "    T.tl.syncthreads()\n") << body;
}

// A kernel that is not persistent, or whose roles already walk the points, stays as it is.
TEST(MakePersistent, IdleOtherwise) {
  const AroundPass plain = around_pass(readme_gemm(), "make_persistent", Target::CUDA, 80);
  EXPECT_EQ(plain.after, plain.before);
  const AroundPass roles = around_pass(readme_gemm({.persistent = true}), "make_persistent");
  EXPECT_EQ(roles.after, roles.before);
}

}  // namespace
}  // namespace tilescale::testing
