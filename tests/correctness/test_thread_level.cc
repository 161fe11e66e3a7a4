// Per-thread state on the CPU backend: statements that never name the thread index but read or
// write per-thread storage set from it run once per thread (ops/thread_level.h). Each test is a
// shape that the CPU backend used to run once per block, with thread 0's values.
#include "ir/visitor.h"
#include "ops/thread_level.h"
#include "test_util.h"
#include "thread_level_programs.h"

namespace tilescale::test {
namespace {

using namespace thread_level;

TEST(ThreadLevel, LocalUpdatedWithoutNamingTheThread) {
  Tensor Y = poisoned({256}, DataType::Int32);
  cpu(local_updated_without_naming_the_thread())(Y);
  for (std::int64_t i = 0; i < 256; ++i) EXPECT_EQ(Y.get({i}), 2 * (i % 128) + 1) << "at " << i;
}

TEST(ThreadLevel, WhileConditionReadsAPerThreadVariable) {
  Tensor Y = poisoned({128}, DataType::Int32);
  cpu(while_on_a_per_thread_variable())(Y);
  for (std::int64_t i = 0; i < 128; ++i) EXPECT_EQ(Y.get({i}), 10 - i % 5) << "at " << i;
}

TEST(ThreadLevel, SplitKGemvAccumulatesPerThread) {
  Tensor A = random_tensor({kGemvK}, DataType::Float32, 71), B = random_tensor({kGemvN, kGemvK}, DataType::Float32, 72);
  Tensor C = poisoned({kGemvN}, DataType::Float32);
  cpu(split_k_gemv())(A, B, C);
  for (std::int64_t n = 0; n < kGemvN; ++n) {
    double expected = 0;
    for (std::int64_t k = 0; k < kGemvK; ++k) expected += A.get({k}) * B.get({n, k});
    EXPECT_NEAR(C.get({n}), expected, 1e-4 * (1 + std::abs(expected))) << "row " << n;
  }
}

// A 2-D block (T::threads(32, 4); 4 x 4 and 12 x 4 are not whole warps): get_thread_binding(0) and
// (1) are the thread's column and its slice of K.
TEST(ThreadLevel, GemvOnATwoDimensionalBlock) {
  Tensor A = random_tensor({kGemv2dK}, DataType::Float32, 73), B = random_tensor({kGemv2dN, kGemv2dK}, DataType::Float32, 74);
  for (auto [bn, bk] : {std::pair{32, 4}, {4, 4}, {12, 4}}) {
    Tensor C = poisoned({kGemv2dN}, DataType::Float32);
    cpu(gemv_on_a_2d_block(bn, bk))(A, B, C);
    for (std::int64_t n = 0; n < kGemv2dN; ++n) {
      double expected = 0;
      for (std::int64_t k = 0; k < kGemv2dK; ++k) expected += A.get({k}) * B.get({n, k});
      EXPECT_NEAR(C.get({n}), expected, 1e-4 * (1 + std::abs(expected))) << bn << "x" << bk << " row " << n;
    }
  }
}

// Tile ops on blocks that are not whole warps compute what they compute on a block of 128 threads.
TEST(ThreadLevel, TileOpsOnBlocksThatAreNotWholeWarps) {
  Tensor A = random_tensor({16, 64}, DataType::Float32, 75);
  auto run = [&](int threads) {
    std::vector<Tensor> out{poisoned({16}, DataType::Float32), poisoned({16, 64}, DataType::Float32),
                            poisoned({16, 64}, DataType::Float32)};
    cpu(tile_ops_on_a_block_of(threads))(A, out[0], out[1], out[2]);
    return out;
  };
  const auto want = run(128);
  for (std::int64_t j = 0; j < 64; ++j) EXPECT_FLOAT_EQ(want[2].get({0, j}), 2 * A.get({15, j}) + 1);
  for (int threads : {16, 48, 7}) {
    const auto got = run(threads);
    for (int o = 0; o < 3; ++o) EXPECT_EQ(max_relative_error(got[o], want[o]), 0) << threads << " threads, output " << o;
  }
}

// Threads are numbered x fastest: thread t of T::threads(8, 4, 2) is (t % 8, t / 8 % 4, t / 32).
TEST(ThreadLevel, ThreadIndicesOfAThreeDimensionalBlock) {
  Tensor I = poisoned({64, 3}, DataType::Int32);
  cpu(thread_indices_of_a_3d_block())(I);
  for (std::int64_t t = 0; t < 64; ++t) {
    EXPECT_EQ(I.get({t, 0}), t % 8) << t;
    EXPECT_EQ(I.get({t, 1}), t / 8 % 4) << t;
    EXPECT_EQ(I.get({t, 2}), t / 32) << t;
  }
}

// A local that only uniform statements write stays uniform: one copy, read by every thread.
TEST(ThreadLevel, UniformLocalsStayUniform) {
  auto f = T::prim_func("uniform_local", [] {
    auto X = T::Tensor("X", {4}, T::int32);
    auto Y = T::Tensor("Y", {128}, T::int32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto base = T::alloc_var(T::int32, 0, "base");
      T::serial(4, [&](T::Expr i) { base += X(i); });
      T::Parallel(128, [&](T::Expr i) { Y(i) = base + i; });
    });
  });
  Tensor X = tensor_from({4}, DataType::Int32, [](const Shape& i) { return double(i[0] + 1); });
  Tensor Y = poisoned({128}, DataType::Int32);
  cpu(f)(X, Y);
  for (std::int64_t i = 0; i < 128; ++i) EXPECT_EQ(Y.get({i}), 10 + i);
}

// The analysis itself: what varies, transitively, and which statements diverge.
TEST(ThreadLevel, AnalysisFollowsPerThreadStorageTransitively) {
  const auto f = while_on_a_per_thread_variable().node();
  const auto* kernel = ir::as<ir::KernelNode>(f->body);
  ASSERT_NE(kernel, nullptr);
  ops::ThreadLevel tl(*kernel);
  int whiles = 0;
  struct Walk : ir::Visitor {
    const ops::ThreadLevel& tl;
    int& whiles;
    Walk(const ops::ThreadLevel& t, int& w) : tl(t), whiles(w) {}
    void visit(const ir::WhileNode* op) override {
      EXPECT_TRUE(tl.diverges(*op));
      ++whiles;
      Visitor::visit(op);
    }
    void visit(const ir::AllocNode* op) override { EXPECT_TRUE(tl.varies(op->buffer.get())) << op->buffer->name; }
  } walk(tl, whiles);
  walk.visit_stmt(kernel->body);
  EXPECT_EQ(whiles, 1);
}

TEST(ThreadLevel, DisagreementNamesTheStatement) {
  ops::ThreadLevelLog cpu_log{{"if (tx < 4)", true}, {"for k in [0, +8)", false}};
  ops::ThreadLevelLog cuda_log{{"for k in [0, +8)", false}, {"if (tx < 4)", true}, {"for k in [0, +8)", false}};
  EXPECT_EQ(ops::disagreement(cpu_log, cuda_log), "");
  cuda_log.push_back({"if (tx < 4)", false});
  EXPECT_NE(ops::disagreement(cpu_log, cuda_log).find("`if (tx < 4)` as diverging but the CUDA generator as both"),
            std::string::npos)
      << ops::disagreement(cpu_log, cuda_log);
}

}  // namespace
}  // namespace tilescale::test
