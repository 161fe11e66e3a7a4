// T::atomic_add, element-wise inside Parallel and tile-wise, on the CPU backend.
#include "test_util.h"

namespace tilescale::test {
namespace {

// A histogram: every element of X (values in [0, 16)) adds one to its bin, from many blocks.
TEST(AtomicAdd, HistogramInsideParallel) {
  const std::int64_t N = 1000, Bins = 16, Tile = 64;
  auto f = T::prim_func("histogram", [&] {
    auto X = T::Tensor("X", {N}, T::int32);
    auto H = T::Tensor("H", {Bins}, T::int32);
    T::Kernel(T::ceildiv(N, Tile), T::threads(64), [&](T::Expr bx) {
      T::Parallel(Tile, [&](T::Expr i) {
        T::Expr at = bx * Tile + i;
        T::If(at < N, [&] { T::atomic_add(H(X(at)), 1); });
      });
    });
  });
  Tensor X = random_tensor({N}, DataType::Int32, 41, 0, Bins);
  Tensor H = Tensor::zeros({Bins}, DataType::Int32);
  cpu(f)(X, H);
  std::vector<double> counts(Bins, 0);
  for (std::int64_t i = 0; i < N; ++i) counts[static_cast<int>(X.get({i}))] += 1;
  Tensor expected = tensor_from({Bins}, DataType::Int32, [&](const Shape& i) { return counts[i[0]]; });
  EXPECT_TRUE(equal(H, expected));
}

// Element-wise float atomics: every element of X added into one accumulator (any order).
TEST(AtomicAdd, FloatSumIntoOneElement) {
  const std::int64_t N = 777;
  auto f = T::prim_func("atomic_sum", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto S = T::Tensor("S", {1}, T::float32);
    T::Kernel(T::ceildiv(N, 128), T::threads(128), [&](T::Expr bx) {
      T::Parallel(128, [&](T::Expr i) {
        T::If(bx * 128 + i < N, [&] { T::atomic_add(S(0), X(bx * 128 + i)); });
      });
    });
  });
  Tensor X = random_tensor({N}, DataType::Float32, 42), S = Tensor::zeros({1}, DataType::Float32);
  cpu(f)(X, S);
  double sum = 0;
  for (std::int64_t i = 0; i < N; ++i) sum += X.get({i});
  Tensor expected = Tensor::empty({1}, DataType::Float32);
  expected.set({0}, sum);
  EXPECT_TRUE(close(S, expected, kFloat32SumTolerance));
}

// Tile-wise: each of G blocks adds its [16, 16] fragment into the same tile of C (a split-K
// reduction); C's size is not a multiple of 16, so the parts past its end are dropped.
TEST(AtomicAdd, TileWiseFromFragments) {
  const std::int64_t G = 3, M = 37, N = 21;
  auto f = T::prim_func("atomic_tile", [&] {
    auto X = T::Tensor("X", {G, M, N}, T::float32);
    auto C = T::Tensor("C", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, 16), T::ceildiv(M, 16), G, T::threads(128), [&](T::Expr bx, T::Expr by, T::Expr bz) {
      auto F = T::alloc_fragment({16, 16}, T::float32);
      T::copy(X(bz, by * 16, bx * 16), F);
      T::atomic_add(C(by * 16, bx * 16), F);
    });
  });
  Tensor X = random_tensor({G, M, N}, DataType::Float32, 43);
  Tensor C = random_tensor({M, N}, DataType::Float32, 44);
  Tensor before = copy_of(C);
  cpu(f)(X, C);
  Tensor expected = tensor_from({M, N}, DataType::Float32, [&](const Shape& i) {
    double s = before.get(i);
    for (std::int64_t z = 0; z < G; ++z) s += X.get({z, i[0], i[1]});
    return s;
  });
  EXPECT_TRUE(close(C, expected, kFloat32SumTolerance));
}

// Atomics into shared memory from thread-level code: every thread adds its index into one slot.
TEST(AtomicAdd, SharedFromThreads) {
  auto f = T::prim_func("atomic_shared", [&] {
    auto Y = T::Tensor("Y", {2}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto S = T::alloc_shared({2}, T::int32);
      T::clear(S);
      T::Expr tx = T::get_thread_binding();
      T::atomic_add(S(tx % 2), tx);
      T::copy(S, Y);
    });
  });
  Tensor Y = poisoned({2}, DataType::Int32);
  cpu(f)(Y);
  // Even threads 0+2+...+62 = 992, odd 1+3+...+63 = 1024.
  EXPECT_EQ(Y.get({0}), 992);
  EXPECT_EQ(Y.get({1}), 1024);
}

}  // namespace
}  // namespace tilescale::test
