// insert_barriers: a block barrier between statements that exchange data through shared or global
// memory, at the end of loop bodies whose iterations do, never where threads diverge, and in a
// cp.async pipeline only between its consumers.
#include <gtest/gtest.h>

#include <regex>

#include "pass_test.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// The kernel body after the pass (for sm_80: copies stay tile ops), with the records of the
// earlier passes left out (annotations, the copies' plans).
std::string after(const std::string& printed) {
  static const std::regex copy_plan(", path=\"[a-z_]+\"(, vector=[0-9]+)?");
  std::string out, line;
  std::istringstream in(kernel_body(printed));
  while (std::getline(in, line))
    if (line.find("T.annotate(") == std::string::npos) out += std::regex_replace(line, copy_plan, "") + "\n";
  return out;
}
std::string after(const T::PrimFunc& f) {
  const AroundPass p = around_pass(f, "insert_barriers", Target::CUDA, 80);
  EXPECT_EQ(p.before.find("syncthreads"), std::string::npos);
  return after(p.after);
}

// Read after write: the threads read what others wrote.
TEST(InsertBarriers, BetweenAWriteAndTheReadsOfIt) {
  const T::PrimFunc f = T::prim_func("transpose", [] {
    auto A = T::Tensor("A", {64, 64}, T::float16);
    auto B = T::Tensor("B", {64, 64}, T::float16);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto S = T::alloc_shared({64, 64}, T::float16, "S");
      auto L = T::alloc_fragment({64, 64}, T::float16, "L");
      T::copy(A, S);
      T::Parallel(64, 64, [&](T::Expr i, T::Expr j) { L(i, j) = S(j, i); });
      T::copy(L, B);
    });
  });
  EXPECT_EQ(after(f), R"(S = T.alloc_shared((64, 64), "float16")
L = T.alloc_fragment((64, 64), "float16")
T.copy(A, S)
T.tl.syncthreads()
with T.parallel_over(L[0, 0]):
    for i, j in T.Parallel(64, 64):
        L[i, j] = S[j, i]
T.copy(L, B)
)");
}

// Write after read across iterations: the next iteration's copy overwrites what this one read.
TEST(InsertBarriers, AtTheEndOfALoopBodyWhoseIterationsConflict) {
  const T::PrimFunc f = T::prim_func("rows", [] {
    auto A = T::Tensor("A", {256, 64}, T::float32);
    auto B = T::Tensor("B", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto S = T::alloc_shared({64, 64}, T::float32, "S");
      auto acc = T::alloc_fragment({64}, T::float32, "acc");
      T::clear(acc);
      T::serial(4, [&](T::Expr k) {
        T::copy(A(k * 64, 0), S);
        T::Parallel(64, [&](T::Expr i) { acc(i) = acc(i) + S(i, 0); });
      });
      T::copy(acc, B);
    });
  });
  EXPECT_EQ(after(f), R"(S = T.alloc_shared((64, 64), "float32")
acc = T.alloc_fragment((64,), "float32")
T.fill(acc, 0.0)
for i in T.serial(4):
    T.copy(A[i * 64 : +64, 0 : +64], S)
    T.tl.syncthreads()
    with T.parallel_over(acc[0]):
        for i_1 in T.Parallel(64):
            acc[i_1] = acc[i_1] + S[i_1, 0]
    T.tl.syncthreads()
T.copy(acc, B)
)");
}

// Hazards are between bytes: `second`, placed over the dead `first`, waits for first's readers.
// Writing A after the copy that read it is ordered by the barrier between them already.
TEST(InsertBarriers, BetweenBuffersPlacedInTheSameBytes) {
  const T::PrimFunc f = T::prim_func("reuse", [] {
    auto A = T::Tensor("A", {64, 64}, T::float32);
    auto B = T::Tensor("B", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto first = T::alloc_shared({64, 64}, T::float32, "first");
      auto L = T::alloc_fragment({64, 64}, T::float32, "L");
      T::Parallel(64, 64, [&](T::Expr i, T::Expr j) { first(i, j) = 1.0f; });
      T::copy(first, L);
      auto second = T::alloc_shared({64, 64}, T::float32, "second");
      T::copy(A, second);
      T::copy(second, B);
      T::copy(L, A);
    });
  });
  EXPECT_EQ(after(f), R"(first = T.alloc_shared((64, 64), "float32")
L = T.alloc_fragment((64, 64), "float32")
with T.parallel_over(threads=128):
    for i, j in T.Parallel(64, 64):
        first[i, j] = 1.0
T.tl.syncthreads()
T.copy(first, L)
second = T.alloc_shared((64, 64), "float32")
T.tl.syncthreads()
T.copy(A, second)
T.tl.syncthreads()
T.copy(second, B)
T.copy(L, A)
)");
}

// Under a branch on the thread index the threads do not all reach a barrier: none there; the
// branch's accesses count after it. A block-uniform branch gets its own.
TEST(InsertBarriers, NotWhereThreadsDivergeButInUniformBranches) {
  const T::PrimFunc f = T::prim_func("branches", [] {
    auto A = T::Tensor("A", {128}, T::float32);
    auto n = T::ScalarParam("n", T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto S = T::alloc_shared({128}, T::float32, "S");
      auto tx = T::get_thread_binding();
      T::If(tx == 0, [&] {
        S(0) = 1.0f;
        A(0) = S(1);
      });
      T::If(n > 0, [&] {
        S(tx) = 2.0f;
        A(tx) = S(127 - tx);
      });
    });
  });
  EXPECT_EQ(after(f), R"(tx = T.get_thread_binding()
S = T.alloc_shared((128,), "float32")
if tx == 0:
    S[0] = 1.0
    A[0] = S[1]
T.tl.syncthreads()
if n > 0:
    S[tx] = 2.0
    T.tl.syncthreads()
    A[tx] = S[127 - tx]
)");
}

// A cp.async pipeline orders its own copies (its waits and the barrier after each): barriers go
// before the pipeline when what came before touches what its copies write, and between its
// consumers, but not after the copies nor at the end of the loop body, which begins with a barrier.
TEST(InsertBarriers, InAPipelineBetweenItsConsumersAndBeforeIt) {
  const T::PrimFunc f = T::prim_func("staged", [] {
    auto A = T::Tensor("A", {128, 256}, T::float16);
    auto B = T::Tensor("B", {128, 32}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto S = T::alloc_shared({128, 32}, T::float16, "S");
      auto R = T::alloc_shared({128, 32}, T::float16, "R");
      auto acc = T::alloc_fragment({128, 32}, T::float32, "acc");
      T::clear(acc);
      T::clear(S);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), S);
        T::copy(S, R);
        T::Parallel(128, 32, [&](T::Expr i, T::Expr j) { acc(i, j) = acc(i, j) + T::cast(R(i, j), T::float32); });
      });
      T::copy(acc, B);
    });
  });
  const std::string body = after(around_pass(f, "insert_barriers", Target::CUDA, 80).after);
  const std::string pipeline = body.substr(body.find("T.fill(S"));
  EXPECT_EQ(pipeline.substr(0, pipeline.find("T.copy(acc, B)")), R"(T.fill(S, T.float16(0.0))
T.tl.syncthreads()
with T.pipeline():
    for s in T.serial(2):
        if s < 8:
            with T.bind(k, s, 0, 8):
                with T.stage(k % 3, S[0, 0]):
                    with T.async_copies():
                        T.copy(A[0 : +128, k * 32 : +32], S)
        T.tl.cp_async_commit()
    for k_1 in T.serial(8):
        T.tl.cp_async_wait[1]()
        T.tl.syncthreads()
        if k_1 + 2 < 8:
            with T.bind(k_2, k_1 + 2, 0, 8):
                with T.stage(k_2 % 3, S[0, 0]):
                    with T.async_copies():
                        T.copy(A[0 : +128, k_2 * 32 : +32], S)
        T.tl.cp_async_commit()
        with T.stage(k_1 % 3, S[0, 0]):
            T.copy(S, R)
            T.tl.syncthreads()
            with T.parallel_over(acc[0, 0]):
                for i, j in T.Parallel(128, 32):
                    acc[i, j] = acc[i, j] + T.cast(R[i, j], "float32")
    T.tl.cp_async_wait[0]()
)");
}

// The mma.sync GEMM main loop meets once per iteration, between the gemm's head and tail: that
// barrier comes after the last read of the stage the next iteration's copies overwrite, so the
// body's end needs none (its reads are of the next stage, which no copy in flight writes).
TEST(InsertBarriers, TheCarriedFragmentLoopKeepsOneBarrierPerIteration) {
  const std::string body = kernel_body(around_pass(readme_gemm(), "insert_barriers", Target::CUDA, 80).after);
  const auto loop = body.find("    for k_1 in T.serial(8):\n"), end = body.find("\n    T.tl.cp_async_wait[0]()", loop);
  ASSERT_NE(loop, std::string::npos) << body;
  const std::string iteration = body.substr(loop, end - loop);
  EXPECT_EQ(iteration.find("T.tl.syncthreads()"), iteration.rfind("T.tl.syncthreads()")) << iteration;
  EXPECT_LT(iteration.find("gemm_ss_prefetched_head"), iteration.find("T.tl.syncthreads()"));
  EXPECT_GT(iteration.find("gemm_ss_prefetched_tail"), iteration.find("T.tl.syncthreads()"));
}

}  // namespace
}  // namespace tilescale::testing
