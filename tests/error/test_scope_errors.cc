// Scopes begun and ended explicitly (T::detail::begin_* / end_scope, lang.h): a front end that ends
// them out of order, or leaves one open, gets a CompileError naming both scopes.
#include "test_util.h"

namespace tilescale::test {
namespace {

using T::detail::ScopeKind;

TEST(BegunScopeErrors, EndOfAScopeThatIsNotTheInnermost) {
  auto build = [] {
    T::prim_func("crossed_scopes", [] {
      T::Tensor("A", {32}, T::float32);
      T::detail::begin_kernel({1}, T::threads(32));
      T::detail::begin_parallel({32});
      T::detail::end_scope(ScopeKind::Kernel);
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot end the scope of T::Kernel",
                       "the innermost open scope is T::Parallel's", "reverse order");
}

TEST(BegunScopeErrors, EndWithNoScopeOpen) {
  auto build = [] {
    T::prim_func("end_without_begin", [] {
      T::Tensor("A", {32}, T::float32);
      T::detail::end_scope(ScopeKind::If);
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot end the scope of T::If", "no begun scope is open in end_without_begin");
}

TEST(BegunScopeErrors, ScopeLeftOpen) {
  auto build = [] {
    T::prim_func("left_open", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::detail::begin_kernel({1}, T::threads(32));
      T::detail::begin_serial(0, 4);
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot build T::prim_func left_open", "the scope of T::serial", "still open");
}

// A body lambda that begins a scope and does not end it: the lambda form's own end is the mismatch.
TEST(BegunScopeErrors, BodyLambdaLeavesAScopeOpen) {
  auto build = [] {
    T::prim_func("lambda_left_open", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::detail::begin_if(A(0) > 0); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot end the scope of T::Kernel", "innermost open scope is T::If's");
}

TEST(BegunScopeErrors, ElseWithoutIf) {
  auto build = [] {
    T::prim_func("else_without_if", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::detail::begin_kernel({1}, T::threads(32));
      A(0) = 1.0f;
      T::detail::begin_else();
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Else", "directly follow its T::If");
}

TEST(BegunScopeErrors, ParallelDimensionCount) {
  auto build = [](int dims) {
    T::prim_func("parallel_dims", [&] {
      T::Tensor("A", {32}, T::float32);
      T::detail::begin_kernel({1}, T::threads(32));
      T::detail::begin_parallel(std::vector<T::Expr>(dims, T::Expr(2)));
    });
  };
  EXPECT_COMPILE_ERROR(build(0), "cannot loop T::Parallel over 0 dimensions", "give 1 to 4 extents");
  EXPECT_COMPILE_ERROR(build(5), "cannot loop T::Parallel over 5 dimensions", "give 1 to 4 extents");
}

TEST(BegunScopeErrors, KernelGridDimensionCount) {
  auto build = [] {
    T::prim_func("grid_dims", [] {
      T::Tensor("A", {32}, T::float32);
      T::detail::begin_kernel({1, 1, 1, 1}, T::threads(32));
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot launch the kernel of grid_dims with 4 grid extents", "give 1 to 3 extents");
}

TEST(BegunScopeErrors, EndScopeOutsidePrimFunc) {
  EXPECT_COMPILE_ERROR(T::detail::end_scope(ScopeKind::Kernel), "outside T::prim_func");
}

}  // namespace
}  // namespace tilescale::test
