// Loops, branches, scalars and thread-level code on the CPU backend.
#include "test_util.h"

namespace tilescale::test {
namespace {

TEST(Parallel, OneDimensionalWithTailGuard) {
  const std::int64_t N = 1001;
  auto f = T::prim_func("axpy", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {N}, T::float32);
    auto Z = T::Tensor("Z", {N}, T::float32);
    T::Kernel(T::ceildiv(N, 256), T::threads(128), [&](T::Expr bx) {
      T::Parallel(256, [&](T::Expr i) {
        T::Expr at = bx * 256 + i;
        T::If(at < N, [&] { Z(at) = X(at) * 3.0f + Y(at); });
      });
    });
  });
  Tensor X = random_tensor({N}, DataType::Float32, 51), Y = random_tensor({N}, DataType::Float32, 52);
  Tensor Z = poisoned({N}, DataType::Float32);
  cpu(f)(X, Y, Z);
  Tensor expected = tensor_from({N}, DataType::Float32, [&](const Shape& i) {
    return double(float(float(X.get(i) * 3.0f) + float(Y.get(i))));
  });
  EXPECT_TRUE(equal(Z, expected));
}

TEST(Parallel, TwoDimensionalTranspose) {
  const std::int64_t M = 45, N = 70;
  auto f = T::prim_func("transpose", [&] {
    auto A = T::Tensor("A", {M, N}, T::float16);
    auto B = T::Tensor("B", {N, M}, T::float16);
    T::Kernel(T::ceildiv(N, 32), T::ceildiv(M, 32), T::threads(128), [&](T::Expr bx, T::Expr by) {
      auto S = T::alloc_shared({32, 32}, T::float16);
      T::copy(A(by * 32, bx * 32), S);
      T::Parallel(32, 32, [&](T::Expr i, T::Expr j) {
        T::If(bx * 32 + i < N && by * 32 + j < M, [&] { B(bx * 32 + i, by * 32 + j) = S(j, i); });
      });
    });
  });
  Tensor A = random_tensor({M, N}, DataType::Float16, 53), B = poisoned({N, M}, DataType::Float16);
  cpu(f)(A, B);
  EXPECT_TRUE(equal(B, tensor_from({N, M}, DataType::Float16, [&](const Shape& i) { return A.get({i[1], i[0]}); })));
}

TEST(Parallel, ThreeAndFourDimensional) {
  const std::int64_t P = 3, Q = 5, R = 7, S = 2;
  auto f = T::prim_func("par34", [&] {
    auto X = T::Tensor("X", {P, Q, R}, T::float32);
    auto Y = T::Tensor("Y", {P, Q, R}, T::float32);
    auto Z = T::Tensor("Z", {S, P, Q, R}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({P, Q, R}, T::float32);
      T::Parallel(P, Q, R, [&](T::Expr i, T::Expr j, T::Expr k) { F(i, j, k) = X(i, j, k) + T::cast(i * 100 + j * 10 + k, T::float32); });
      T::copy(F, Y);
      T::Parallel(S, P, Q, R, [&](T::Expr a, T::Expr i, T::Expr j, T::Expr k) { Z(a, i, j, k) = a * 1000 + i * 100 + j * 10 + k; });
    });
  });
  Tensor X = random_tensor({P, Q, R}, DataType::Float32, 54);
  Tensor Y = poisoned({P, Q, R}, DataType::Float32), Z = poisoned({S, P, Q, R}, DataType::Int32);
  cpu(f)(X, Y, Z);
  EXPECT_TRUE(equal(Y, tensor_from({P, Q, R}, DataType::Float32, [&](const Shape& i) {
    return double(float(X.get(i) + float(i[0] * 100 + i[1] * 10 + i[2])));
  })));
  EXPECT_TRUE(equal(Z, tensor_from({S, P, Q, R}, DataType::Int32, [&](const Shape& i) {
    return double(i[0] * 1000 + i[1] * 100 + i[2] * 10 + i[3]);
  })));
}

// Pipelined with explicit order/stage lists gives the same answer as a plain loop.
TEST(Pipelined, OrderAndStageDoNotChangeResults) {
  const std::int64_t N = 16, K = 100;
  auto f = T::prim_func("pipelined_sum", [&] {
    auto X = T::Tensor("X", {K, N}, T::float32);
    auto Y = T::Tensor("Y", {N}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({16, N}, T::float32);
      auto part = T::alloc_fragment({N}, T::float32);
      auto acc = T::alloc_fragment({N}, T::float32);
      T::clear(acc);
      T::Pipelined(T::ceildiv(K, 16), T::PipelineOptions{.num_stages = 2, .order = {0, 1, 2}, .stage = {0, 1, 1}},
                   [&](T::Expr k) {
                     T::copy(X(k * 16, 0), S);
                     T::reduce_sum(S, part, 0);
                     T::Parallel(N, [&](T::Expr i) { acc(i) += part(i); });
                   });
      T::copy(acc, Y);
    });
  });
  Tensor X = random_tensor({K, N}, DataType::Float32, 55), Y = poisoned({N}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_TRUE(close(Y, tensor_from({N}, DataType::Float32, [&](const Shape& i) {
    double s = 0;
    for (std::int64_t k = 0; k < K; ++k) s += X.get({k, i[0]});
    return s;
  }), kFloat32SumTolerance));
}

TEST(Serial, BeginEndAndUnroll) {
  auto f = T::prim_func("serial", [&] {
    auto X = T::Tensor("X", {10}, T::int32);
    auto Y = T::Tensor("Y", {3}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto s = T::alloc_var(T::int32, 0, "s");
      T::serial(2, 7, [&](T::Expr i) { s += X(i); });  // X[2] + ... + X[6]
      Y(0) = s;
      auto p = T::alloc_var(T::int32, 1, "p");
      T::unroll(4, [&](T::Expr i) { p *= i + 2; });  // 2·3·4·5
      Y(1) = p;
      auto count = T::alloc_var(T::int32, 0, "count");
      T::serial(3, [&](T::Expr i) { T::serial(i, 4, [&](T::Expr j) { count += j; }); });  // nested, dependent
      Y(2) = count;
    });
  });
  Tensor X = random_tensor({10}, DataType::Int32, 56, -50, 50), Y = poisoned({3}, DataType::Int32);
  cpu(f)(X, Y);
  double s = 0;
  for (int i = 2; i < 7; ++i) s += X.get({i});
  EXPECT_EQ(Y.get({0}), s);
  EXPECT_EQ(Y.get({1}), 120);
  EXPECT_EQ(Y.get({2}), (0 + 1 + 2 + 3) + (1 + 2 + 3) + (2 + 3));
}

TEST(Branches, IfElseInsideParallel) {
  const std::int64_t N = 300;
  auto f = T::prim_func("relu_or_square", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {N}, T::float32);
    T::Kernel(T::ceildiv(N, 128), T::threads(128), [&](T::Expr bx) {
      T::Parallel(128, [&](T::Expr i) {
        T::Expr at = bx * 128 + i;
        T::If(at < N, [&] {
          T::If(X(at) > 0, [&] { Y(at) = X(at) * X(at); }).Else([&] { Y(at) = -X(at); });
        });
      });
    });
  });
  Tensor X = random_tensor({N}, DataType::Float32, 57), Y = poisoned({N}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_TRUE(equal(Y, tensor_from({N}, DataType::Float32, [&](const Shape& i) {
    const float x = float(X.get(i));
    return x > 0 ? double(x * x) : double(-x);
  })));
}

// While with Break: per block, the smallest r with r·r > X[b] (a uniform scalar loop).
TEST(Branches, WhileWithBreak) {
  const std::int64_t G = 20;
  auto f = T::prim_func("isqrt", [&] {
    auto X = T::Tensor("X", {G}, T::int32);
    auto Y = T::Tensor("Y", {G}, T::int32);
    auto Z = T::Tensor("Z", {G}, T::int32);
    T::Kernel(G, T::threads(32), [&](T::Expr bx) {
      auto r = T::alloc_var(T::int32, 0, "r");
      auto steps = T::alloc_var(T::int32, 0, "steps");
      T::While(r < 100000, [&] {
        steps += 1;
        T::If(r * r > X(bx), [&] { T::Break(); });
        r += 1;
      });
      Y(bx) = r;
      // Break out of a serial loop: the first index whose square exceeds X[b].
      auto first = T::alloc_var(T::int32, -1, "first");
      T::serial(1000, [&](T::Expr i) {
        T::If(i * i > X(bx), [&] {
          first = i;
          T::Break();
        });
      });
      Z(bx) = first * 1000 + steps;
    });
  });
  Tensor X = random_tensor({G}, DataType::Int32, 58, 0, 5000);
  Tensor Y = poisoned({G}, DataType::Int32), Z = poisoned({G}, DataType::Int32);
  cpu(f)(X, Y, Z);
  for (std::int64_t b = 0; b < G; ++b) {
    const auto x = static_cast<std::int64_t>(X.get({b}));
    std::int64_t r = 0;
    while (r * r <= x) ++r;
    EXPECT_EQ(Y.get({b}), r) << "block " << b << " x=" << x;
    EXPECT_EQ(Z.get({b}), r * 1000 + (r + 1)) << "block " << b;
  }
}

// A T::Break under a condition on the thread index leaves only the loops of the threads that take
// it (each thread runs its own loop, as on the GPU).
TEST(Branches, BreakTakenByOnlySomeThreadsLeavesTheirOwnLoop) {
  auto f = T::prim_func("divergent_break", [] {
    auto A = T::Tensor("A", {64}, T::int32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      T::serial(4, [&](T::Expr i) {
        T::If(tx < 10, [&] { T::Break(); });
        A(tx) = i;
      });
    });
  });
  Tensor A = Tensor::zeros({64}, DataType::Int32);
  cpu(f)(A);
  for (std::int64_t t = 0; t < 64; ++t) EXPECT_EQ(A.get({t}), t < 10 ? 0 : 3) << "thread " << t;
}

// A scalar named with a string literal (not taken for an initial value) or initialized with a
// number.
TEST(Scalars, AllocVarWithNameOrInitialValue) {
  auto f = T::prim_func("vars", [] {
    auto Y = T::Tensor("Y", {3}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto best = T::alloc_var(T::float32, "best");
      auto count = T::alloc_var(T::int32, 0);
      auto scale = T::alloc_var(T::float32, 1.5, "scale");
      best = 2.0f;
      count += 3;
      Y(0) = best;
      Y(1) = T::cast(count, T::float32);
      Y(2) = scale;
    });
  });
  EXPECT_NE(f.to_string().find("best"), std::string::npos) << f.to_string();
  Tensor Y = poisoned({3}, DataType::Float32);
  cpu(f)(Y);
  EXPECT_EQ(Y.get({0}), 2.0);
  EXPECT_EQ(Y.get({1}), 3.0);
  EXPECT_EQ(Y.get({2}), 1.5);
}

// alloc_local as a small scratch array, alloc_var as a running value.
TEST(Scalars, LocalArrayAndVar) {
  const std::int64_t N = 8;
  auto f = T::prim_func("local", [&] {
    auto X = T::Tensor("X", {N, 4}, T::float32);
    auto Y = T::Tensor("Y", {N}, T::float32);
    T::Kernel(N, T::threads(32), [&](T::Expr bx) {
      auto L = T::alloc_local({4}, T::float32, "L");
      // std::string: a string literal alone is ambiguous with the (dtype, init) overload (reported).
      auto best = T::alloc_var(T::float32, std::string("best"));
      T::serial(4, [&](T::Expr k) { L(k) = X(bx, k) * X(bx, k); });
      best = L(0);
      T::serial(1, 4, [&](T::Expr k) { best = T::max(best, L(k)); });
      Y(bx) = best;
    });
  });
  Tensor X = random_tensor({N, 4}, DataType::Float32, 59), Y = poisoned({N}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_TRUE(equal(Y, tensor_from({N}, DataType::Float32, [&](const Shape& i) {
    float m = -INFINITY;
    for (int k = 0; k < 4; ++k) {
      const float x = float(X.get({i[0], k}));
      m = std::max(m, x * x);
    }
    return double(m);
  })));
}

// Thread-level code: each of 64 threads sums a strided slice into its own variable and writes it.
TEST(Threads, StridedSumPerThread) {
  const std::int64_t N = 1000, Th = 64;
  auto f = T::prim_func("strided", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {Th}, T::float32);
    T::Kernel(1, T::threads(Th), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      auto acc = T::alloc_var(T::float32, 0.0f, "acc");
      T::serial(T::ceildiv(N, Th), [&](T::Expr k) {
        T::If(k * Th + tx < N, [&] { acc += X(k * Th + tx); });
      });
      Y(tx) = acc;
    });
  });
  Tensor X = random_tensor({N}, DataType::Float32, 60), Y = poisoned({Th}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_TRUE(equal(Y, tensor_from({Th}, DataType::Float32, [&](const Shape& t) {
    float s = 0;
    for (std::int64_t i = t[0]; i < N; i += Th) s += float(X.get({i}));
    return double(s);
  })));
}

// Thread-level tree reduction in shared memory, one block per 128-element chunk.
TEST(Threads, SharedMemoryTreeReduction) {
  const std::int64_t N = 1000, Th = 128;
  auto f = T::prim_func("tree", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {(N + Th - 1) / Th}, T::float32);
    T::Kernel(T::ceildiv(N, Th), T::threads(Th), [&](T::Expr bx) {
      auto S = T::alloc_shared({Th}, T::float32);
      T::Expr tx = T::get_thread_binding();
      T::Expr at = bx * Th + tx;
      S(tx) = T::if_then_else(at < N, X(T::min(at, N - 1)), 0.0f);
      for (std::int64_t stride = Th / 2; stride > 0; stride /= 2)
        T::If(tx < stride, [&] { S(tx) = S(tx) + S(tx + stride); });
      T::If(tx == 0, [&] { Y(bx) = S(0); });
    });
  });
  const std::int64_t G = (N + Th - 1) / Th;
  Tensor X = random_tensor({N}, DataType::Float32, 61), Y = poisoned({G}, DataType::Float32);
  cpu(f)(X, Y);
  EXPECT_TRUE(close(Y, tensor_from({G}, DataType::Float32, [&](const Shape& b) {
    double s = 0;
    for (std::int64_t i = b[0] * Th; i < std::min(N, (b[0] + 1) * Th); ++i) s += X.get({i});
    return s;
  }), kFloat32SumTolerance));
}

// Thread-private locals under thread-level code: each thread keeps a 4-element window.
TEST(Threads, LocalArrayPerThread) {
  const std::int64_t Th = 32;
  auto f = T::prim_func("local_per_thread", [&] {
    auto Y = T::Tensor("Y", {Th}, T::int32);
    T::Kernel(1, T::threads(Th), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      auto L = T::alloc_local({4}, T::int32);
      T::serial(4, [&](T::Expr k) { L(k) = tx * 10 + k; });
      Y(tx) = L(0) + L(1) + L(2) + L(3);
    });
  });
  Tensor Y = poisoned({Th}, DataType::Int32);
  cpu(f)(Y);
  EXPECT_TRUE(equal(Y, tensor_from({Th}, DataType::Int32, [](const Shape& t) { return double(t[0] * 40 + 6); })));
}

// A symbolic dimension: one compiled kernel called with two different M.
TEST(Symbolic, SameKernelTwoSizes) {
  T::Expr M = T::dynamic("M");
  const std::int64_t N = 24;
  auto f = T::prim_func("scale_rows", [&] {
    auto A = T::Tensor("A", {M, N}, T::float32);
    auto B = T::Tensor("B", {M, N}, T::float32);
    auto R = T::Tensor("R", {M}, T::float32);
    T::Kernel(T::ceildiv(M, 16), T::threads(64), [&](T::Expr bx) {
      auto F = T::alloc_fragment({16, N}, T::float32);
      auto s = T::alloc_fragment({16}, T::float32);
      T::copy(A(bx * 16, 0), F);
      T::reduce_sum(F, s, 1);
      T::Parallel(16, N, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2; });
      T::copy(F, B(bx * 16, 0));
      T::copy(s, R(bx * 16));
    });
  });
  Kernel k = cpu(f);
  for (std::int64_t m : {50, 130}) {
    Tensor A = random_tensor({m, N}, DataType::Float32, 62 + m);
    Tensor B = poisoned({m, N}, DataType::Float32), R = poisoned({m}, DataType::Float32);
    k(A, B, R);
    EXPECT_TRUE(equal(B, tensor_from({m, N}, DataType::Float32, [&](const Shape& i) { return 2 * A.get(i); })))
        << "M=" << m;
    EXPECT_TRUE(close(R, tensor_from({m}, DataType::Float32, [&](const Shape& i) {
      double s = 0;
      for (std::int64_t j = 0; j < N; ++j) s += A.get({i[0], j});
      return s;
    }), kFloat32SumTolerance)) << "M=" << m;
  }
}

// Symbolic dimensions shared between tensors, and one used in a Parallel loop's guard.
TEST(Symbolic, TwoDimsSharedBetweenTensors) {
  T::Expr M = T::dynamic("M"), N = T::dynamic("N");
  auto f = T::prim_func("outer", [&] {
    auto x = T::Tensor("x", {M}, T::float32);
    auto y = T::Tensor("y", {N}, T::float32);
    auto Z = T::Tensor("Z", {M, N}, T::float32);
    T::Kernel(T::ceildiv(N, 8), T::ceildiv(M, 8), T::threads(32), [&](T::Expr bx, T::Expr by) {
      T::Parallel(8, 8, [&](T::Expr i, T::Expr j) {
        T::Expr r = by * 8 + i, c = bx * 8 + j;
        T::If(r < M && c < N, [&] { Z(r, c) = x(r) * y(c); });
      });
    });
  });
  Kernel k = cpu(f);
  for (auto [m, n] : {std::pair<std::int64_t, std::int64_t>{5, 17}, {20, 3}}) {
    Tensor x = random_tensor({m}, DataType::Float32, 70), y = random_tensor({n}, DataType::Float32, 71);
    Tensor Z = poisoned({m, n}, DataType::Float32);
    k(x, y, Z);
    EXPECT_TRUE(equal(Z, tensor_from({m, n}, DataType::Float32, [&](const Shape& i) {
      return double(float(x.get({i[0]})) * float(y.get({i[1]})));
    })));
  }
}

}  // namespace
}  // namespace tilescale::test
