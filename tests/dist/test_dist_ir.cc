// The IR of the distributed operators: Builtin calls and Evaluate statements print readably,
// compare structurally, survive rewrites, and are never folded away.
#include "ir/equality.h"
#include "ir/printer.h"
#include "ir/visitor.h"
#include "passes/simplify.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

T::PrimFunc signalled_put() {
  return T::prim_func("signalled_put", [] {
    auto a = T::Tensor("a", {64}, T::float16);
    auto flag = T::Tensor("flag", {4}, T::int32);
    T::Kernel(2, T::threads(64), [&](T::Expr bx) {
      T::Expr peer = (T::get_rank() + 1) % T::get_num_ranks();
      T::put_block(a(bx * 32), a(bx * 32), 32, peer);
      T::If(T::get_thread_binding() == 0, [&] { T::st(flag(T::get_rank()), 1, T::MemScope::SYS, T::MemSem::Release, false, peer); });
      T::wait_eq(flag(bx), 1, -1, T::MemScope::GPU);
    });
  });
}

TEST(DistIr, BuiltinsPrintAsTheCallsThatBuiltThem) {
  EXPECT_EQ(signalled_put().to_string(),
            "@T.prim_func\n"
            "def signalled_put(a: T.Tensor((64,), \"float16\"), flag: T.Tensor((4,), \"int32\")):\n"
            "    with T.Kernel(2, 1, 1, threads=64) as (bx, by, bz):\n"
            "        tx = T.get_thread_binding()\n"
            "        T.put_block(a[bx * 32], a[bx * 32], 32, (T.get_rank() + 1) % T.get_num_ranks())\n"
            "        if tx == 0:\n"
            "            T.st(flag[T.get_rank()], 1, (T.get_rank() + 1) % T.get_num_ranks(), na=0, scope=\"sys\", sem=\"release\")\n"
            "        T.wait_eq(flag[bx], 1, -1, scope=\"gpu\", sem=\"acquire\")\n");
}

TEST(DistIr, StructuralEqualityComparesOpsArgumentsAndAttributes) {
  EXPECT_TRUE(ir::structural_equal(signalled_put().node(), signalled_put().node()));
  ir::Expr a = ir::make_builtin(DataType::Int32, "get_rank", {});
  ir::Expr b = ir::make_builtin(DataType::Int32, "get_num_ranks", {});
  ir::Expr c = ir::make_builtin(DataType::Int32, "shuffle_elect", {ir::make_int(32)});
  ir::Expr d = ir::make_builtin(DataType::Int32, "shuffle_elect", {ir::make_int(32)}, {{"x", std::int64_t(1)}});
  EXPECT_TRUE(ir::structural_equal(a, ir::make_builtin(DataType::Int32, "get_rank", {})));
  EXPECT_FALSE(ir::structural_equal(a, b));
  EXPECT_FALSE(ir::structural_equal(c, d));
  EXPECT_FALSE(ir::structural_equal(ir::make_evaluate(c), ir::make_evaluate(d)));
}

TEST(DistIr, MutatorsRebuildBuiltinsAndKeepUnchangedOnes) {
  ir::Var i = ir::make_var("i");
  ir::Expr call = ir::make_builtin(DataType::Int32, "shuffle_elect", {ir::make_binary(ir::BinaryOp::Mul, i, ir::make_int(32))});
  ir::Stmt eval = ir::make_evaluate(ir::make_builtin(DataType::Int32, "sync_warp", {ir::make_cast(DataType::UInt32, i)}));
  EXPECT_EQ(ir::substitute(call, {}), call);
  EXPECT_EQ(ir::print(ir::substitute(call, {{i.get(), ir::make_int(2)}})), "T.shuffle_elect(2 * 32)");
  EXPECT_EQ(ir::print(ir::substitute(eval, {{i.get(), ir::make_int(3)}})), "T.sync_warp(T.cast(3, \"uint32\"))\n");
  int seen = 0;
  ir::for_each_expr(call, [&](const ir::Expr& e) { seen += e->kind == ir::ExprKind::Builtin; });
  EXPECT_EQ(seen, 1);
  EXPECT_TRUE(ir::uses_var(eval, i.get()));
}

TEST(DistIr, SimplifyNeverFoldsAwayABuiltin) {
  ir::Expr call = ir::make_builtin(DataType::Int32, "get_rank", {});
  EXPECT_TRUE(ir::has_builtin(ir::make_binary(ir::BinaryOp::Add, ir::make_int(1), call)));
  EXPECT_FALSE(ir::has_builtin(ir::make_binary(ir::BinaryOp::Add, ir::make_int(1), ir::make_int(2))));
  EXPECT_EQ(ir::print(passes::simplify(ir::make_binary(ir::BinaryOp::Mul, call, ir::make_int(0)))), "T.get_rank() * 0");
  EXPECT_EQ(ir::print(passes::simplify(ir::make_binary(ir::BinaryOp::Mul, ir::make_int(0), call))), "0 * T.get_rank()");
  EXPECT_EQ(ir::print(passes::simplify(ir::make_binary(ir::BinaryOp::Add, call, ir::make_int(0)))), "T.get_rank()");
}

}  // namespace
}  // namespace tilescale::test
