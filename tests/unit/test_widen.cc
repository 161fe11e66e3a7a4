// ir::widen and the widen_indices pass: 64-bit index arithmetic computed in 64 bits, not a 32-bit
// result converted after it wrapped.
#include <gtest/gtest.h>

#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/widen.h"
#include "passes/widen_indices.h"

namespace tilescale::ir {
namespace {

TEST(Widen, PushesTheConversionToTheLeaves) {
  Var by = make_var("by"), i = make_var("i");
  Expr row = make_binary(BinaryOp::Add, make_binary(BinaryOp::Mul, by, make_int(32)), i);
  Expr wide = widen(row, DataType::Int64);
  EXPECT_EQ(wide->dtype, DataType::Int64);
  EXPECT_EQ(print(wide), "T.cast(by, \"int64\") * T.int64(32) + T.cast(i, \"int64\")");
  // by = 93750000: the int32 row wraps, the widened one does not.
  const std::map<const VarNode*, std::int64_t> at{{by.get(), 93'750'000}, {i.get(), 5}};
  EXPECT_EQ(eval_int(make_cast(DataType::Int64, row), at), std::int64_t(3'000'000'005) - (std::int64_t(1) << 32));
  EXPECT_EQ(eval_int(wide, at), 3'000'000'005);
}

TEST(Widen, UnsignedValuesAndComparisonsAreLeaves) {
  Var u = make_var("u", DataType::UInt32), x = make_var("x");
  // uint32 wrap-around is the value's meaning: converted as computed.
  EXPECT_EQ(print(widen(make_binary(BinaryOp::Sub, u, make_int(1, DataType::UInt32)), DataType::Int64)),
            "T.cast(u - T.uint32(1), \"int64\")");
  Expr sel = make_select(make_binary(BinaryOp::LT, x, make_int(0)), make_unary(UnaryOp::Neg, x), x);
  EXPECT_EQ(print(widen(sel, DataType::Int64)), "T.if_then_else(x < 0, -T.cast(x, \"int64\"), T.cast(x, \"int64\"))");
}

TEST(WidenIndices, WidensOnlyDimensionsThatCanPass2To31) {
  Var bx = make_var("bx"), tx = make_var("tx"), n = make_var("N", DataType::Int64);
  Buffer big = make_buffer("A", {make_int(3'000'000'000, DataType::Int64), make_int(64)}, DataType::Int8, Scope::Global);
  Buffer sym = make_buffer("B", {n}, DataType::Int8, Scope::Global);
  Buffer small = make_buffer("C", {make_int(1 << 30)}, DataType::Int8, Scope::Global);
  Expr row = make_binary(BinaryOp::Add, make_binary(BinaryOp::Mul, bx, make_int(128)), tx);
  Stmt body = make_seq({make_store(big, {row, tx}, make_int(1, DataType::Int8)), make_store(sym, {row}, make_load(small, {row}))});
  Stmt kernel = make_kernel({make_int(1), make_int(1), make_int(1)}, 128, {bx, make_var("by"), make_var("bz")}, tx, body);
  PrimFunc f = make_prim_func("f", {big, sym, small}, kernel);
  const std::string out = print(passes::widen_indices(f));
  EXPECT_NE(out.find("A[T.cast(bx, \"int64\") * T.int64(128) + T.cast(tx, \"int64\"), tx] = "), std::string::npos) << out;
  EXPECT_NE(out.find("B[T.cast(bx, \"int64\") * T.int64(128) + T.cast(tx, \"int64\")] = C[bx * 128 + tx]"), std::string::npos) << out;
  // Nothing to widen: the same program, unchanged.
  PrimFunc narrow = make_prim_func("g", {small}, make_kernel({make_int(1), make_int(1), make_int(1)}, 128, {bx, make_var("by"), make_var("bz")}, tx,
                                                             make_store(small, {row}, make_int(0, DataType::Int8))));
  EXPECT_EQ(passes::widen_indices(narrow), narrow);
}

}  // namespace
}  // namespace tilescale::ir
