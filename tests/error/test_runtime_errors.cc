// Calls that cannot run as asked: RuntimeError naming the kernel, the argument or buffer, and what
// was expected and found.
#include <filesystem>
#include <ios>
#include <new>
#include <stdexcept>

#include "codegen/cpu/executor.h"
#include "ir/IR.h"
#include "ir/verifier.h"
#include "support/env.h"
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

// A grid extent that is negative for the arguments: the same RuntimeError on every backend (the
// CUDA launch used to fail an internal check, the CPU to run no blocks), naming the extent's
// expression, its dimension and the symbolic dimensions' values.
TEST(ArgumentErrors, NegativeGridExtentAtCallTime) {
  T::Expr M = T::dynamic("M");
  auto f = T::prim_func("past_the_head", [&] {
    auto A = T::Tensor("A", {M}, T::float32);
    T::Kernel(T::ceildiv(M - 64, 32), T::threads(32), [&](T::Expr bx) {
      T::Parallel(32, [&](T::Expr i) { T::If(64 + bx * 32 + i < M, [&] { A(64 + bx * 32 + i) = 1.0f; }); });
    });
  });
  Kernel k = cpu(f);
  EXPECT_RUNTIME_ERROR(k(Tensor::zeros({10}, DataType::Float32)),
                       "cannot call kernel past_the_head because its grid extent in dim x, ", "M - 64", ", is -",
                       " for M = 10; pass arguments for which every grid extent is 0 or more");
  // An extent of 0 runs nothing, and a positive one runs.
  Tensor empty = Tensor::zeros({64}, DataType::Float32), some = Tensor::zeros({70}, DataType::Float32);
  EXPECT_NO_THROW(k(empty));
  k(some);
  EXPECT_EQ(some.get({69}), 1.0);
  EXPECT_EQ(some.get({63}), 0.0);
}

// A tensor the kernel writes may not have stride 0 (several elements at one address: which write
// lands would be undefined); one it only reads may (a broadcast). Both backends check it.
TEST(ArgumentErrors, WrittenTensorWithStrideZero) {
  Kernel k = cpu(add_rows());
  std::vector<float> row(32, 1.0f), out(64 * 32, 0.0f);
  const Tensor broadcast = Tensor::wrap(row.data(), {64, 32}, DataType::Float32, {0, 1});
  const Tensor B = Tensor::wrap(out.data(), {64, 32}, DataType::Float32);
  k(broadcast, B);  // read through stride 0: every row of A is the same row
  EXPECT_EQ(B.get({63, 5}), 2.0);
  EXPECT_RUNTIME_ERROR(k(B, broadcast), "cannot call with argument 1 (B) of kernel add_rows because it has stride 0 in dim 0 "
                                        "(extent 64)", "the kernel writes it", "pass a tensor whose elements are distinct");
  // A tile op's destination counts as written too.
  auto f = T::prim_func("copy_tile", [] {
    auto A = T::Tensor("A", {16, 32}, T::float32);
    auto C = T::Tensor("C", {16, 32}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::copy(A, C); });
  });
  std::vector<float> src(16 * 32, 3.0f);
  EXPECT_RUNTIME_ERROR(cpu(f)(Tensor::wrap(src.data(), {16, 32}, DataType::Float32), Tensor::wrap(row.data(), {16, 32}, DataType::Float32, {0, 1})),
                       "argument 1 (C) of kernel copy_tile because it has stride 0 in dim 0");
}

// An extent that does not fit the symbolic dimension's type is refused where it is bound, not
// reported later as "expects N = <the wrapped value>".
TEST(ArgumentErrors, ExtentThatDoesNotFitTheSymbolicDimension) {
  T::Expr N = T::dynamic("N");
  auto f = T::prim_func("long_rows", [&] {
    auto X = T::Tensor("X", {N}, T::float32);
    auto Y = T::Tensor("Y", {N * 2}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::If(N > 0, [&] { Y(0) = X(0); }); });
  });
  Kernel k = cpu(f);
  void* somewhere = reinterpret_cast<void*>(256);  // never touched: the call is refused first
  const Tensor X = Tensor::wrap(somewhere, {3000000000}, DataType::Float32);
  const Tensor Y = Tensor::wrap(somewhere, {6000000000}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(X, Y), "argument 0 (X) of kernel long_rows", "its dim 0 is 3000000000",
                       "does not fit the symbolic dimension N of type int32", "T::int64");
  EXPECT_EQ(message_of([&] { k(X, Y); }).find("-1294967296"), std::string::npos);
  // N fits, N * 2 does not.
  const Tensor X2 = Tensor::wrap(somewhere, {2000000000}, DataType::Float32);
  const Tensor Y2 = Tensor::wrap(somewhere, {4000000000}, DataType::Float32);
  EXPECT_RUNTIME_ERROR(k(X2, Y2), "argument 1 (Y) of kernel long_rows", "its dim 0 is N * 2, which overflows int32 for "
                       "N = 2000000000");
}

// ------------------------------------------------------------------------------------------------
// Sizes whose element or byte count does not fit in int64 (issue 12, item 5)

TEST(TensorSizeErrors, ElementCountOverflowIsAnErrorNotATinyTensor) {
  EXPECT_RUNTIME_ERROR(Tensor::empty({std::int64_t{1} << 62, 8}, DataType::Float32),
                       "cannot make a float32 tensor of shape [4611686018427387904, 8] because its size in bytes "
                       "exceeds 2^63-1; use smaller extents");
  // The byte count too: 2^62 elements fit, 2^63 bytes do not.
  EXPECT_RUNTIME_ERROR(Tensor::empty({std::int64_t{1} << 62}, DataType::Float16), "exceeds 2^63-1");
  EXPECT_RUNTIME_ERROR(Tensor::wrap(reinterpret_cast<void*>(256), {std::int64_t{1} << 40, std::int64_t{1} << 40},
                                    DataType::Int8),
                       "cannot make a int8 tensor of shape [1099511627776, 1099511627776]", "exceeds 2^63-1");
  EXPECT_RUNTIME_ERROR(Tensor::empty({4, -2}, DataType::Float32),
                       "cannot make a tensor of shape [4, -2] because its extent in dim 1 is -2; extents are >= 0");
  // A zero extent makes the tensor empty whatever the others are.
  EXPECT_EQ(Tensor::empty({0, std::int64_t{1} << 62, 1024}, DataType::Float32).numel(), 0);
}

TEST(TensorSizeErrors, StridesThatReachBeyondInt64) {
  std::int32_t x = 0;
  EXPECT_RUNTIME_ERROR(Tensor::wrap(&x, {4, 2}, DataType::Int32, {std::int64_t{1} << 62, 1}),
                       "cannot wrap memory as a int32 tensor of shape [4, 2] with strides [4611686018427387904, 1]",
                       "span more than 2^63-1 bytes");
}

TEST(TensorSizeErrors, ProgramTensorTooLargeIsACompileError) {
  auto build = [] {
    T::prim_func("huge_tensor", [] {
      auto A = T::Tensor("A", {std::int64_t{1} << 62, 16}, T::float16);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::fill(A(0, 0), 1); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot create T::Tensor A with shape [4611686018427387904, 16] of float16 because its "
                                "size in bytes exceeds 2^63-1");
  auto shared = [] {
    T::prim_func("huge_shared", [] {
      auto A = T::Tensor("A", {16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({std::int64_t{1} << 40, std::int64_t{1} << 40}, T::float32, "S");
        T::copy(A, S);
      });
    });
  };
  EXPECT_COMPILE_ERROR(shared(), "cannot T::alloc_shared S with shape [1099511627776, 1099511627776]", "exceeds 2^63-1");
}

// ------------------------------------------------------------------------------------------------
// What the environment throws reaches the caller as a tilescale::Error with context (issue 12, item 6)

TEST(EnvironmentErrors, StdExceptionsBecomeTilescaleErrors) {
  auto translated = [](auto thrown) {
    return [thrown] {
      try {
        throw thrown;
      } catch (...) {
        detail::rethrow_as_error("do the thing");
      }
    };
  };
  EXPECT_RUNTIME_ERROR(translated(std::bad_alloc())(), "cannot do the thing because memory ran out", "use smaller sizes");
  EXPECT_RUNTIME_ERROR(translated(std::length_error("vector::_M_fill_insert"))(), "cannot do the thing because memory ran out",
                       "vector::_M_fill_insert");
  EXPECT_RUNTIME_ERROR(translated(std::filesystem::filesystem_error("cannot create directories", "/proc/x",
                                                                    std::make_error_code(std::errc::no_such_file_or_directory)))(),
                       "cannot do the thing because a system operation failed", "/proc/x");
  EXPECT_RUNTIME_ERROR(translated(std::ios_base::failure("basic_filebuf::underflow"))(), "a system operation failed",
                       "underflow");
  EXPECT_TRUE(throws<InternalError>(translated(std::out_of_range("map::at")), {"while trying to do the thing", "map::at"}));
  EXPECT_TRUE(throws<InternalError>(translated(42), {"not a std::exception", "do the thing"}));
  // tilescale's own errors pass unchanged.
  EXPECT_RUNTIME_ERROR(translated(RuntimeError("cannot x because y; do z"))(), "cannot x because y; do z");
  EXPECT_COMPILE_ERROR(translated(CompileError("cannot a because b; do c"))(), "cannot a because b; do c");
}

TEST(EnvironmentErrors, KernelCallOutOfMemoryIsARuntimeError) {
  auto f = T::prim_func("petabyte_local", [] {
    auto A = T::Tensor("A", {32}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto L = T::alloc_local({std::int64_t{1} << 48}, T::float32, "L");
      T::fill(L, 0);
      T::copy(L(0), A);
    });
  });
  EXPECT_RUNTIME_ERROR(cpu(f)(Tensor::zeros({32}, DataType::Float32)), "cannot call kernel petabyte_local because memory ran out");
}

// Switches in the environment (support/env.h): a value that is neither on nor off is refused, never
// read as the default.
TEST(EnvironmentErrors, SwitchWithAJunkValue) {
  ::setenv("TILESCALE_TEST_SWITCH", "flase", 1);
  EXPECT_RUNTIME_ERROR(env_switch("TILESCALE_TEST_SWITCH", true),
                       "cannot read TILESCALE_TEST_SWITCH=flase because a switch is 1 or 0", "set TILESCALE_TEST_SWITCH=1");
  for (const char* off : {"0", "off", "FALSE", "no"}) {
    ::setenv("TILESCALE_TEST_SWITCH", off, 1);
    EXPECT_FALSE(env_switch("TILESCALE_TEST_SWITCH", true)) << off;
  }
  for (const char* on : {"1", "On", "true", "yes"}) {
    ::setenv("TILESCALE_TEST_SWITCH", on, 1);
    EXPECT_TRUE(env_switch("TILESCALE_TEST_SWITCH", false)) << on;
  }
  ::setenv("TILESCALE_TEST_SWITCH", "", 1);
  EXPECT_TRUE(env_switch("TILESCALE_TEST_SWITCH", true));
  ::unsetenv("TILESCALE_TEST_SWITCH");
  EXPECT_FALSE(env_switch("TILESCALE_TEST_SWITCH", false));
}

}  // namespace
}  // namespace tilescale::test
