// The begun/ended scopes of lang.h build the same program as the forms that take a body.
#include "test_util.h"

namespace tilescale::test {
namespace {

using T::detail::ScopeKind;

TEST(ScopeApi, BeginEndBuildsWhatTheLambdaFormsBuild) {
  T::PrimFunc with_lambdas = T::prim_func("f", [] {
    auto A = T::Tensor("A", {64, 32}, T::float32);
    T::Kernel(2, T::threads(64), [&](T::Expr bx) {
      auto F = T::alloc_fragment({32, 32}, T::float32, "F");
      T::Pipelined(4, 2, [&](T::Expr k) { T::copy(A(bx * 32, 0), F); });
      T::Parallel(32, 32, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2.0f; });
      T::serial(1, 3, [&](T::Expr s) {
        T::If(s > 1, [&] { F(0, 0) = 1.0f; }).Else([&] { T::If(s > 2, [&] { F(0, 1) = 2.0f; }); });
      });
      T::unroll(2, [&](T::Expr u) { T::While(F(0, 0) < 4.0f, [&] { F(0, 0) = F(0, 0) + 1.0f; }); });
      T::copy(F, A(bx * 32, 0));
    });
  });
  T::PrimFunc with_scopes = T::prim_func("f", [] {
    auto A = T::Tensor("A", {64, 32}, T::float32);
    T::Expr bx = T::detail::begin_kernel({2}, T::threads(64)).at(0);
    auto F = T::alloc_fragment({32, 32}, T::float32, "F");
    T::detail::begin_pipelined(4, T::PipelineOptions{2});
    T::copy(A(bx * 32, 0), F);
    T::detail::end_scope(ScopeKind::Pipelined);
    auto ij = T::detail::begin_parallel({32, 32});
    F(ij[0], ij[1]) = F(ij[0], ij[1]) * 2.0f;
    T::detail::end_scope(ScopeKind::Parallel);
    T::Expr s = T::detail::begin_serial(1, 3);
    T::detail::begin_if(s > 1);
    F(0, 0) = 1.0f;
    T::detail::end_scope(ScopeKind::If);
    T::detail::begin_else();
    T::detail::begin_if(s > 2);
    F(0, 1) = 2.0f;
    T::detail::end_scope(ScopeKind::If);
    EXPECT_EQ(T::detail::open_scopes(), 3u);
    T::detail::end_scope(ScopeKind::Else);
    T::detail::end_scope(ScopeKind::Serial);
    T::detail::begin_unroll(2);
    T::detail::begin_while(F(0, 0) < 4.0f);
    F(0, 0) = F(0, 0) + 1.0f;
    T::detail::end_scope(ScopeKind::While);
    T::detail::end_scope(ScopeKind::Unroll);
    T::copy(F, A(bx * 32, 0));
    T::detail::end_scope(ScopeKind::Kernel);
    EXPECT_EQ(T::detail::open_scopes(), 0u);
  });
  EXPECT_EQ(with_lambdas.to_string(), with_scopes.to_string());
}

// A body that throws leaves no scope open: the builder can go on (the C++ front end rethrows, but a
// caller that catches inside the prim_func keeps a consistent program).
TEST(ScopeApi, ThrowingBodyDropsItsScopes) {
  T::PrimFunc f = T::prim_func("recovers", [] {
    auto A = T::Tensor("A", {32}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      try {
        T::serial(4, [&](T::Expr) {
          T::detail::begin_parallel({32});
          throw CompileError("from the body");
        });
      } catch (const CompileError&) {
      }
      EXPECT_EQ(T::detail::open_scopes(), 1u);
      A(0) = 1.0f;
    });
  });
  EXPECT_NE(f.to_string().find("A[0] = "), std::string::npos) << f.to_string();
}

}  // namespace
}  // namespace tilescale::test
