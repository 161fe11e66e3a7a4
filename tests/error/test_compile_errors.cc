// User mistakes caught while building or compiling a tile program: each raises CompileError whose
// message names the op, the buffer and what went wrong.
#include <chrono>

#include "test_util.h"

namespace tilescale::test {
namespace {

// ------------------------------------------------------------------------------------------------
// Tile-op operands

TEST(CopyErrors, ShapeMismatch) {
  auto build = [] {
    T::prim_func("bad_copy", [] {
      auto A = T::Tensor("A", {64, 64}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 16}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({16, 32}, T::float16, "B_shared");
        T::copy(A(0, 0), As);
        T::copy(As, Bs);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "copy", "A_shared", "B_shared", "extents differ");
}

TEST(CopyErrors, RegionShapeMismatch) {
  auto build = [] {
    T::prim_func("bad_region_copy", [] {
      auto A = T::Tensor("A", {64, 64}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto F = T::alloc_fragment({16, 16}, T::float32, "F");
        T::copy(T::region(A, {0, 0}, {16, 8}), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "copy", "A", "F", "extents differ");
}

TEST(CopyErrors, BothSidesElementReferences) {
  auto build = [] {
    T::prim_func("elem_copy", [] {
      auto A = T::Tensor("A", {64}, T::float32);
      auto B = T::Tensor("B", {64}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::copy(A(0), B(0)); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::copy", "A", "B", "both are element references", "T::region");
}

TEST(GemmErrors, CShapeDiffersFromAB) {
  auto build = [] {
    T::prim_func("bad_gemm_c", [] {
      T::Tensor("A", {64, 64}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 16}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({16, 64}, T::float16, "B_shared");
        auto Cf = T::alloc_fragment({32, 32}, T::float32, "C_local");
        T::gemm(As, Bs, Cf);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "A_shared", "B_shared", "C_local", "N differs from C's columns", "64 vs 32");
}

TEST(GemmErrors, CRowsDifferFromA) {
  auto build = [] {
    T::prim_func("bad_gemm_m", [] {
      T::Tensor("A", {64, 64}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({16, 32}, T::float16, "A_shared");  // transposed: M = 32
        auto Bs = T::alloc_shared({16, 32}, T::float16, "B_shared");
        auto Cf = T::alloc_fragment({16, 32}, T::float32, "C_local");
        T::gemm(As, Bs, Cf, /*transpose_A=*/true);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "C_local", "M differs from C's rows", "32 vs 16", "transpose_A=1");
}

TEST(GemmErrors, IncompatibleK) {
  auto build = [] {
    T::prim_func("bad_gemm_k", [] {
      T::Tensor("A", {64, 64}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 32}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({16, 32}, T::float16, "B_shared");
        auto Cf = T::alloc_fragment({32, 32}, T::float32, "C_local");
        T::gemm(As, Bs, Cf);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "A_shared", "B_shared", "K differs", "32 vs 16", "transpose_B");
}

TEST(GemmErrors, GlobalOperand) {
  auto build = [] {
    T::prim_func("gemm_global", [] {
      auto A = T::Tensor("A", {32, 32}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto Bs = T::alloc_shared({32, 32}, T::float16, "B_shared");
        auto Cf = T::alloc_fragment({32, 32}, T::float32, "C_local");
        T::gemm(A, Bs, Cf);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "A", "global tensor", "T::copy");
}

TEST(GemmErrors, AccumulatorInShared) {
  auto build = [] {
    T::prim_func("gemm_shared_c", [] {
      T::Tensor("A", {32, 32}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 32}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({32, 32}, T::float16, "B_shared");
        auto Cs = T::alloc_shared({32, 32}, T::float32, "C_shared");
        T::gemm(As, Bs, Cs);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "C_shared", "shared", "alloc_fragment");
}

TEST(GemmErrors, OperandDtypesDiffer) {
  auto build = [] {
    T::prim_func("gemm_dtypes", [] {
      T::Tensor("A", {32, 32}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 32}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({32, 32}, T::bfloat16, "B_shared");
        auto Cf = T::alloc_fragment({32, 32}, T::float32, "C_local");
        T::gemm(As, Bs, Cf);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "A_shared", "float16", "B_shared", "bfloat16", "dtypes differ");
}

TEST(GemmErrors, OperandNotTwoDimensional) {
  auto build = [] {
    T::prim_func("gemm_1d", [] {
      T::Tensor("A", {32, 32}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32}, T::float16, "A_vec");
        auto Bs = T::alloc_shared({32, 32}, T::float16, "B_shared");
        auto Cf = T::alloc_fragment({32, 32}, T::float32, "C_local");
        T::gemm(As, Bs, Cf);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "gemm", "A_vec", "not a 2-D tile");
}

// C = A · B with B read from registers (and A too when asked), lowered for CUDA; each of these
// runs on the CPU backend.
T::PrimFunc register_b_gemm(const std::string& name, int threads, std::int64_t M, std::int64_t N, std::int64_t K,
                            DataType dt, bool a_in_registers) {
  return T::prim_func(name, [&] {
    auto A = T::Tensor("A", {M, K}, dt);
    auto B = T::Tensor("B", {K, N}, dt);
    auto C = T::Tensor("C", {M, N}, dt == DataType::Int8 ? DataType::Int32 : DataType::Float32);
    T::Kernel(1, T::threads(threads), [&](T::Expr) {
      auto As = T::alloc_shared({M, K}, dt, "A_shared");
      auto Af = T::alloc_fragment({M, K}, dt, "A_local");
      auto Bf = T::alloc_fragment({K, N}, dt, "B_local");
      auto Cf = T::alloc_fragment({M, N}, dt == DataType::Int8 ? DataType::Int32 : DataType::Float32, "C_local");
      T::copy(B, Bf);
      if (a_in_registers) T::copy(A, Af);
      else T::copy(A, As);
      T::gemm(a_in_registers ? Af : As, Bf, Cf, T::GemmOptions{.clear_accum = true});
      T::copy(Cf, C);
    });
  });
}

TEST(GemmCudaErrors, BothOperandsInRegisters) {
  auto f = register_b_gemm("gemm_rr", 128, 64, 64, 32, DataType::Float16, true);
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "T::gemm into C_local", "both A (A_local) and B (B_local) in registers",
                       "shared memory");
}

TEST(GemmCudaErrors, RegisterBColumnsDoNotSplitOverTheWarps) {
  // B in registers stacks the 4 warps along N: 32 columns are not 4 x 16.
  auto f = register_b_gemm("gemm_sr_narrow", 128, 64, 32, 32, DataType::Float16, false);
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "cannot split the gemm tile C_local (64 x 32) over 4 warps stacked along N",
                       "reads B (B_local) from registers", "16 rows and 16 columns", "tile size or the thread count");
}

TEST(GemmCudaErrors, RegisterBNotSixteenBit) {
  auto f = register_b_gemm("gemm_sr_int8", 128, 64, 64, 32, DataType::Int8, false);
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "T::gemm", "B = B_local (int8) in registers", "float16 or bfloat16",
                       "shared memory");
}

TEST(GemmCudaErrors, RegisterAAndRegisterBGemmsIntoOneAccumulator) {
  auto f = T::prim_func("gemm_rs_sr", [] {
    auto A = T::Tensor("A", {64, 32}, T::float16);
    auto B = T::Tensor("B", {32, 64}, T::float16);
    auto C = T::Tensor("C", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto As = T::alloc_shared({64, 32}, T::float16, "A_shared");
      auto Bs = T::alloc_shared({32, 64}, T::float16, "B_shared");
      auto Af = T::alloc_fragment({64, 32}, T::float16, "P");
      auto Bf = T::alloc_fragment({32, 64}, T::float16, "V");
      auto Cf = T::alloc_fragment({64, 64}, T::float32, "acc");
      T::copy(A, As), T::copy(A, Af), T::copy(B, Bs), T::copy(B, Bf);
      T::gemm(Af, Bs, Cf, T::GemmOptions{.clear_accum = true});
      T::gemm(As, Bf, Cf);
      T::copy(Cf, C);
    });
  });
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "two gemms into acc over 4 warps",
                       "T::gemm into acc reads A (P) from registers", "stacked along M",
                       "T::gemm into acc reads B (V) from registers", "stacked along N", "only one layout");
}

TEST(GemmCudaErrors, FragmentReadAsRegisterAAndRegisterB) {
  // As A, P is laid out as an accumulator; as B, as the transpose of one: P cannot be both.
  auto f = T::prim_func("gemm_p_both_sides", [] {
    auto A = T::Tensor("A", {64, 64}, T::float16);
    auto C = T::Tensor("C", {64, 64}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto Vs = T::alloc_shared({64, 64}, T::float16, "V_shared");
      auto Qs = T::alloc_shared({64, 64}, T::float16, "Q_shared");
      auto P = T::alloc_fragment({64, 64}, T::float16, "P");
      auto O1 = T::alloc_fragment({64, 64}, T::float32, "O1");
      auto O2 = T::alloc_fragment({64, 64}, T::float32, "O2");
      T::copy(A, Vs), T::copy(A, Qs), T::copy(A, P);
      T::gemm(P, Vs, O1, T::GemmOptions{.clear_accum = true});
      T::gemm(Qs, P, O2, T::GemmOptions{.clear_accum = true});
      T::copy(O1, C);
      T::copy(O2, C);
    });
  });
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "cannot lay out fragment P", "T::gemm into O1 reading A (P) from registers",
                       "T::gemm into O2 reading B (P) from registers", "different layouts");
}

TEST(ReduceErrors, DimOutOfRange) {
  auto build = [] {
    T::prim_func("bad_reduce_dim", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto F = T::alloc_fragment({32, 32}, T::float32, "scores");
        auto m = T::alloc_fragment({32}, T::float32, "row_max");
        T::reduce_max(F, m, 2);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "reduce_max", "scores", "dim 2", "rank 2");
}

TEST(ReduceErrors, NegativeDim) {
  auto build = [] {
    T::prim_func("neg_reduce_dim", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto F = T::alloc_fragment({32, 32}, T::float32, "scores");
        auto m = T::alloc_fragment({32}, T::float32, "row_sum");
        T::reduce_sum(F, m, -1);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "reduce_sum", "scores", "dim -1");
}

TEST(ReduceErrors, DestinationShapeMismatch) {
  auto build = [] {
    T::prim_func("bad_reduce_dst", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto F = T::alloc_fragment({32, 16}, T::float32, "scores");
        auto m = T::alloc_fragment({16}, T::float32, "row_max");
        T::reduce_max(F, m, 1);  // rows: 32 results, not 16
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "reduce_max", "scores", "row_max", "extents differ");
}

TEST(CumsumErrors, DimOutOfRange) {
  auto build = [] {
    T::prim_func("bad_cumsum", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "vals");
        T::cumsum(F, F, 1);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cumsum", "vals", "dim 1", "rank 1");
}

TEST(AtomicAddErrors, IntoThreadPrivateBuffer) {
  auto build = [] {
    T::prim_func("bad_atomic", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "acc");
        T::atomic_add(F(0), 1.0f);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "atomic_add", "acc", "fragment", "spread over the block's threads");
  // A fragment is not private to a thread: its elements live in the registers of many threads.
  EXPECT_EQ(message_of(build).find("private to a thread"), std::string::npos) << message_of(build);
  auto local = [] {
    T::prim_func("bad_atomic_local", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto L = T::alloc_local({4}, T::float32, "scratch");
        T::atomic_add(L(0), 1.0f);
      });
    });
  };
  EXPECT_COMPILE_ERROR(local(), "atomic_add", "scratch", "local", "private to a thread", "+=");
}

// A scalar atomic_add updates one element; a whole tile with a scalar is a mistake.
TEST(AtomicAddErrors, ScalarIntoATile) {
  auto build = [] {
    T::prim_func("scalar_into_tile", [] {
      auto H = T::Tensor("H", {16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::atomic_add(H, 1.0f); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "atomic_add", "scalar", "H [16]", "one element", "H(i, ...)");
}

// ------------------------------------------------------------------------------------------------
// Ranks and indices

TEST(RankErrors, ElementAccessWithWrongRank) {
  auto build = [] {
    T::prim_func("bad_rank", [] {
      auto A = T::Tensor("A", {32, 32}, T::float32);
      auto B = T::Tensor("B", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(32, [&](T::Expr i) { B(i) = A(i); }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "1 index", "rank 2", "one index per dimension");
}

TEST(RankErrors, StoreWithTooManyIndices) {
  auto build = [] {
    T::prim_func("bad_store_rank", [] {
      auto B = T::Tensor("B", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { B(0, 1) = 1.0f; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "B", "2 indices", "rank 1");
}

TEST(RankErrors, TileOpOperandWithWrongRank) {
  auto build = [] {
    T::prim_func("bad_tile_rank", [] {
      auto A = T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "F");
        T::copy(T::region(A, {0}, {32}), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "region", "1 index", "rank 2");
}

TEST(RankErrors, TileRefBuiltWithWrongRankReachesTheOp) {
  // A TileRef made directly (not through T::region) with too few indices: the op names itself.
  auto build = [] {
    T::prim_func("bad_tile_rank2", [] {
      auto A = T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "F");
        T::copy(T::TileRef(A.node(), {0}, {32}), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "copy", "indexed with 1 index but", "rank 2");
}

TEST(RankErrors, RegionBaseAndExtentCountsDiffer) {
  auto build = [] {
    T::prim_func("bad_region", [] {
      auto A = T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "F");
        T::copy(T::region(A, {0, 0}, {32}), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "region", "A", "2 base indices", "1 extent;");
}

TEST(IndexErrors, FloatIndex) {
  auto build = [] {
    T::prim_func("float_index", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0.5f) = 1.0f; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "0.5", "float32", "indices are integers");
}

TEST(IndexErrors, FloatExpressionIndex) {
  auto build = [] {
    T::prim_func("float_index2", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      auto B = T::Tensor("B", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(32, [&](T::Expr i) { B(i) = A(B(i)); }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "float32", "indices are integers");
}

TEST(ExpressionErrors, BitwiseOnFloats) {
  auto build = [] {
    T::prim_func("bitwise_float", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      auto B = T::Tensor("B", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(32, [&](T::Expr i) { B(i) = A(i) & 1; }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "&", "A", "float32", "bitwise operators take integers");
}

TEST(ExpressionErrors, ShiftAndNotOnFloats) {
  auto shift = [] {
    T::prim_func("shift_float", [] {
      auto A = T::Tensor("A", {32}, T::float16);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = A(1) << 2; });
    });
  };
  EXPECT_COMPILE_ERROR(shift(), "<<", "float16", "integers");
  auto bitnot = [] {
    T::prim_func("not_float", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = ~A(1); });
    });
  };
  EXPECT_COMPILE_ERROR(bitnot(), "~", "float32", "integers");
}

TEST(ExpressionErrors, InfinityOfTypesWithoutOne) {
  EXPECT_COMPILE_ERROR(T::infinity(T::int32), "infinity", "int32");
  EXPECT_COMPILE_ERROR(T::infinity(T::float8_e4m3), "infinity", "float8_e4m3", "max_value");
}

TEST(ExpressionErrors, SymbolicDimensionOfFloatType) {
  EXPECT_COMPILE_ERROR(T::dynamic("M", T::float32), "M", "float32", "integer");
}

// ------------------------------------------------------------------------------------------------
// Scopes: where things may be written

TEST(ScopeErrors, FragmentOutsideKernel) {
  auto build = [] {
    T::prim_func("frag_outside", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      auto F = T::alloc_fragment({32}, T::float32, "acc_frag");
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::copy(A, F); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "acc_frag", "fragment", "outside T::Kernel", "inside the kernel body");
}

TEST(ScopeErrors, SharedOutsideKernel) {
  auto build = [] {
    T::prim_func("shared_outside", [] {
      T::alloc_shared({32}, T::float32, "stage");
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(build(), "stage", "shared", "outside T::Kernel");
}

TEST(ScopeErrors, TCallOutsidePrimFunc) {
  EXPECT_COMPILE_ERROR(T::Tensor("A", {32}, T::float32), "T::Tensor", "outside T::prim_func");
  EXPECT_COMPILE_ERROR(T::Kernel(1, T::threads(32), [](T::Expr) {}), "T::Kernel", "outside T::prim_func");
  EXPECT_COMPILE_ERROR(T::alloc_fragment({4}, T::float32), "alloc_fragment", "outside T::prim_func");
  EXPECT_COMPILE_ERROR(T::Parallel(4, [](T::Expr) {}), "Parallel", "outside T::prim_func");
}

TEST(ScopeErrors, TileOpOutsidePrimFunc) {
  // Building the buffers needs a prim_func; make them in one and misuse them after it.
  T::Buffer a(nullptr), b(nullptr);
  T::prim_func("source", [&] {
    a = T::Tensor("A", {32}, T::float32);
    b = T::Tensor("B", {32}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::copy(a, b); });
  });
  EXPECT_COMPILE_ERROR(T::copy(a, b), "T::copy", "outside T::prim_func");
}

TEST(ScopeErrors, NestedKernel) {
  auto build = [] {
    T::prim_func("nested", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Kernel(1, T::threads(32), [&](T::Expr) {}); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "nest", "T::Kernel", "nested");
}

TEST(ScopeErrors, TwoKernels) {
  auto build = [] {
    T::prim_func("two_kernels", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::fill(A, 1); });
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::fill(A, 2); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "two_kernels", "2 kernels", "exactly one T::Kernel");
}

TEST(ScopeErrors, NoKernel) {
  auto build = [] { T::prim_func("no_kernel", [] { T::Tensor("A", {32}, T::float32); }); };
  EXPECT_COMPILE_ERROR(build(), "no_kernel", "0 kernels", "exactly one T::Kernel");
}

TEST(ScopeErrors, TileOpOutsideKernel) {
  auto build = [] {
    T::prim_func("op_outside", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      auto B = T::Tensor("B", {32}, T::float32);
      T::copy(A, B);
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::copy", "outside T::Kernel", "kernel body");
}

TEST(ScopeErrors, StoreOutsideKernel) {
  auto build = [] {
    T::prim_func("store_outside", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      A(0) = 1.0f;
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(build(), "store", "A", "outside T::Kernel");
}

TEST(ScopeErrors, TileOpInsideParallel) {
  auto build = [] {
    T::prim_func("op_in_parallel", [] {
      auto A = T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "row");
        T::Parallel(32, [&](T::Expr i) { T::copy(A(i, 0), F); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::copy", "inside a T::Parallel loop", "move it out of the loop");
}

// The message names the op as the user wrote it (T::reduce_max, T::clear), not its internal kind.
TEST(ScopeErrors, TileOpInsideParallelNamesTheUsersOp) {
  auto reduce = [] {
    T::prim_func("reduce_in_parallel", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32, 32}, T::float32, "scores");
        auto m = T::alloc_fragment({32}, T::float32, "row_max");
        T::Parallel(4, [&](T::Expr) { T::reduce_max(F, m, 1); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(reduce(), "reduce_max", "inside a T::Parallel loop");
  auto clear = [] {
    T::prim_func("clear_in_parallel", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "acc");
        T::Parallel(4, [&](T::Expr) { T::clear(F); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(clear(), "clear", "acc", "inside a T::Parallel loop");
}

TEST(ScopeErrors, BufferUsedAfterItsScope) {
  auto build = [] {
    T::prim_func("out_of_scope", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::Buffer inner(nullptr);
        T::If(A(0) > 0, [&] { inner = T::alloc_fragment({32}, T::float32, "inner"); });
        T::copy(A, inner);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "inner", "not in scope");
}

TEST(ScopeErrors, LoopVariableUsedAfterTheLoop) {
  auto build = [] {
    T::prim_func("escaped_var", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::Expr escaped = 0;
        T::serial(4, [&](T::Expr i) { escaped = i; });
        A(escaped) = 1.0f;
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "variable i", "outside the loop");
}

TEST(ScopeErrors, TensorInsideKernel) {
  auto build = [] {
    T::prim_func("tensor_in_kernel", [] {
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Tensor("late", {32}, T::float32); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Tensor", "late", "inside T::Kernel");
}

TEST(ScopeErrors, PrimFuncInsidePrimFunc) {
  auto build = [] {
    T::prim_func("outer", [] { T::prim_func("inner", [] {}); });
  };
  EXPECT_COMPILE_ERROR(build(), "inner", "outer", "prim_func");
}

TEST(ScopeErrors, ThreadBindingOutsideKernel) {
  auto build = [] {
    T::prim_func("tx_outside", [] {
      T::Tensor("A", {32}, T::float32);
      T::get_thread_binding();
    });
  };
  EXPECT_COMPILE_ERROR(build(), "get_thread_binding", "outside T::Kernel");
}

TEST(ScopeErrors, AssertAndPrintOutsideKernel) {
  auto assert_outside = [] {
    T::prim_func("assert_outside", [] {
      T::device_assert(T::Expr(true), "never");
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(assert_outside(), "device_assert", "outside T::Kernel");
  auto print_outside = [] {
    T::prim_func("print_outside", [] {
      T::print("x", T::Expr(1));
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(print_outside(), "print", "outside T::Kernel");
}

// ------------------------------------------------------------------------------------------------
// Kernels, loops and control flow

// A block that is not whole warps (16, 48 threads) runs tile ops and Parallel loops, but not what
// a warp executes with all its lanes together: warp-scope builtins (both backends) and, on CUDA,
// T::gemm's matrix instructions.
TEST(KernelErrors, BlocksThatAreNotWholeWarps) {
  auto warp_vote = [] {
    T::prim_func("half_warp_vote", [] {
      auto A = T::Tensor("A", {16}, T::int32);
      T::Kernel(1, T::threads(16), [&](T::Expr) {
        const T::Expr tx = T::get_thread_binding();
        A(tx) = T::cast(T::warp_any(tx == 3, T::Expr(std::uint32_t{0xffffu})), T::int32);
      });
    });
  };
  EXPECT_COMPILE_ERROR(warp_vote(), "cannot call T::warp_any in a block of 16 threads",
                       "a warp executes it with all 32 lanes together", "use a multiple of 32 threads");
  auto elect = [] {
    T::prim_func("elect_48", [] {
      auto A = T::Tensor("A", {48}, T::int32);
      T::Kernel(1, T::threads(48), [&](T::Expr) { A(T::get_thread_binding()) = T::cast(T::shuffle_elect(32), T::int32); });
    });
  };
  EXPECT_COMPILE_ERROR(elect(), "cannot call T::shuffle_elect in a block of 48 threads");
  auto gemm = [](int threads) {
    return T::prim_func("gemm_48", [=] {
      auto C = T::Tensor("C", {64, 64}, T::float32);
      T::Kernel(1, T::threads(threads), [&](T::Expr) {
        auto A_shared = T::alloc_shared({64, 32}, T::float16, "A_shared");
        auto B_shared = T::alloc_shared({32, 64}, T::float16, "B_shared");
        auto C_local = T::alloc_fragment({64, 64}, T::float32, "C_local");
        T::clear(A_shared), T::clear(B_shared), T::clear(C_local);
        T::gemm(A_shared, B_shared, C_local);
        T::copy(C_local, C);
      });
    });
  };
  EXPECT_COMPILE_ERROR(generate_cuda(gemm(48), "sm_80"), "cannot lower T::gemm into C_local for CUDA in a block of 48 threads",
                       "matrix instructions run on whole warps of 32 threads; use a multiple of 32 threads");
  EXPECT_NO_THROW(compile(gemm(48), Target::CPU));  // the CPU backend multiplies tiles whatever the block
  EXPECT_NO_THROW(generate_cuda(gemm(64), "sm_80"));
}

TEST(KernelErrors, ZeroThreads) {
  auto build = [] {
    T::prim_func("zero_threads", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(0), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(build(), "threads=0", "because a block has at least one thread; use 1 to 1024");
}

// A float stored, filled or atomically added into an integer buffer would lose its fraction without
// a word: refused on both backends (the front end), with the cast to write; whole-number constants
// and T::cast pass.
TEST(KernelErrors, AFloatIntoAnIntegerBufferNeedsACast) {
  auto build = [](int form) {
    T::prim_func("float_into_int", [=] {
      auto X = T::Tensor("X", {32}, T::float32);
      auto N = T::Tensor("N", {32}, T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        const T::Expr tx = T::get_thread_binding();
        if (form == 0) N(tx) = X(tx) * 0.5f;
        if (form == 1) N(tx) += 0.5f;
        if (form == 2) T::fill(N, 2.5f);
        if (form == 3) T::atomic_add(N(0), X(tx));
        if (form == 4) N(tx) = T::cast(X(tx) * 0.5f, T::int32), N(tx) = 0.0f, T::fill(N, 3.0f);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(0), "cannot store X[tx] * 0.5 (float32) into N (int32)",
                       "a float becomes an integer by dropping its fraction", "write T::cast(value, T::int32)");
  EXPECT_COMPILE_ERROR(build(1), "cannot store", "into N (int32)", "dropping its fraction");
  EXPECT_COMPILE_ERROR(build(2), "cannot fill 2.5 (float32) into N (int32)");
  EXPECT_COMPILE_ERROR(build(3), "cannot atomic_add X[tx] (float32) into N (int32)");
  EXPECT_NO_THROW(build(4));
}

// mma.sync accumulates float16 operands in float32 or float16, the others in float32 (int32 for
// int8): another accumulator type is refused on CUDA, saying which to use.
TEST(KernelErrors, AGemmAccumulatorOfAnotherType) {
  auto build = [](DataType in, DataType acc) {
    const auto f = T::prim_func("gemm_acc", [=] {
      auto C = T::Tensor("C", {64, 64}, acc);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto A_shared = T::alloc_shared({64, 32}, in, "A_shared");
        auto B_shared = T::alloc_shared({32, 64}, in, "B_shared");
        auto C_local = T::alloc_fragment({64, 64}, acc, "C_local");
        T::clear(A_shared), T::clear(B_shared), T::clear(C_local);
        T::gemm(A_shared, B_shared, C_local);
        T::copy(C_local, C);
      });
    });
    return generate_cuda(f, "sm_80");
  };
  EXPECT_COMPILE_ERROR(build(T::bfloat16, T::float16), "cannot lower T::gemm into C_local (float16) for CUDA with bfloat16 operands",
                       "mma.sync accumulates them in float;", "accumulate in a float32 fragment and cast afterwards");
  EXPECT_COMPILE_ERROR(build(T::float16, T::float64), "with float16 operands because mma.sync accumulates them in float or float16",
                       "accumulate in a float32 or float16 fragment");
  EXPECT_NO_THROW(build(T::float16, T::float16));
  // int8 accumulates in int32 and float32 (tf32) in float32, whichever way the operands are stored
  // (here B is [K, N]: gathered element by element).
  EXPECT_COMPILE_ERROR(build(T::int8, T::float32), "cannot lower T::gemm into C_local (float32) for CUDA with int8 operands",
                       "mma.sync accumulates them in int;", "accumulate in an int32 fragment");
  EXPECT_NO_THROW(build(T::int8, T::int32));
  EXPECT_NO_THROW(build(T::float32, T::float32));
}

// A 2-D or 3-D block: each extent positive, their product a multiple of 32; bindings 0 to 2.
TEST(KernelErrors, MultiDimensionalThreadBlocks) {
  auto build = [](T::Threads threads, int binding) {
    T::prim_func("block_2d", [=] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, threads, [&](T::Expr) { T::get_thread_binding(binding); });
    });
  };
  EXPECT_COMPILE_ERROR(build(T::threads(0, 4), 0), "cannot launch the kernel of block_2d with T::threads(0, 4, 1)",
                       "each dimension of a block has at least one thread");
  EXPECT_NO_THROW(build(T::threads(16, 3), 0));  // 48 threads: not whole warps, which a block need not be
  // Extents whose product does not fit a block (or an int) are refused before they are multiplied out.
  EXPECT_COMPILE_ERROR(build(T::threads(65536, 65536, 4), 0), "with T::threads(65536, 65536, 4) because a block holds at most 1024 threads");
  EXPECT_COMPILE_ERROR(build(T::threads(16, 2), 3), "cannot get thread binding 3; use 0 (x), 1 (y) or 2 (z)");
  EXPECT_NO_THROW(build(T::threads(16, 2), 2));  // 0, as in CUDA
  EXPECT_NO_THROW(build(T::threads(64, 1), 1));  // a 1-D block written in two extents
}

TEST(KernelErrors, FloatGridExtent) {
  auto build = [] {
    T::prim_func("float_grid", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(T::Expr(2.5f), T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(build(), "grid extent", "float32", "integers");
}

TEST(LoopErrors, BreakOutsideALoop) {
  auto build = [] {
    T::prim_func("stray_break", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Break(); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Break", "not inside a serial loop or T::While");
}

TEST(LoopErrors, BreakInsideParallel) {
  auto build = [] {
    T::prim_func("parallel_break", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::serial(4, [&](T::Expr) { T::Parallel(4, [&](T::Expr) { T::Break(); }); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Break", "T::Parallel");
}

TEST(LoopErrors, NonConstantParallelExtent) {
  auto build = [] {
    T::Expr M = T::dynamic("M");
    T::prim_func("dyn_parallel", [&] {
      auto A = T::Tensor("A", {M}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(M, [&](T::Expr i) { A(i) = 0.0f; }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Parallel", "extent M", "not a constant", "T::If");
}

TEST(LoopErrors, FloatParallelExtent) {
  auto build = [] {
    T::prim_func("float_parallel", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(T::Expr(4.0f), [&](T::Expr) {}); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Parallel", "float", "integers");
}

TEST(LoopErrors, PipelineListsOfWrongLength) {
  auto build = [] {
    T::prim_func("bad_pipeline", [] {
      auto A = T::Tensor("A", {64, 16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({16, 16}, T::float32, "S");
        auto F = T::alloc_fragment({16, 16}, T::float32, "F");
        T::Pipelined(4, T::PipelineOptions{.num_stages = 2, .order = {0, 1, 2}, .stage = {0, 1, 1}}, [&](T::Expr k) {
          T::copy(A(k * 16, 0), S);
          T::copy(S, F);
        });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "pipeline", "3 entries", "2 statements");
}

TEST(LoopErrors, NegativeNumStages) {
  auto build = [] {
    T::prim_func("neg_stages", [] {
      T::Tensor("A", {64, 16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::Pipelined(4, -1, [&](T::Expr) {}); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "num_stages=-1");
}

TEST(ControlFlowErrors, ElseNotAfterIf) {
  auto build = [] {
    T::prim_func("stray_else", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::IfThen branch = T::If(A(0) > 0, [&] { A(1) = 1.0f; });
        A(2) = 2.0f;
        branch.Else([&] { A(1) = -1.0f; });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Else", "directly follow its T::If");
}

TEST(ControlFlowErrors, ElseTwice) {
  auto build = [] {
    T::prim_func("double_else", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::IfThen branch = T::If(A(0) > 0, [&] { A(1) = 1.0f; });
        branch.Else([&] { A(1) = -1.0f; });
        branch.Else([&] { A(1) = -2.0f; });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::Else");
}

// ------------------------------------------------------------------------------------------------
// Buffers and shapes

TEST(AllocErrors, NonConstantSharedShape) {
  auto build = [] {
    T::Expr M = T::dynamic("M");
    T::prim_func("dyn_shared", [&] {
      T::Tensor("A", {M, 16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::alloc_shared({M, 16}, T::float32, "A_shared"); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A_shared", "shared", "extent M", "dim 0", "constant");
}

TEST(AllocErrors, ZeroExtentFragment) {
  auto build = [] {
    T::prim_func("zero_frag", [] {
      T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::alloc_fragment({8, 0}, T::float32, "empty_frag"); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "empty_frag", "dim 1", "positive");
}

TEST(AllocErrors, FloatDimension) {
  auto build = [] {
    T::prim_func("float_dim", [] { T::Tensor("A", {T::Expr(3.5f)}, T::float32); });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "dimension", "float32");
}

TEST(AllocErrors, ShapeOfMissingDim) {
  auto build = [] {
    T::prim_func("bad_shape_dim", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      A.shape(1);
    });
  };
  EXPECT_COMPILE_ERROR(build(), "dim 1", "A", "rank 1");
}

TEST(SymbolicErrors, DimensionOnlyInsideAnExpression) {
  auto build = [] {
    T::Expr M = T::dynamic("M");
    T::prim_func("derived_only", [&] {
      auto A = T::Tensor("A", {M * 2}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = 1.0f; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "symbolic dimension M", "derived_only", "alone");
}

TEST(CopyErrors, CannotInferExtentAcrossRanks) {
  auto build = [] {
    T::prim_func("bad_infer", [] {
      auto A = T::Tensor("A", {64}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({4, 16}, T::float32, "F2");
        T::copy(F, A(0));  // a 4×16 tile into a 1-D tensor
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "A", "copy", "F2", "rank 1", "T::region");
}

TEST(LoopErrors, FloatSerialBounds) {
  auto build = [] {
    T::prim_func("float_serial", [] {
      auto A = T::Tensor("A", {4}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::serial(T::Expr(4.0f), [&](T::Expr) { A(0) = 1.0f; }); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::serial", "float32", "integers");
}

TEST(AnnotationErrors, SwizzlePanelNotPositive) {
  auto build = [] {
    T::prim_func("bad_swizzle", [] {
      T::Tensor("A", {4}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::use_swizzle(0); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "use_swizzle", "panel_size 0", "positive");
}

TEST(AnnotationErrors, MinBlocksPerSmNotPositive) {
  auto build = [] {
    return T::prim_func("f", [] {
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::min_blocks_per_sm(0); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "min_blocks_per_sm", "0 blocks", "positive");
}

// An occupancy no SM reaches would be dropped by ptxas with a warning only.
TEST(AnnotationErrors, MinBlocksPerSmBeyondAnSm) {
  auto f = T::prim_func("crowded", [] {
    auto A = T::Tensor("A", {128}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      T::min_blocks_per_sm(17);
      T::fill(A, 1);
    });
  });
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_90a"), "T::min_blocks_per_sm(17)", "at most 16 blocks of 128 threads",
                       "ask for at most 16");
}

TEST(CumsumErrors, RankMismatch) {
  auto build = [] {
    T::prim_func("cumsum_ranks", [] {
      T::Tensor("A", {4}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({4, 8}, T::float32, "grid2d");
        auto G = T::alloc_fragment({32}, T::float32, "flat1d");
        T::cumsum(F, G);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cumsum", "grid2d", "flat1d", "ranks differ");
}

TEST(AtomicAddErrors, TileExtentsDiffer) {
  auto build = [] {
    T::prim_func("atomic_tiles", [] {
      auto A = T::Tensor("A", {64}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({4, 16}, T::float32, "partial");
        T::atomic_add(T::region(A, {0}, {32}), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "atomic_add", "partial", "A", "extents differ");
}

// ------------------------------------------------------------------------------------------------
// Checks that are missing or messages that should say more. These state the behaviour the
// library should have (reported; see the test names).

// A shape mismatch should show both extents, not only the buffer names.
TEST(MessageDetail, CopyShapeMismatchShowsBothExtents) {
  auto build = [] {
    T::prim_func("bad_copy_extents", [] {
      T::Tensor("A", {64, 64}, T::float16);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto As = T::alloc_shared({32, 16}, T::float16, "A_shared");
        auto Bs = T::alloc_shared({24, 32}, T::float16, "B_shared");
        T::copy(As, Bs);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "copy", "A_shared", "B_shared", "32", "16", "24");
}

TEST(MessageDetail, ReduceShapeMismatchShowsTheExpectedExtent) {
  auto build = [] {
    T::prim_func("bad_reduce_extents", [] {
      T::Tensor("A", {32, 32}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto F = T::alloc_fragment({48, 16}, T::float32, "scores");
        auto m = T::alloc_fragment({16}, T::float32, "row_max");
        T::reduce_max(F, m, 1);
      });
    });
  };
  // The reduction along dim 1 of a [48, 16] tile has 48 elements; row_max has 16.
  EXPECT_COMPILE_ERROR(build(), "reduce_max", "scores", "row_max", "48", "16", "dim 1");
}

// Tile-op placement errors should name the operands, not only the op.
TEST(MessageDetail, TileOpPlacementNamesTheBuffers) {
  auto in_parallel = [] {
    T::prim_func("copy_in_parallel", [] {
      auto A = T::Tensor("src_tensor", {32, 32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "row_frag");
        T::Parallel(32, [&](T::Expr i) { T::copy(A(i, 0), F); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(in_parallel(), "T::copy", "src_tensor", "row_frag", "T::Parallel");
  auto outside = [] {
    T::prim_func("copy_outside", [] {
      auto A = T::Tensor("src_tensor", {32}, T::float32);
      auto B = T::Tensor("dst_tensor", {32}, T::float32);
      T::copy(A, B);
      T::Kernel(1, T::threads(32), [&](T::Expr) {});
    });
  };
  EXPECT_COMPILE_ERROR(outside(), "T::copy", "src_tensor", "dst_tensor", "outside T::Kernel");
  auto per_thread = [] {
    auto f = T::prim_func("copy_per_thread", [] {
      auto A = T::Tensor("src_tensor", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "row_frag");
        T::If(T::get_thread_binding() == 0, [&] { T::copy(A, F); });
      });
    });
    compile(f, Target::CPU);
  };
  EXPECT_COMPILE_ERROR(per_thread(), "T::copy", "src_tensor", "row_frag", "thread");
}

// A block of more than 1024 threads cannot launch on any CUDA GPU: the verifier should say so
// before codegen (ARCHITECTURE.md §4: target capability is checked before codegen).
TEST(MissingChecks, ThreadsAbove1024) {
  auto build = [] {
    T::prim_func("huge_block", [] {
      auto A = T::Tensor("A", {4}, T::float32);
      T::Kernel(1, T::threads(2048), [&](T::Expr) { T::fill(A, 1); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "huge_block", "threads=2048", "1024");
}

// A layout annotation whose shape is not the buffer's shape is a mistake.
TEST(MissingChecks, LayoutShapeDiffersFromBuffer) {
  auto build = [] {
    T::prim_func("bad_layout", [] {
      auto A = T::Tensor("A", {8, 8}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({8, 8}, T::float32, "S_tile");
        T::annotate_layout(S, T::make_layout({4, 4}, [](const std::vector<T::Expr>& i) {
          return std::vector<T::Expr>{i[1], i[0]};
        }));
        T::copy(A, S);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "annotate_layout", "S_tile", "[8, 8]", "[4, 4]");
}

// T::annotate_layout is followed or refused, never ignored: CUDA takes no layout from the program
// for shared tiles or register buffers; the CPU backend accepts it (it changes nothing there).
T::PrimFunc annotated(bool fragment) {
  return T::prim_func("annotated", [fragment] {
    auto A = T::Tensor("A", {8, 8}, T::float32);
    auto B = T::Tensor("B", {8, 8}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = fragment ? T::alloc_fragment({8, 8}, T::float32, "F_tile") : T::alloc_shared({8, 8}, T::float32, "S_tile");
      T::annotate_layout(S, T::make_layout({8, 8}, [](const std::vector<T::Expr>& i) {
        return std::vector<T::Expr>{i[1] * 8 + i[0]};
      }));
      T::copy(A, S);
      T::copy(S, B);
    });
  });
}

TEST(LayoutAnnotations, CudaRefusesOneOnASharedTile) {
  EXPECT_COMPILE_ERROR(generate_cuda(annotated(false), "sm_90a"), "cannot honour T::annotate_layout on shared buffer S_tile",
                       "lays out shared tiles itself", "remove the annotation");
  EXPECT_NO_THROW(compile(annotated(false), Target::CPU));
}

TEST(LayoutAnnotations, CudaRefusesOneOnAFragment) {
  EXPECT_COMPILE_ERROR(generate_cuda(annotated(true), "sm_80"), "cannot honour T::annotate_layout on fragment F_tile",
                       "which thread holds each element", "remove the annotation");
  EXPECT_NO_THROW(compile(annotated(true), Target::CPU));
}

// ------------------------------------------------------------------------------------------------
// Checks added with the error-handling review

// Loop, While and Else bodies of one statement are not SeqNodes; their allocations still end with
// them.
TEST(ScopeErrors, BufferFromALoopWhileOrElseBodyUsedAfterIt) {
  auto after_loop = [] {
    T::prim_func("after_loop", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::Buffer inner(nullptr);
        T::serial(2, [&](T::Expr) { inner = T::alloc_shared({32}, T::float32, "loop_tile"); });
        T::copy(A, inner);
      });
    });
  };
  EXPECT_COMPILE_ERROR(after_loop(), "loop_tile", "T::copy", "not in scope");
  auto after_while = [] {
    T::prim_func("after_while", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::Buffer inner(nullptr);
        T::While(A(0) > 0, [&] { inner = T::alloc_fragment({32}, T::float32, "while_tile"); });
        T::reduce_max(inner, A(0), 0);
      });
    });
  };
  EXPECT_COMPILE_ERROR(after_while(), "while_tile", "T::reduce_max", "not in scope");
  auto after_else = [] {
    T::prim_func("after_else", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::Buffer inner(nullptr);
        T::If(A(0) > 0, [&] { A(1) = 1.0f; }).Else([&] { inner = T::alloc_local({32}, T::float32, "else_tile"); });
        A(2) = inner(0);
      });
    });
  };
  EXPECT_COMPILE_ERROR(after_else(), "else_tile", "a load", "not in scope");
}

TEST(LoopErrors, ParallelExtentNotPositive) {
  auto build = [](int extent) {
    return [extent] {
      T::prim_func("empty_parallel", [&] {
        auto A = T::Tensor("A", {32}, T::float32);
        T::Kernel(1, T::threads(32), [&](T::Expr) { T::Parallel(extent, [&](T::Expr i) { A(i) = 1.0f; }); });
      });
    };
  };
  EXPECT_COMPILE_ERROR(build(0)(), "T::Parallel", "extent 0", "not positive");
  EXPECT_COMPILE_ERROR(build(-4)(), "T::Parallel", "extent -4", "not positive");
}

TEST(KernelErrors, GridExtentNotPositive) {
  auto zero = [] {
    T::prim_func("no_blocks", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(0, T::threads(32), [&](T::Expr) { T::fill(A, 1); });
    });
  };
  EXPECT_COMPILE_ERROR(zero(), "no_blocks", "grid extent 0", "dim x", "at least one block");
  auto negative = [] {
    T::prim_func("negative_blocks", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(4, -1, T::threads(32), [&](T::Expr, T::Expr) { T::fill(A, 1); });
    });
  };
  EXPECT_COMPILE_ERROR(negative(), "negative_blocks", "grid extent -1", "dim y", "at least one block");
  // A grid computed from an empty size names the empty tensor dimensions, not only "dim y".
  auto from_sizes = [] {
    const std::int64_t M = 0, N = 64;
    T::prim_func("empty_rows", [&] {
      auto A = T::Tensor("A", {M, N}, T::float32);
      T::Kernel(T::ceildiv(N, 32), T::ceildiv(M, 32), T::threads(32), [&](T::Expr bx, T::Expr by) { T::fill(A(by * 32, bx * 32), 1); });
    });
  };
  EXPECT_COMPILE_ERROR(from_sizes(), "empty_rows", "grid extent 0 in dim y", "empty tensor dimension (extent 0: A dim 0)",
                       "give every size 1 or more");
  // The largest block is fine.
  EXPECT_NO_THROW(T::prim_func("big_block", [] {
    auto A = T::Tensor("A", {32}, T::float32);
    T::Kernel(1, T::threads(1024), [&](T::Expr) { T::fill(A, 1); });
  }));
}

// A constant grid extent past 32 bits is refused where it is given, not wrapped into a negative one
// that the verifier then reports with the wrapped value.
TEST(KernelErrors, GridExtentBeyond32Bits) {
  auto build = [] {
    const std::int64_t M = 1000000000000;
    T::prim_func("huge_grid", [&] {
      auto A = T::Tensor("A", {M}, T::float32);
      T::Kernel(T::ceildiv(M, 128), T::threads(128), [&](T::Expr bx) { T::fill(A(bx * 128), 1); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot launch the kernel of huge_grid with grid extent 7812500000 in dim x because a grid "
                                "has at most 2147483647 blocks along x", "larger tiles or smaller sizes");
}

TEST(ParameterErrors, TwoTensorsWithTheSameName) {
  auto build = [] {
    T::prim_func("same_names", [] {
      auto A = T::Tensor("X", {32}, T::float32);
      T::Tensor("Y", {32}, T::float32);
      auto B = T::Tensor("X", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::copy(A, B); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "same_names", "T::Tensor X", "parameter 2", "parameter 0", "distinct name");
}

// Regions of on-chip buffers with constant bounds are checked when the program is built.
TEST(RegionErrors, ConstantRegionOutsideAnOnChipBuffer) {
  auto shared = [] {
    T::prim_func("region_past_shared", [] {
      auto A = T::Tensor("A", {64, 16}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({32, 16}, T::float32, "A_shared");
        T::copy(A(0, 0), T::region(S, {16, 0}, {32, 16}));
      });
    });
  };
  EXPECT_COMPILE_ERROR(shared(), "T::copy", "A_shared", "dim 0", "[16, 48)", "extent 32");
  auto fragment = [] {
    T::prim_func("region_before_fragment", [] {
      auto A = T::Tensor("A", {8}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({4, 8}, T::float32, "acc");
        T::fill(T::region(F, {0, -2}, {1, 8}), 0);
        T::copy(F(0, 0), A);
      });
    });
  };
  EXPECT_COMPILE_ERROR(fragment(), "T::fill", "acc", "dim 1", "[-2, 6)", "extent 8");
  // Global regions may run past the tensor's end (tail tiles).
  EXPECT_NO_THROW(T::prim_func("tail_tile", [] {
    auto A = T::Tensor("A", {40}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto S = T::alloc_shared({32}, T::float32, "S");
      T::copy(A(32), S);
    });
  }));
}

TEST(AllocErrors, EmptyShapeFragmentAndShared) {
  auto fragment = [] {
    T::prim_func("rank0_fragment", [] {
      T::Tensor("A", {8}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::alloc_fragment({}, T::float32, "acc"); });
    });
  };
  EXPECT_COMPILE_ERROR(fragment(), "alloc_fragment", "acc", "empty shape", "T::alloc_var");
  auto shared = [] {
    T::prim_func("rank0_shared", [] {
      T::Tensor("A", {8}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { T::alloc_shared({}, T::float32, "stage"); });
    });
  };
  EXPECT_COMPILE_ERROR(shared(), "alloc_shared", "stage", "empty shape");
}

// A tile op whose operands use the thread index is not under control flow: the message says so.
// The rules are the thread-level analysis's (ops/thread_level.h): the verifier refuses such a
// program when it is built, for both backends.
TEST(ThreadErrors, TileOpInAStatementThatUsesTheThreadIndex) {
  auto build = [] {
    T::prim_func("copy_at_thread", [] {
      auto A = T::Tensor("A", {64}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "F");
        T::copy(A(T::get_thread_binding()), F);
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::copy", "A[", "F", "copy_at_thread", "in a statement that uses the thread index");
  EXPECT_EQ(message_of(build).find("control flow"), std::string::npos);
}

// Only the element-wise atomic_add may run per thread; a tile-wise one and a Parallel loop may not.
TEST(ThreadErrors, TileWiseAtomicAddAndParallelUnderAThreadBranch) {
  auto atomic = [] {
    T::prim_func("tile_atomic_per_thread", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto S = T::alloc_shared({32}, T::float32, "S");
        T::clear(S);
        T::If(T::get_thread_binding() == 0, [&] { T::atomic_add(A, S); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(atomic(), "T::atomic_add from S into A", "control flow", "thread index");
  auto parallel = [] {
    T::prim_func("parallel_per_thread", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        T::If(T::get_thread_binding() < 4, [&] { T::Parallel(32, [&](T::Expr i) { A(i) = 1.0f; }); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(parallel(), "T::Parallel loop over i", "control flow", "thread index");
}

// A Parallel loop whose threads write fragment elements held by other threads: the message says
// which thread writes which element, who holds it, whether the layouts differ or only the index,
// and what to write instead (reading such elements is staged through shared memory: issue 17).
TEST(ThreadErrors, ParallelLoopWritesAFragmentElementAnotherThreadHolds) {
  auto reversed = [] {
    const auto f = T::prim_func("reversed_write", [] {
      auto X = T::Tensor("X", {256}, T::float32);
      auto Y = T::Tensor("Y", {256}, T::float32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto x = T::alloc_fragment({256}, T::float32, "x");
        auto y = T::alloc_fragment({256}, T::float32, "y");
        T::copy(X(0), x);
        T::Parallel(256, [&](T::Expr i) { y(255 - i) = x(i); });
        T::copy(y, Y(0));
      });
    });
    return generate_cuda(f, "sm_80");
  };
  EXPECT_COMPILE_ERROR(reversed(), "cannot lower the T::Parallel loop over", "at i=0 thread 0 writes y[255]",
                       "that thread 127 holds", "y has the loop's layout but is written at another index than the loop's own",
                       "write y at the loop's own index, or write a shared buffer (T::alloc_shared) and T::copy it into y");
}

// Per-thread storage set from the thread index has no meaning in a T::Parallel loop or a tile op,
// whose elements the compiler spreads over the threads: refused, naming the buffer.
TEST(ThreadErrors, ParallelLoopOrTileOpReadsPerThreadStorage) {
  auto parallel = [] {
    T::prim_func("parallel_reads_local", [] {
      auto Y = T::Tensor("Y", {128}, T::int32);
      T::Kernel(1, T::threads(128), [&](T::Expr) {
        auto acc = T::alloc_local({1}, T::int32, "acc");
        acc(0) = T::get_thread_binding();
        T::Parallel(128, [&](T::Expr i) { Y(i) = acc(0) + i; });
      });
    });
  };
  EXPECT_COMPILE_ERROR(parallel(), "cannot run the T::Parallel loop over i in parallel_reads_local",
                       "acc, which holds a different value in each thread", "outside T::Parallel loops");
  auto tile_op = [] {
    T::prim_func("copy_reads_local", [] {
      auto Y = T::Tensor("Y", {4}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto v = T::alloc_local({4}, T::float32, "v");
        T::serial(4, [&](T::Expr k) { v(k) = T::cast(T::get_thread_binding() + k, T::float32); });
        T::copy(v, Y);
      });
    });
  };
  EXPECT_COMPILE_ERROR(tile_op(), "cannot run T::copy", "copy_reads_local",
                       "uses v, which holds a different value in each thread", "executed by the whole block");
}

// A tile op under thread-dependent control flow cannot run on either backend.
TEST(ThreadErrors, TileOpUnderThreadDependentBranch) {
  auto build = [] {
    T::prim_func("op_per_thread", [] {
      auto A = T::Tensor("A", {32}, T::float32);
      T::Kernel(1, T::threads(32), [&](T::Expr) {
        auto F = T::alloc_fragment({32}, T::float32, "F");
        T::If(T::get_thread_binding() == 0, [&] { T::copy(A, F); });
      });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "T::copy", "op_per_thread", "control flow", "thread");
}

// ------------------------------------------------------------------------------------------------
// Budgets: buffers that cannot fit are refused before layout search and NVRTC, in seconds (a
// 256x256 float32 fragment on 32 threads used to keep NVRTC busy for minutes, 4096x4096 gemm tiles
// layout inference).

TEST(BudgetErrors, FragmentTooLargeForTheThreadsRegisters) {
  auto f = T::prim_func("huge_fragment", [] {
    auto A = T::Tensor("A", {256, 256}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) {
      auto F = T::alloc_fragment({256, 256}, T::float32, "F");
      T::copy(A, F);
      T::Parallel(256, 256, [&](T::Expr i, T::Expr j) { F(i, j) = F(i, j) * 2.0f; });
      T::copy(F, A);
    });
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_90a"), "cannot allocate fragment F [256, 256] float32 in huge_fragment",
                       "at least 2048 registers in each of the block's 32 threads", "more than the 1024 a fragment may take",
                       "smaller tiles or more threads");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
  EXPECT_NO_THROW(compile(f, Target::CPU));  // registers are a GPU matter
}

TEST(BudgetErrors, GemmTilesTooLargeForSharedMemory) {
  auto f = T::prim_func("huge_gemm_tiles", [] {
    auto A = T::Tensor("A", {4096, 64}, T::float16);
    auto B = T::Tensor("B", {64, 4096}, T::float16);
    auto C = T::Tensor("C", {4096, 4096}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto A_shared = T::alloc_shared({4096, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 4096}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({4096, 4096}, T::float32, "C_local");
      T::clear(C_local);
      T::Pipelined(2, 3, [&](T::Expr k) {
        T::copy(A(0, k * 32), A_shared);
        T::copy(B(k * 32, 0), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      T::copy(C_local, C);
    });
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_90a"), "cannot allocate shared A_shared [4096, 32] float16 in huge_gemm_tiles",
                       "262144 bytes", "at most 232448 bytes of shared memory on sm_90", "smaller tiles");
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_80"), "A_shared", "at most 166912 bytes of shared memory on sm_80");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

// A fragment that fits when spread evenly but whose layout gives every thread all of it (the rows
// of a reduction over a partitioned fragment are replicated).
TEST(BudgetErrors, ReplicatedFragmentTooLargeForTheRegisters) {
  auto f = T::prim_func("replicated_fragment", [] {
    auto A = T::Tensor("A", {2048, 2}, T::float32);
    auto Y = T::Tensor("Y", {2048}, T::float32);
    T::Kernel(1, T::threads(128), [&](T::Expr) {
      auto F = T::alloc_fragment({2048, 2}, T::float32, "F");
      auto R = T::alloc_fragment({2048}, T::float32, "R");
      T::copy(A, F);
      T::reduce_sum(F, R, 1);
      T::copy(R, Y);
    });
  });
  EXPECT_COMPILE_ERROR(generate_cuda(f, "sm_90a"), "cannot allocate fragment R in replicated_fragment",
                       "(replicated) gives each thread 2048 elements", "more than the 1024 a fragment may take");
}

// ------------------------------------------------------------------------------------------------
// Targets

TEST(TargetErrors, UnknownTargetString) {
  EXPECT_COMPILE_ERROR(parse_target("gpu"), "'gpu'", "unknown", "auto", "cpu", "cuda");
  EXPECT_EQ(parse_target("cpu"), Target::CPU);
  EXPECT_EQ(parse_target("cuda"), Target::CUDA);
  EXPECT_EQ(parse_target("auto"), Target::Auto);
}

TEST(TargetErrors, CudaTargetNotAvailable) {
  const std::string why = why_not_cuda();
  if (why.empty()) GTEST_SKIP() << "a CUDA device and backend are available here";
  auto f = T::prim_func("needs_cuda", [] {
    auto A = T::Tensor("A", {32}, T::float32);
    T::Kernel(1, T::threads(32), [&](T::Expr) { T::fill(A, 1); });
  });
  EXPECT_COMPILE_ERROR(compile(f, Target::CUDA), "needs_cuda", "cuda", why);
  // Auto falls back to the CPU backend instead.
  EXPECT_EQ(compile(f, Target::Auto).target(), Target::CPU);
}

// 64-bit safety: a constant is never cut silently to fit a narrower type.
TEST(WideErrors, ConstantThatTheDestinationCannotHold) {
  auto build = [] {
    T::prim_func("narrow_store", [] {
      auto A = T::Tensor("A", {4}, T::int32);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = T::Expr(4294967297LL); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot use the constant 4294967297", "as a value of type int32", "holds only [-2147483648, 2147483647]",
                       "T::cast(4294967297, T::int32) wraps it deliberately");
}

TEST(WideErrors, NoIntegerTypeHoldsBothOperands) {
  auto build = [] {
    T::prim_func("u64_minus_one", [] {
      auto A = T::Tensor("A", {4}, T::uint64);
      T::Kernel(1, T::threads(32), [&](T::Expr) { A(0) = A(1) + (-1); });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot combine A[1] of type uint64 with the constant -1", "no integer type holds both",
                       "T::cast one of them");
}

TEST(WideErrors, GridExtentBeyondCudaLimit) {
  auto build = [] {
    T::prim_func("huge_grid", [] {
      auto A = T::Tensor("A", {4}, T::int32);
      T::Kernel(T::Expr(3'000'000'000LL), T::threads(32), [&](T::Expr) { A(0) = 1; });
    });
  };
  EXPECT_COMPILE_ERROR(build(), "cannot launch the kernel of huge_grid with grid extent 3000000000 in dim x",
                       "2147483647 blocks along x", "use larger tiles");
}

}  // namespace
}  // namespace tilescale::test

namespace tilescale {
namespace {
namespace T = tilescale::lang;

// A fragment's elements live in different threads: outside a T::Parallel loop the program cannot
// name one (unless every thread holds them all, a replicated fragment). plan_parallel_loops says so
// for CUDA, naming the fragment; the CPU backend runs the program.
T::PrimFunc fragment_element_outside_parallel() {
  return T::prim_func("fragment_element", [] {
    auto A = T::Tensor("A", {64}, T::float32);
    auto B = T::Tensor("B", {64}, T::float32);
    T::Kernel(1, T::threads(64), [&](T::Expr) {
      auto F = T::alloc_fragment({64}, T::float32, "F_row");
      T::copy(A, F);
      F(5) = F(6) + 1.0f;
      T::copy(F, B);
    });
  });
}

TEST(FragmentErrors, AnElementOutsideAParallelLoopIsRefusedOnCuda) {
  EXPECT_COMPILE_ERROR(generate_cuda(fragment_element_outside_parallel(), "sm_80"), "cannot access fragment F_row element by element",
                       "outside a T::Parallel loop", "use T::Parallel or T::copy");
  EXPECT_NO_THROW(compile(fragment_element_outside_parallel(), Target::CPU));
}

}  // namespace
}  // namespace tilescale
