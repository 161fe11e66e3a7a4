#include <gtest/gtest.h>

#include "ir/IR.h"
#include "ir/visitor.h"

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

}  // namespace
}  // namespace tilescale::ir
