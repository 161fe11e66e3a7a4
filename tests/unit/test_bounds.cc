#include <gtest/gtest.h>

#include "ir/bounds.h"

namespace tilescale::ir {
namespace {

Expr c(std::int64_t v) { return make_int(v); }
Expr bin(BinaryOp op, Expr a, Expr b) { return make_binary(op, std::move(a), std::move(b)); }

TEST(Bounds, BlockAndThreadIndexArithmetic) {
  Var bx = make_var("bx"), tx = make_var("tx");
  VarRanges r{{bx.get(), {0, 63}}, {tx.get(), {0, 127}}};
  auto b = bounds_of(bin(BinaryOp::Add, bin(BinaryOp::Mul, bx, c(128)), bin(BinaryOp::Div, tx, c(4))), r);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->lo, 0);
  EXPECT_EQ(b->hi, 63 * 128 + 31);
  EXPECT_TRUE(provably(bin(BinaryOp::LT, bin(BinaryOp::Mul, bx, c(128)), c(8192)), r));
  EXPECT_FALSE(provably(bin(BinaryOp::LT, bin(BinaryOp::Mul, bx, c(128)), c(8064)), r));
}

TEST(Bounds, ModuloOfAMultipleStopsAtTheLastMultiple) {
  Var v = make_var("v");
  VarRanges r{{v.get(), {0, 4088, 8}}};
  auto b = bounds_of(bin(BinaryOp::Mod, v, c(32)), r);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->hi, 24);
  EXPECT_EQ(b->multiple, 8);
  // k * 32 + v % 32 + 7 < 8192 for k < 256: the last 16-byte vector ends at the row's end.
  Var k = make_var("k");
  r[k.get()] = {0, 255};
  EXPECT_TRUE(provably(bin(BinaryOp::LT, bin(BinaryOp::Add, bin(BinaryOp::Add, bin(BinaryOp::Mul, k, c(32)), bin(BinaryOp::Mod, v, c(32))), c(7)), c(8192)), r));
}

TEST(Bounds, UnknownsAndWrappingGiveNoBounds) {
  Var x = make_var("x"), y = make_var("y");
  VarRanges r{{x.get(), {0, 10}}};
  EXPECT_FALSE(bounds_of(bin(BinaryOp::Add, x, y), r));                 // y unknown
  EXPECT_FALSE(bounds_of(bin(BinaryOp::Div, x, y), {{x.get(), {0, 10}}, {y.get(), {1, 2}}}));  // non-constant divisor
  EXPECT_FALSE(bounds_of(bin(BinaryOp::Mul, x, c(1 << 30)), r));         // leaves int32: would wrap
  EXPECT_FALSE(provably(bin(BinaryOp::LT, y, c(5)), r));
}

}  // namespace
}  // namespace tilescale::ir
