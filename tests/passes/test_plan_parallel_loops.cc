// plan_parallel_loops: each T::Parallel nest runs over its anchor fragment's registers (or the
// default partition), and every access is checked for every thread before code is printed.
#include <gtest/gtest.h>

#include "pass_test.h"
#include "pipeline.h"
#include "test_util.h"
#include "tilescale/errors.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

T::PrimFunc scale_rows(bool reversed) {
  return T::prim_func("scale_rows", [=] {
    auto X = T::Tensor("X", {256}, T::float32);
    auto Y = T::Tensor("Y", {256}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto x = T::alloc_fragment({256}, T::float32, "x");
      auto y = T::alloc_fragment({256}, T::float32, "y");
      auto s = T::alloc_shared({256}, T::float32, "s");
      T::copy(X(0), x);
      T::Parallel(256, [&](T::Expr i) { y(i) = reversed ? x(255 - i) : x(i) * 2.0f; });
      T::Parallel(256, [&](T::Expr i) { s(i) = 1.0f; });
      T::copy(y, Y(0));
    });
  });
}

TEST(PlanParallelLoops, ANestRunsOverItsAnchorOrTheDefaultPartition) {
  const AroundPass p = around_pass(scale_rows(false), "plan_parallel_loops", Target::CUDA, 80);
  const std::string body = kernel_body(p.after);
  // y is indexed with the loop variable: its layout decides which thread runs which i.
  EXPECT_NE(body.find(R"(with T.parallel_over(y[0]):
    for i in T.Parallel(256):
        y[i] = x[i] * 2.0
)"), std::string::npos) << body;
  // No fragment: the default partition over the kernel's 128 threads.
  EXPECT_NE(body.find(R"(with T.parallel_over(threads=128):
    for i_1 in T.Parallel(256):
        s[i_1] = 1.0
)"), std::string::npos) << body;
}

// A read of an element another thread holds is staged (access 1, x[255 - i]: y's store is 0).
TEST(PlanParallelLoops, AReadOfAnotherThreadsElementIsStaged) {
  const std::string body = kernel_body(around_pass(scale_rows(true), "plan_parallel_loops", Target::CUDA, 80).after);
  EXPECT_NE(body.find(R"(with T.parallel_over(y[0], staged=[1]):
    for i in T.Parallel(256):
        y[i] = x[255 - i]
)"), std::string::npos) << body;
}

// A write of an element another thread holds is refused by this pass, not by the code generator,
// and so is a staged read of a fragment the nest writes (the threads would race).
TEST(PlanParallelLoops, AWriteOfAnotherThreadsElementStopsThePass) {
  auto program = [](bool in_place) {
    return T::prim_func("write_elsewhere", [=] {
      auto X = T::Tensor("X", {256}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto x = T::alloc_fragment({256}, T::float32, "x");
        auto y = T::alloc_fragment({256}, T::float32, "y");
        T::copy(X, x);
        T::copy(X, y);
        if (in_place) T::Parallel(256, [&](T::Expr i) { x(i) = x(255 - i); });
        else T::Parallel(256, [&](T::Expr i) { y(255 - i) = x(i); });
        T::copy(in_place ? x : y, X);
      });
    }).node();
  };
  EXPECT_NO_THROW(run_pipeline(program(false), {Target::CUDA, "make_persistent", 80}));
  EXPECT_COMPILE_ERROR(run_pipeline(program(false), {Target::CUDA, "plan_parallel_loops", 80}),
                       "at i=0 thread 0 writes y[255], an element of fragment y that thread 127 holds",
                       "write y at the loop's own index, or write a shared buffer (T::alloc_shared) and T::copy it into y");
  EXPECT_COMPILE_ERROR(run_pipeline(program(true), {Target::CUDA, "plan_parallel_loops", 80}),
                       "cannot lower the T::Parallel loop over x because it reads fragment x at elements other threads hold",
                       "while it writes x: the threads would race; write the result to another fragment");
}

// Outside a Parallel nest a fragment element is refused here too (a replicated one is every
// thread's); device calls' register operands are not element accesses.
TEST(PlanParallelLoops, AFragmentElementOutsideANestStopsThePass) {
  const auto f = T::prim_func("fragment_element", [] {
    auto A = T::Tensor("A", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto F = T::alloc_fragment({64}, T::float32, "F_row");
      T::copy(A, F);
      F(5) = 1.0f;
      T::copy(F, A);
    });
  });
  EXPECT_NO_THROW(run_pipeline(f.node(), {Target::CUDA, "make_persistent", 80}));
  EXPECT_COMPILE_ERROR(run_pipeline(f.node(), {Target::CUDA, "plan_parallel_loops", 80}), "cannot access fragment F_row element by element",
                       "outside a T::Parallel loop");
  EXPECT_NO_THROW(run_pipeline(readme_gemm().node(), {Target::CUDA, "plan_parallel_loops", 90}));  // its wgmma calls name C_local[0, 0]
}

// Inside a warp role the default partition is over the role's threads.
TEST(PlanParallelLoops, InAWarpRoleTheRolesThreads) {
  const auto fill_then_store = [](T::Buffer C, T::Buffer C_local, T::Expr bx, T::Expr by) {
    auto D_shared = T::alloc_shared({128, 128}, T::float32, "D_shared");
    T::Parallel(128, 128, [&](T::Expr i, T::Expr j) { D_shared(i, j) = 0.5f; });
    T::copy(C_local, C(by * 128, bx * 128));
  };
  const AroundPass p = around_pass(readme_gemm({.epilogue = fill_then_store}), "plan_parallel_loops");
  EXPECT_NE(p.before.find("T.warp_role("), std::string::npos);
  EXPECT_NE(p.after.find("with T.parallel_over(threads=128):"), std::string::npos) << p.after;
  EXPECT_EQ(p.after.find("with T.parallel_over(threads=256):"), std::string::npos);
}

// A replicated fragment read by a nest over the default partition: every thread holds x[j], but the
// register that holds it differs between the threads that visit the same partition register, so
// the pass records the pair and the generator indexes the array at run time.
TEST(PlanParallelLoops, RegistersThatDifferBetweenThreadsAreRecorded) {
  const T::PrimFunc f = T::prim_func("broadcast_row", [] {
    auto X = T::Tensor("X", {64, 64}, T::float32);
    auto Y = T::Tensor("Y", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto x = T::alloc_fragment({64, 64}, T::float32, "x");
      auto sums = T::alloc_fragment({64}, T::float32, "sums");  // replicated: a row sum of a partition
      auto s = T::alloc_shared({64, 64}, T::float32, "s");
      T::copy(X(0, 0), x);
      T::reduce_sum(x, sums, 1);
      T::Parallel(64, 64, [&](T::Expr i, T::Expr j) { s(i, j) = sums(i); });
      T::copy(s, Y(0, 0));
    });
  });
  const std::string after = around_pass(f, "plan_parallel_loops", Target::CUDA, 80).after;
  EXPECT_NE(after.find("family=\"replicated\""), std::string::npos) << after;
  // Partition register r of thread t is element t + 128 r: row (t + 128 r) / 64, which sums holds in
  // register (t + 128 r) / 64 -- different for threads 0 and 64 -- for every r.
  const auto scope = after.find("with T.parallel_over(dynamic=[0, 0, 0, 1, 0, 2, ");
  EXPECT_NE(scope, std::string::npos) << after;
  EXPECT_NE(after.find("threads=128)", scope), std::string::npos);
  // The generator indexes the array at run time there.
  EXPECT_NE(generate_cuda(f, "sm_80").find("sums["), std::string::npos);
}

// A fragment read at an index that depends on data (a gather by indices held in a fragment) is
// staged; a write at such an index is refused, with what to write instead.
TEST(PlanParallelLoops, AnIndexThatReadsDataIsStagedOrRefused) {
  const T::PrimFunc f = T::prim_func("gather_row", [] {
    auto X = T::Tensor("X", {64, 64}, T::float32);
    auto I = T::Tensor("I", {64}, T::int32);
    auto Y = T::Tensor("Y", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto x = T::alloc_fragment({64, 64}, T::float32, "x");
      auto sums = T::alloc_fragment({64}, T::float32, "sums");  // replicated: a row sum of a partition
      auto idx = T::alloc_fragment({64}, T::int32, "idx");
      auto y = T::alloc_fragment({64}, T::float32, "y");
      T::copy(X(0, 0), x);
      T::reduce_sum(x, sums, 1);
      T::copy(I, idx);
      T::Parallel(64, [&](T::Expr i) { y(i) = sums(idx(i)); });
      T::copy(y, Y);
    });
  });
  EXPECT_NE(kernel_body(around_pass(f, "plan_parallel_loops", Target::CUDA, 80).after).find("with T.parallel_over(y[0], staged=[1]):"),
            std::string::npos);
  const T::PrimFunc scatter = T::prim_func("scatter_row", [] {
    auto X = T::Tensor("X", {64}, T::float32);
    auto I = T::Tensor("I", {64}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto x = T::alloc_fragment({64}, T::float32, "x");
      auto idx = T::alloc_fragment({64}, T::int32, "idx");
      auto y = T::alloc_fragment({64}, T::float32, "y");
      T::copy(X, x);
      T::copy(I, idx);
      T::Parallel(64, [&](T::Expr i) { y(idx(i)) = x(i); });
      T::copy(y, X);
    });
  });
  EXPECT_COMPILE_ERROR(run_pipeline(scatter.node(), {Target::CUDA, "plan_parallel_loops", 80}), "cannot lower the write of y[idx[i]]",
                       "in a T::Parallel loop over idx", "the index depends on more than the loop's variables",
                       "write fragments at the Parallel loop's own index, or write a shared buffer (T::alloc_shared) and T::copy it into y");
}

}  // namespace
}  // namespace tilescale::testing
