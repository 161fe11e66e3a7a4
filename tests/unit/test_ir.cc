#include <gtest/gtest.h>

#include "ir/IR.h"
#include "ir/verifier.h"
#include "ir/visitor.h"
#include "ops/verify.h"
#include "test_util.h"

namespace tilescale::ir {
namespace {

Expr i32(std::int64_t v) { return make_int(v); }

TEST(IR, MakeSeqFlattensAndUnwraps) {
  Stmt a = make_break(), b = make_break(), c = make_break();
  Stmt seq = make_seq({a, make_seq({b, c})});
  auto* node = as<SeqNode>(seq);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->stmts, (std::vector<Stmt>{a, b, c}));
  EXPECT_EQ(make_seq({a}), a);
}

TEST(IR, MakeCastToSameTypeIsIdentity) {
  Expr x = make_var("x", DataType::Float32);
  EXPECT_EQ(make_cast(DataType::Float32, x), x);
  Expr h = make_cast(DataType::Float16, x);
  ASSERT_NE(as<CastNode>(h), nullptr);
  EXPECT_EQ(h->dtype, DataType::Float16);
}

TEST(IR, MakeBinaryRejectsMixedTypes) {
  EXPECT_THROW(make_binary(BinaryOp::Add, i32(1), make_float(1.0)), InternalError);
  EXPECT_EQ(make_binary(BinaryOp::LT, i32(1), i32(2))->dtype, DataType::Bool);
}

TEST(IR, MutatorKeepsUnchangedTrees) {
  Var i = make_var("i");
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Stmt loop = make_for(i, i32(0), i32(8), ForKind::Serial,
                       make_seq({make_store(A, {i}, make_binary(BinaryOp::Add, make_load(A, {i}), i32(1))),
                                 make_tile_op("fill", {full_region(A)}, {i32(0)})}));
  Mutator identity;
  EXPECT_EQ(identity.mutate_stmt(loop), loop);
}

// A rewritten builtin call keeps its template arguments and attributes.
TEST(IR, MutatorKeepsTemplateArguments) {
  Var i = make_var("i");
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Expr call = make_builtin(DataType::Int32, "tl.mbarrier_wait", {make_load(A, {i}), i}, {{"map", std::int64_t{1}}},
                           {std::int64_t{4}, false, DataType::Float16});
  Expr rewritten = substitute(call, {{i.get(), i32(3)}});
  auto* out = as<BuiltinNode>(rewritten);
  ASSERT_NE(out, nullptr);
  EXPECT_NE(out, call.get());
  EXPECT_EQ(out->targs, as<BuiltinNode>(call)->targs);
  EXPECT_EQ(out->attrs, as<BuiltinNode>(call)->attrs);
  EXPECT_EQ(as_const_int(out->args[1]), 3);
}

TEST(IR, SubstituteReplacesAVariable) {
  Var i = make_var("i"), j = make_var("j");
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Stmt store = make_store(A, {i}, make_binary(BinaryOp::Mul, i, j));
  Stmt out = substitute(store, {{i.get(), i32(3)}});
  auto* s = as<StoreNode>(out);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(as_const_int(s->indices[0]), 3);
  auto* product = as<BinaryNode>(s->value);
  ASSERT_NE(product, nullptr);
  EXPECT_EQ(as_const_int(product->a), 3);
  EXPECT_EQ(product->b, j);
  EXPECT_EQ(substitute(store, {{make_var("k").get(), i32(3)}}), store);
}

TEST(IR, UsesVar) {
  Var i = make_var("i"), j = make_var("j");
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Expr load = make_load(A, {make_binary(BinaryOp::Add, i, i32(1))});
  EXPECT_TRUE(uses_var(load, i.get()));
  EXPECT_FALSE(uses_var(load, j.get()));
  Stmt guarded = make_if(make_binary(BinaryOp::LT, j, i32(4)), make_store(A, {i32(0)}, load));
  EXPECT_TRUE(uses_var(guarded, i.get()));
  EXPECT_TRUE(uses_var(guarded, j.get()));
}

// The IR's verifier knows no op registry: alone it checks structure; ops::verify_program adds the
// ops' rules (here: an op the registry lacks, a tile op inside a T::Parallel loop) in the same walk.
TEST(IR, VerifierAloneChecksStructureOnly) {
  Buffer A = make_buffer("A", {i32(32)}, DataType::Float32, Scope::Global);
  Buffer S = make_buffer("S", {i32(32)}, DataType::Float32, Scope::Shared);
  auto program = [&](const std::string& name, Stmt op) {
    Stmt kernel = make_kernel({i32(1), i32(1), i32(1)}, 32, {make_var("bx"), make_var("by"), make_var("bz")}, make_var("tx"),
                              make_seq({make_alloc(S), std::move(op)}));
    return make_prim_func(name, {A}, kernel);
  };
  PrimFunc unknown = program("unknown", make_tile_op("no_such_op", {full_region(A), full_region(S)}));
  EXPECT_NO_THROW(verify(unknown));
  EXPECT_TRUE(test::throws<InternalError>([&] { ops::verify_program(unknown); }, {"no_such_op"}));

  PrimFunc in_parallel = program("in_parallel", make_for(make_var("i"), i32(0), i32(4), ForKind::Parallel,
                                                         make_tile_op("copy", {full_region(A), full_region(S)})));
  EXPECT_NO_THROW(verify(in_parallel));
  EXPECT_COMPILE_ERROR(ops::verify_program(in_parallel), "cannot run T::copy from A to S inside a T::Parallel loop");

  // The language's builtins have no template parameters: template arguments are a compiler bug.
  PrimFunc targs = program("targs", make_evaluate(make_builtin(DataType::Int32, "fence_cta", {}, {}, {std::int64_t{1}})));
  EXPECT_NO_THROW(verify(targs));
  EXPECT_TRUE(test::throws<InternalError>([&] { ops::verify_program(targs); }, {"fence_cta", "template"}));
}

// A device call that a warp executes with all 32 lanes together (tl.syncwarp, tl.lane_reduce...)
// in a block that is not whole warps is refused, whoever placed it: here one a pass might place.
TEST(IR, WarpCollectiveDeviceCallsNeedWholeWarps) {
  auto program = [&](int threads) {
    Stmt kernel = make_kernel({i32(1), i32(1), i32(1)}, threads, {make_var("bx"), make_var("by"), make_var("bz")}, make_var("tx"),
                              make_evaluate(make_builtin(DataType::Int32, "tl.syncwarp", {})));
    return make_prim_func("syncwarp", {}, kernel);
  };
  EXPECT_NO_THROW(ops::verify_program(program(64)));
  EXPECT_COMPILE_ERROR(ops::verify_program(program(48)), "in a block of 48 threads because a warp executes it with all 32 lanes");
}

}  // namespace
}  // namespace tilescale::ir
