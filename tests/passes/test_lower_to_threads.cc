// lower_to_threads: the tile ops left and the T::Parallel nests become thread-level IR, fragments
// the Local arrays of their registers, a tensor's strides its parameter's variables, the ops'
// scratch shared memory is placed after the kernel's buffers.
#include <gtest/gtest.h>

#include "pass_test.h"
#include "staged_reads_program.h"
#include "test_util.h"

namespace tilescale::testing {
namespace {

namespace T = lang;

// 64 elements over 32 threads: x and y get the default partition, two registers per thread.
T::PrimFunc scale(bool print) {
  return T::prim_func("scale", [=] {
    auto X = T::Tensor("X", {64}, T::float32);
    auto Y = T::Tensor("Y", {64}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto x = T::alloc_fragment({64}, T::float32, "x");
      T::copy(X(0), x);
      T::Parallel(64, [&](T::Expr i) { x(i) = x(i) * 2.0f; });
      if (print) T::print("x", x);
      T::copy(x, Y(0));
    });
  });
}

TEST(LowerToThreads, AParallelNestIsItsBodyPerRegisterOverTheRegisterArray) {
  const AroundPass p = around_pass(scale(false), "lower_to_threads", Target::CUDA, 80);
  EXPECT_NE(kernel_body(p.before).find(R"(x = T.alloc_fragment((64,), "float32")
)"), std::string::npos) << p.before;
  const std::string body = kernel_body(p.after);
  EXPECT_NE(body.find(R"(x = T.alloc_local((2,), "float32")
T.annotate("fragment_registers", x)
)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"(with T.expansion(of="T.Parallel"):
    with T.unit():
        x[0] = x[0] * 2.0
    with T.unit():
        x[1] = x[1] * 2.0
)"), std::string::npos) << body;
  EXPECT_EQ(body.find("T.Parallel("), std::string::npos) << body;
  EXPECT_EQ(body.find("layout"), std::string::npos) << body;
}

TEST(LowerToThreads, PrintingAFragmentPrintsItsRegisters) {
  const std::string body = kernel_body(around_pass(scale(true), "lower_to_threads", Target::CUDA, 80).after);
  EXPECT_NE(body.find(R"(T.print(x, msg="x"))"), std::string::npos) << body;
  // Every thread prints its own registers (the array is a fragment's: fragment_registers).
  const std::string cuda = generate_cuda(scale(true), "sm_80");
  EXPECT_NE(cuda.find("for (int r = 0; r < 2; ++r)"), std::string::npos) << cuda;
  EXPECT_NE(cuda.find("thread %d] %s: %s register %d"), std::string::npos) << cuda;
}

// Tile ops become their expansions; a vector copy from a global tensor checks the tensor's stride,
// the parameter's variable X_stride0.
TEST(LowerToThreads, ATileOpIsItsExpansionWithTheTensorsStrideVariables) {
  const auto f = T::prim_func("rows", [] {
    auto X = T::Tensor("X", {64, 64}, T::float32);
    auto Y = T::Tensor("Y", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto staged = T::alloc_shared({64, 64}, T::float32, "staged");
      auto x = T::alloc_fragment({64, 64}, T::float32, "x");
      auto s = T::alloc_fragment({64}, T::float32, "s");
      T::copy(X(0, 0), staged);
      T::copy(staged, x);
      T::reduce_sum(x, s, 1);
      T::copy(s, Y(0));
    });
  });
  const AroundPass p = around_pass(f, "lower_to_threads", Target::CUDA, 80);
  EXPECT_NE(p.before.find("T.reduce("), std::string::npos) << p.before;
  const std::string body = kernel_body(p.after);
  EXPECT_EQ(body.find("T.copy("), std::string::npos) << body;
  EXPECT_EQ(body.find("T.reduce("), std::string::npos) << body;
  EXPECT_NE(body.find("with T.expansion(of=\"copy\"):\n    with T.unit():\n"), std::string::npos) << body;
  EXPECT_NE(body.find("with T.expansion(of=\"reduce\"):\n    with T.unit():\n"), std::string::npos) << body;
  EXPECT_NE(body.find("X_stride0"), std::string::npos) << body;
}

// A reduction across warps meets in scratch shared memory after the kernel's own buffers, which
// shared_memory_total then counts.
TEST(LowerToThreads, TheOpsScratchLiesAfterTheKernelsSharedMemory) {
  const auto f = T::prim_func("row_max", [] {
    auto X = T::Tensor("X", {4, 1024}, T::float32);
    auto Y = T::Tensor("Y", {4}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto staged = T::alloc_shared({4, 1024}, T::float32, "staged");
      auto x = T::alloc_fragment({4, 1024}, T::float32, "x");
      auto m = T::alloc_fragment({4}, T::float32, "m");
      T::copy(X(0, 0), staged);
      T::copy(staged, x);
      T::reduce_max(x, m, 1);
      T::copy(m, Y(0));
    });
  });
  const AroundPass p = around_pass(f, "lower_to_threads", Target::CUDA, 80);
  EXPECT_NE(kernel_body(p.before).find("T.annotate(\"shared_memory_total\", bytes=16384)\n"), std::string::npos) << p.before;
  const std::string body = kernel_body(p.after);
  EXPECT_NE(body.find("T.annotate(\"shared_memory_total\", bytes=16512)\n"), std::string::npos) << body;
  EXPECT_NE(body.find(R"(ws = T.alloc_shared((16,), "float32")
        T.annotate("shared_memory", ws, offset=16384, stage_bytes=64, stages=1)
)"), std::string::npos) << body;
}

// A read of elements other threads hold (staged, plan_parallel_loops) goes through scratch shared
// memory (after the kernel's two 4 KB tiles): each thread stores its registers of x there (x[0]
// and x[1] hold elements 2 tx and 2 tx + 1), the block meets, the nest reads the copy, and the block meets again before the
// scratch is reused.
TEST(LowerToThreads, AStagedReadReadsTheFragmentsCopyInSharedMemory) {
  const std::string body = kernel_body(around_pass(test::staged_reads_program(), "lower_to_threads", Target::CUDA, 80).after);
  const auto nest = body.find("with T.expansion(of=\"T.Parallel\"):");
  ASSERT_NE(nest, std::string::npos) << body;
  EXPECT_EQ(body.substr(nest, body.find("    with T.unit():\n        y[1]", nest) - nest), R"(with T.expansion(of="T.Parallel"):
    ws = T.alloc_shared((256,), "float32")
    T.annotate("shared_memory", ws, offset=8192, stage_bytes=1024, stages=1)
    ws[tx * 2] = x[0]
    ws[tx * 2 + 1] = x[1]
    T.tl.syncthreads()
    with T.unit():
        y[0] = ws[255 - tx * 2]
)");
  EXPECT_NE(body.find("        y[1] = ws[255 - (tx * 2 + 1)]\n    T.tl.syncthreads()\n", nest), std::string::npos) << body;
}

}  // namespace
}  // namespace tilescale::testing
