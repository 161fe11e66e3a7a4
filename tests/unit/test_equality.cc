#include "ir/equality.h"

#include <gtest/gtest.h>

namespace tilescale::ir {
namespace {

Expr i32(std::int64_t v) { return make_int(v); }

// for <v> in T.serial(8): B[v] = A[v] + <c>
Stmt copy_loop(const Var& v, const Buffer& A, const Buffer& B, std::int64_t c = 1) {
  return make_for(v, i32(0), i32(8), ForKind::Serial,
                  make_store(B, {v}, make_binary(BinaryOp::Add, make_load(A, {v}), i32(c))));
}

struct Equality : ::testing::Test {
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Buffer B = make_buffer("B", {i32(8)}, DataType::Int32, Scope::Shared);
};

TEST_F(Equality, AlphaRenamedLoopsAreEqual) {
  EXPECT_TRUE(structural_equal(copy_loop(make_var("i"), A, B), copy_loop(make_var("j"), A, B)));
}

TEST_F(Equality, DifferentConstantIsNotEqual) {
  Var i = make_var("i");
  EXPECT_FALSE(structural_equal(copy_loop(i, A, B, 1), copy_loop(i, A, B, 2)));
  EXPECT_FALSE(structural_equal(make_float(0.0), make_float(-0.0)));
  EXPECT_FALSE(structural_equal(make_int(1), make_int(1, DataType::Int64)));
}

TEST_F(Equality, FreeVariablesCompareByIdentity) {
  Var i = make_var("i"), j = make_var("i");
  EXPECT_TRUE(structural_equal(make_load(A, {i}), make_load(A, {i})));
  EXPECT_FALSE(structural_equal(make_load(A, {i}), make_load(A, {j})));
  EXPECT_FALSE(structural_equal(make_load(A, {i}), make_load(B, {i})));
}

TEST_F(Equality, ShadowingOnOneSideIsNotEqual) {
  // for i: for j: B[i] = A[j]   versus   for k: for k: B[k] = A[k]
  Var i = make_var("i"), j = make_var("j"), k = make_var("k");
  auto nest = [&](const Var& outer, const Var& inner, const Expr& row, const Expr& col) {
    return make_for(outer, i32(0), i32(8), ForKind::Serial,
                    make_for(inner, i32(0), i32(8), ForKind::Serial, make_store(B, {row}, make_load(A, {col}))));
  };
  EXPECT_FALSE(structural_equal(nest(i, j, i, j), nest(k, k, k, k)));
  EXPECT_TRUE(structural_equal(nest(i, j, i, j), nest(j, i, j, i)));
}

TEST_F(Equality, DifferentOpAttrIsNotEqual) {
  auto reduce = [&](std::int64_t dim) {
    return make_tile_op("reduce", {full_region(A), full_region(B)}, {}, {{"dim", dim}, {"kind", std::string("sum")}});
  };
  EXPECT_TRUE(structural_equal(reduce(0), reduce(0)));
  EXPECT_FALSE(structural_equal(reduce(0), reduce(1)));
  EXPECT_FALSE(structural_equal(reduce(0), make_tile_op("copy", {full_region(A), full_region(B)}, {}, {{"dim", std::int64_t{0}}, {"kind", std::string("sum")}})));
}

TEST_F(Equality, BuiltinsCompareTemplateArguments) {
  auto wait = [&](std::vector<TemplateArg> targs) { return make_builtin(DataType::Int32, "tl.cp_async_wait", {}, {}, std::move(targs)); };
  EXPECT_TRUE(structural_equal(wait({std::int64_t{1}}), wait({std::int64_t{1}})));
  EXPECT_FALSE(structural_equal(wait({std::int64_t{1}}), wait({std::int64_t{2}})));
  EXPECT_FALSE(structural_equal(wait({std::int64_t{1}}), wait({true})));
  EXPECT_FALSE(structural_equal(wait({DataType::Float16}), wait({DataType::BFloat16})));
  EXPECT_FALSE(structural_equal(wait({std::int64_t{1}}), wait({})));
}

TEST_F(Equality, IntegerListAttributes) {
  auto hint = [&](std::vector<std::int64_t> v) { return make_annotate("hint", A, nullptr, {{"stmt", std::move(v)}}); };
  EXPECT_TRUE(structural_equal(hint({0, 1}), hint({0, 1})));
  EXPECT_FALSE(structural_equal(hint({0, 1}), hint({1, 0})));
  EXPECT_FALSE(structural_equal(hint({0}), make_annotate("hint", A, nullptr, {{"stmt", std::int64_t{0}}})));
}

TEST_F(Equality, AllocatedBuffersAreRenamed) {
  auto program = [&](const std::string& name, DataType t) {
    Buffer S = make_buffer(name, {i32(8)}, t, Scope::Shared);
    return make_seq({make_alloc(S), make_tile_op("copy", {full_region(A), full_region(S)})});
  };
  EXPECT_TRUE(structural_equal(program("S", DataType::Int32), program("T", DataType::Int32)));
  EXPECT_FALSE(structural_equal(program("S", DataType::Int32), program("S", DataType::Float32)));
}

TEST_F(Equality, FunctionsMatchUpToRenamingOfParamsAndDims) {
  auto func = [](const std::string& dim, DataType t) {
    Var n = make_var(dim), bx = make_var("bx"), i = make_var("i");
    Buffer X = make_buffer("X_" + dim, {n}, t, Scope::Global);
    Stmt body = make_for(i, make_int(0), n, ForKind::Serial, make_store(X, {i}, make_load(X, {i})));
    return make_prim_func("f", {X}, make_kernel({make_int(1), make_int(1), make_int(1)}, 32, {bx, make_var("by"), make_var("bz")},
                                                make_var("tx"), body));
  };
  EXPECT_TRUE(structural_equal(func("N", DataType::Float16), func("M", DataType::Float16)));
  EXPECT_FALSE(structural_equal(func("N", DataType::Float16), func("N", DataType::Float32)));
}

}  // namespace
}  // namespace tilescale::ir
