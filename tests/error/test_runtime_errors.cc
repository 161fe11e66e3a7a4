// Calls that cannot run as asked: RuntimeError naming the kernel, the argument or buffer, and what
// was expected and found.
#include "codegen/cpu/executor.h"
#include "ir/IR.h"
#include "ir/verifier.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

T::PrimFunc add_rows() {
  return T::prim_func("add_rows", [] {
    auto A = T::Tensor("A", {64, 32}, T::float32);
    auto B = T::Tensor("B", {64, 32}, T::float32);
    T::Kernel(2, T::threads(64), [&](T::Expr bx) {
      T::Parallel(32, 32, [&](T::Expr i, T::Expr j) { B(bx * 32 + i, j) = A(bx * 32 + i, j) + 1; });
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Arguments checked against the signature

TEST(ArgumentErrors, DtypeMismatch) {
  Kernel k = cpu(add_rows());
  Tensor A = Tensor::zeros({64, 32}, DataType::Float16), B = Tensor::zeros({64, 32}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, B), "argument 0 (A)", "add_rows", "float16", "expects float32");
}

TEST(ArgumentErrors, WrongNumberOfArguments) {
  Kernel k = cpu(add_rows());
  Tensor A = Tensor::zeros({64, 32}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A), "add_rows", "1 arguments", "takes 2", "(A, B)");
  EXPECT_RUNTIME_ERROR(k(A, A, A), "add_rows", "3 arguments", "takes 2");
}

TEST(ArgumentErrors, StaticShapeMismatch) {
  Kernel k = cpu(add_rows());
  Tensor A = Tensor::zeros({64, 32}, DataType::Float32), B = Tensor::zeros({64, 16}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, B), "argument 1 (B)", "add_rows", "dim 1 is 16", "expects 32");
  // A constant dimension is not written as an equation ("expects 32 = 32").
  EXPECT_EQ(message_of([&] { k(A, B); }).find("32 = 32"), std::string::npos) << message_of([&] { k(A, B); });
}

TEST(ArgumentErrors, RankMismatch) {
  Kernel k = cpu(add_rows());
  Tensor A = Tensor::zeros({64 * 32}, DataType::Float32), B = Tensor::zeros({64, 32}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, B), "argument 0 (A)", "rank 1", "expects rank 2");
}

TEST(ArgumentErrors, EmptyTensorHandle) {
  Kernel k = cpu(add_rows());
  Tensor B = Tensor::zeros({64, 32}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(Tensor(), B), "argument 0 (A)", "empty");
}

TEST(ArgumentErrors, SymbolicDimensionBoundInconsistently) {
  T::Expr M = T::dynamic("M");
  auto f = T::prim_func("copy_dyn", [&] {
    auto A = T::Tensor("A", {M, 16}, T::float32);
    auto B = T::Tensor("B", {M, 16}, T::float32);
    T::Kernel(T::ceildiv(M, 16), T::threads(32), [&](T::Expr bx) {
      auto S = T::alloc_shared({16, 16}, T::float32);
      T::copy(A(bx * 16, 0), S);
      T::copy(S, B(bx * 16, 0));
    });
  });
  Kernel k = cpu(f);
  Tensor A = Tensor::zeros({32, 16}, DataType::Float32), B = Tensor::zeros({48, 16}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(A, B), "argument 1 (B)", "copy_dyn", "symbolic dimension M", "48", "A dim 0",
                       "already bound it to 32");
}

// A symbolic int32 dimension cannot hold 3e9 (the kernel would see it cut to 32 bits).
TEST(ArgumentErrors, SymbolicDimensionBeyondItsType) {
  T::Expr N = T::dynamic("N");
  auto f = T::prim_func("long_vector", [&] {
    auto X = T::Tensor("X", {N}, T::int8);
    T::Kernel(1, T::threads(32), [&](T::Expr) { X(0) = 1; });
  });
  std::int8_t x = 0;
  Tensor X = Tensor::wrap(&x, {3'000'000'000}, DataType::Int8, {0});
  EXPECT_RUNTIME_ERROR(cpu(f)(X), "argument 0 (X)", "long_vector", "dim 0 is 3000000000", "beyond the range of int32",
                       "symbolic dimension N", "T::dynamic(\"N\", T::int64)");
}

TEST(ArgumentErrors, DerivedDimensionMismatch) {
  T::Expr N = T::dynamic("N");
  auto f = T::prim_func("pairs", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {N * 2}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::If(N > 0, [&] { Y(0) = X(0); }); });
  });
  Kernel k = cpu(f);
  Tensor X = Tensor::zeros({8}, DataType::Float32), Y = Tensor::zeros({15}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(X, Y), "argument 1 (Y)", "pairs", "dim 0 is 15", "expects N * 2 = 16");
}

// ------------------------------------------------------------------------------------------------
// Failures inside the kernel

TEST(KernelRunErrors, OutOfBoundsLoadInParallel) {
  auto f = T::prim_func("shift_left", [] {
    auto A = T::Tensor("A", {64}, T::float32);
    auto B = T::Tensor("B", {64}, T::float32);
    T::Kernel(2, T::threads(32), [&](T::Expr bx) {
      T::Parallel(32, [&](T::Expr i) { B(bx * 32 + i) = A(bx * 32 + i + 1); });
    });
  });
  Tensor A = Tensor::zeros({64}, DataType::Float32), B = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A, B), "out-of-bounds load", "A[64]", "shape [64]", "shift_left", "block (1, 0, 0)");
}

TEST(KernelRunErrors, OutOfBoundsStoreInSharedMemory) {
  auto f = T::prim_func("stage_oob", [] {
    auto A = T::Tensor("A", {64}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({32}, T::float32, "stage");
      T::Parallel(33, [&](T::Expr i) { S(i) = A(i); });
    });
  });
  Tensor A = Tensor::zeros({64}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A), "out-of-bounds store", "stage[32]", "shape [32]", "block (0, 0, 0)");
}

TEST(KernelRunErrors, OutOfBoundsThreadLevelNamesTheThread) {
  auto f = T::prim_func("thread_oob", [] {
    auto A = T::Tensor("A", {40}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      T::Expr tx = T::get_thread_binding();
      A(tx) = 1.0f;
    });
  });
  Tensor A = Tensor::zeros({40}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A), "out-of-bounds store", "A[40]", "shape [40]", "thread 40");
}

TEST(KernelRunErrors, SharedRegionOutOfRange) {
  auto f = T::prim_func("region_oob", [] {
    auto A = T::Tensor("A", {64, 16}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({32, 16}, T::float32, "A_shared");
      T::serial(3, [&](T::Expr k) { T::copy(A(k * 16, 0), T::region(S, {k * 16, 0}, {16, 16})); });
    });
  });
  Tensor A = Tensor::zeros({64, 16}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A), "T::copy", "A_shared", "dim 0", "[32, 48)", "extent 32", "region_oob");
}

// The op is named as the user wrote it (T::reduce_max, not its internal kind).
TEST(KernelRunErrors, FragmentRegionOutOfRangeNamesTheUsersOp) {
  auto f = T::prim_func("reduce_oob", [] {
    auto A = T::Tensor("A", {16}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({16, 16}, T::float32, "scores");
      auto m = T::alloc_fragment({16}, T::float32, "row_max");
      T::clear(F);
      T::serial(2, [&](T::Expr k) { T::reduce_max(T::region(F, {k * 16, 0}, {16, 16}), m, 1); });
      T::copy(m, A);
    });
  });
  Tensor A = Tensor::zeros({16}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A), "T::reduce_max", "scores", "dim 0", "[16, 32)", "extent 16", "reduce_oob");
}

TEST(KernelRunErrors, IntegerDivisionByZero) {
  auto f = T::prim_func("divide", [] {
    auto A = T::Tensor("A", {8}, T::int32);
    auto B = T::Tensor("B", {8}, T::int32);
    auto C = T::Tensor("C", {8}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(8, [&](T::Expr i) { C(i) = A(i) / B(i); }); });
  });
  Tensor A = Tensor::zeros({8}, DataType::Int32), B = Tensor::zeros({8}, DataType::Int32);
  Tensor C = Tensor::zeros({8}, DataType::Int32);
  B.fill(3);
  B.set({5}, 0);
  EXPECT_RUNTIME_ERROR(cpu(f)(A, B, C), "division by zero (/)", "divide", "block (0, 0, 0)");
}

TEST(KernelRunErrors, IntegerModuloByZero) {
  auto f = T::prim_func("modulo", [] {
    auto A = T::Tensor("A", {8}, T::int32);
    auto B = T::Tensor("B", {8}, T::int32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      T::Parallel(8, [&](T::Expr i) { B(i) = T::floormod(A(i), A(0)); });
    });
  });
  Tensor A = Tensor::zeros({8}, DataType::Int32), B = Tensor::zeros({8}, DataType::Int32);
  EXPECT_RUNTIME_ERROR(cpu(f)(A, B), "by zero", "modulo", "T::floormod", "block (0, 0, 0)");
}

// The verifier rejects a buffer used outside the body that allocates it; IR built around it must
// still not crash the CPU backend, whose first use of the unallocated buffer is a clear bug report.
TEST(ExecutorRobustness, BufferUsedBeforeItsAllocationIsAnInternalError) {
  ir::Buffer A = ir::make_buffer("A", {ir::make_int(32)}, DataType::Float32, ir::Scope::Global);
  ir::Buffer inner = ir::make_buffer("inner", {ir::make_int(32)}, DataType::Float32, ir::Scope::Fragment);
  ir::Stmt alloc_if_positive =
      ir::make_if(ir::make_binary(ir::BinaryOp::GT, ir::make_load(A, {ir::make_int(0)}), ir::make_float(0)),
                  ir::make_alloc(inner));
  ir::Stmt use = ir::make_tile_op("copy", {ir::full_region(A), ir::full_region(inner)});
  ir::Stmt kernel = ir::make_kernel({ir::make_int(1), ir::make_int(1), ir::make_int(1)}, 32,
                                    {ir::make_var("bx"), ir::make_var("by"), ir::make_var("bz")}, ir::make_var("tx"),
                                    ir::make_seq({alloc_if_positive, use}));
  ir::PrimFunc f = ir::make_prim_func("out_of_scope", {A}, kernel);
  EXPECT_TRUE(throws<CompileError>([&] { ir::verify(f); }, {"inner", "not in scope"}));
  auto exe = cpu::Executable::build(f);
  Tensor zeros = Tensor::zeros({32}, DataType::Float32);
  EXPECT_TRUE(throws<InternalError>([&] { exe->run({zeros}); }, {"inner", "before its allocation"}));
}

}  // namespace
}  // namespace tilescale::test
