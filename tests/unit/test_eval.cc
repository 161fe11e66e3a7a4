#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "ir/eval.h"

namespace tilescale::ir {
namespace {

Expr bin(BinaryOp op, std::int64_t a, std::int64_t b, DataType t = DataType::Int32) {
  return make_binary(op, make_int(a, t), make_int(b, t));
}

std::optional<std::int64_t> eval(BinaryOp op, std::int64_t a, std::int64_t b, DataType t = DataType::Int32) {
  return eval_int(bin(op, a, b, t));
}

TEST(EvalInt, DivisionTruncatesWhileFloorDivisionRoundsDown) {
  EXPECT_EQ(eval(BinaryOp::Div, -7, 2), -3);
  EXPECT_EQ(eval(BinaryOp::Mod, -7, 2), -1);
  EXPECT_EQ(eval(BinaryOp::FloorDiv, -7, 2), -4);
  EXPECT_EQ(eval(BinaryOp::FloorMod, -7, 2), 1);
  EXPECT_EQ(eval(BinaryOp::Div, 7, -2), -3);
  EXPECT_EQ(eval(BinaryOp::Mod, 7, -2), 1);
  EXPECT_EQ(eval(BinaryOp::FloorDiv, 7, -2), -4);
  EXPECT_EQ(eval(BinaryOp::FloorMod, 7, -2), -1);
  EXPECT_EQ(eval(BinaryOp::FloorDiv, -8, 2), -4);
  EXPECT_EQ(eval(BinaryOp::FloorMod, -8, 2), 0);
  EXPECT_EQ(eval(BinaryOp::Div, 7, 2), 3);
  EXPECT_EQ(eval(BinaryOp::FloorMod, 7, 2), 1);
}

TEST(EvalInt, DivisionByZeroIsUnknown) {
  EXPECT_FALSE(eval(BinaryOp::Div, 1, 0));
  EXPECT_FALSE(eval(BinaryOp::Mod, 1, 0));
  EXPECT_FALSE(eval(BinaryOp::FloorDiv, 1, 0));
  EXPECT_FALSE(eval(BinaryOp::FloorMod, 1, 0));
}

TEST(EvalInt, ArithmeticWrapsToTheType) {
  EXPECT_EQ(eval(BinaryOp::Add, std::numeric_limits<std::int32_t>::max(), 1), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(eval(BinaryOp::Mul, 1 << 20, 1 << 12), 0);
  EXPECT_EQ(eval(BinaryOp::Sub, 0, 1, DataType::UInt8), 255);
  EXPECT_EQ(eval(BinaryOp::Add, 100, 100, DataType::Int8), -56);
  const auto min64 = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(eval(BinaryOp::Div, min64, -1, DataType::Int64), min64);
  EXPECT_EQ(eval(BinaryOp::Mod, min64, -1, DataType::Int64), 0);
}

TEST(EvalInt, MinMaxComparisonsAndLogic) {
  EXPECT_EQ(eval(BinaryOp::Min, -3, 5), -3);
  EXPECT_EQ(eval(BinaryOp::Max, -3, 5), 5);
  EXPECT_EQ(eval(BinaryOp::LT, -3, 5), 1);
  EXPECT_EQ(eval(BinaryOp::GE, -3, 5), 0);
  EXPECT_EQ(eval(BinaryOp::EQ, 4, 4), 1);
  EXPECT_EQ(eval(BinaryOp::NE, 4, 4), 0);
  EXPECT_EQ(eval(BinaryOp::LE, 4, 4), 1);
  EXPECT_EQ(eval(BinaryOp::GT, 4, 4), 0);
  EXPECT_EQ(eval(BinaryOp::And, 1, 0, DataType::Bool), 0);
  EXPECT_EQ(eval(BinaryOp::Or, 1, 0, DataType::Bool), 1);
  // uint64 values above INT64_MAX compare as unsigned.
  EXPECT_EQ(eval(BinaryOp::GT, -1, 1, DataType::UInt64), 1);
  EXPECT_EQ(eval(BinaryOp::Max, -1, 1, DataType::UInt64), -1);
  EXPECT_EQ(eval(BinaryOp::Div, -2, 2, DataType::UInt64), std::int64_t{0x7fffffffffffffff});
}

TEST(EvalInt, BitwiseAndShifts) {
  EXPECT_EQ(eval(BinaryOp::BitAnd, 12, 10), 8);
  EXPECT_EQ(eval(BinaryOp::BitOr, 12, 10), 14);
  EXPECT_EQ(eval(BinaryOp::BitXor, 12, 10), 6);
  EXPECT_EQ(eval(BinaryOp::Shl, 3, 4), 48);
  EXPECT_EQ(eval(BinaryOp::Shl, 1, 31), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(eval(BinaryOp::Shr, -16, 2), -4);
  EXPECT_EQ(eval(BinaryOp::Shr, 200, 3, DataType::UInt8), 25);
  EXPECT_FALSE(eval(BinaryOp::Shl, 1, 32));
  EXPECT_FALSE(eval(BinaryOp::Shr, 1, -1));
}

TEST(EvalInt, UnaryCastAndSelect) {
  EXPECT_EQ(eval_int(make_unary(UnaryOp::Neg, make_int(5))), -5);
  EXPECT_EQ(eval_int(make_unary(UnaryOp::Neg, make_int(std::numeric_limits<std::int32_t>::min()))),
            std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(eval_int(make_unary(UnaryOp::Not, make_int(0, DataType::Bool))), 1);
  EXPECT_EQ(eval_int(make_unary(UnaryOp::BitNot, make_int(5, DataType::UInt8))), 250);
  EXPECT_EQ(eval_int(make_cast(DataType::Int8, make_int(300))), 44);
  EXPECT_EQ(eval_int(make_cast(DataType::UInt16, make_int(-1))), 65535);
  EXPECT_EQ(eval_int(make_cast(DataType::Bool, make_int(7))), 1);
  EXPECT_EQ(eval_int(make_cast(DataType::Int64, make_int(-1, DataType::UInt32))), 4294967295);
  EXPECT_EQ(eval_int(make_select(bin(BinaryOp::LT, 1, 2), make_int(10), make_int(20))), 10);
  EXPECT_EQ(eval_int(make_select(bin(BinaryOp::GT, 1, 2), make_int(10), make_int(20))), 20);
}

TEST(EvalInt, VariablesComeFromTheBindings) {
  Var i = make_var("i"), j = make_var("j");
  Expr e = make_binary(BinaryOp::Add, make_binary(BinaryOp::Mul, i, make_int(8)), j);
  EXPECT_EQ(eval_int(e, {{i.get(), 3}, {j.get(), 5}}), 29);
  EXPECT_FALSE(eval_int(e, {{i.get(), 3}}));
  EXPECT_FALSE(eval_int(e));
}

TEST(EvalInt, OnlyTheNeededOperandIsEvaluated) {
  // x != 0 && 10 / x > 2, at x == 0: the division is never reached.
  Var x = make_var("x"), unbound = make_var("u");
  Expr guard = make_binary(BinaryOp::NE, x, make_int(0));
  Expr big = make_binary(BinaryOp::GT, make_binary(BinaryOp::Div, make_int(10), x), make_int(2));
  Expr both = make_binary(BinaryOp::And, guard, big);
  EXPECT_EQ(eval_int(both, {{x.get(), 0}}), 0);
  EXPECT_EQ(eval_int(both, {{x.get(), 3}}), 1);
  EXPECT_EQ(eval_int(both, {{x.get(), 5}}), 0);
  EXPECT_EQ(eval_int(make_select(make_int(1, DataType::Bool), make_int(1), unbound)), 1);
  EXPECT_FALSE(eval_int(make_select(make_int(0, DataType::Bool), make_int(1), unbound)));
}

TEST(EvalInt, FloatsLoadsAndCallsAreUnknown) {
  EXPECT_FALSE(eval_int(make_float(1.5)));
  EXPECT_FALSE(eval_int(make_cast(DataType::Int32, make_float(2.0))));
  Buffer b = make_buffer("B", {make_int(4)}, DataType::Int32, Scope::Shared);
  EXPECT_FALSE(eval_int(make_load(b, {make_int(0)})));
  EXPECT_FALSE(eval_int(make_binary(BinaryOp::Add, make_load(b, {make_int(0)}), make_int(1))));
}

}  // namespace
}  // namespace tilescale::ir
