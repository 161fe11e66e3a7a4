// Scoped statements (ir::ScopedNode): printed, compared, walked and rewritten like the other
// statements; verified inside the Kernel only (a warp role of whole warpgroups); the CPU backend
// refuses every scope, the CUDA generator one whose key it does not know.
#include <gtest/gtest.h>

#include "ir/equality.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir/visitor.h"
#include "test_util.h"

namespace tilescale::ir {
namespace {

Expr i32(std::int64_t v) { return make_int(v); }

struct Scoped : ::testing::Test {
  Buffer A = make_buffer("A", {i32(128)}, DataType::Float32, Scope::Global);
  Var bx = make_var("bx"), by = make_var("by"), bz = make_var("bz"), tx = make_var("tx");

  Stmt store(const Expr& value) { return make_store(A, {tx}, value); }
  Stmt unit(std::vector<std::int64_t> stmts, Stmt body) { return make_scoped("unit", {{"stmt", std::move(stmts)}}, std::move(body)); }
  PrimFunc program(Stmt body) {
    return make_prim_func("scoped", {A}, make_kernel({i32(1), i32(1), i32(1)}, 128, {bx, by, bz}, tx, std::move(body)));
  }
};

TEST_F(Scoped, PrintsAsAWithBlock) {
  Stmt roles = make_scoped("warp_role", {{"threads", std::int64_t{128}}, {"first_thread", std::int64_t{0}}},
                           make_seq({unit({0, 1}, store(make_float(1.0))), make_scoped("pipeline", {}, store(make_float(2.0)))}));
  EXPECT_EQ(print(program(roles)), R"(@T.prim_func
def scoped(A: T.Tensor((128,), "float32")):
    with T.Kernel(1, 1, 1, threads=128) as (bx, by, bz):
        tx = T.get_thread_binding()
        with T.warp_role(first_thread=0, threads=128):
            with T.unit(stmt=[0, 1]):
                A[tx] = 1.0
            with T.pipeline():
                A[tx] = 2.0
)");
}

TEST_F(Scoped, EqualityComparesKeyAttributesAndBody) {
  EXPECT_TRUE(structural_equal(unit({0}, store(make_float(1.0))), unit({0}, store(make_float(1.0)))));
  EXPECT_FALSE(structural_equal(unit({0}, store(make_float(1.0))), unit({1}, store(make_float(1.0)))));
  EXPECT_FALSE(structural_equal(unit({0}, store(make_float(1.0))), unit({0}, store(make_float(2.0)))));
  EXPECT_FALSE(structural_equal(unit({0}, store(make_float(1.0))), make_scoped("pipeline", {{"stmt", std::vector<std::int64_t>{0}}},
                                                                               store(make_float(1.0)))));
  // Buffers allocated in the body are bound there, so their names do not matter.
  auto with_local = [&](const std::string& name) {
    Buffer L = make_buffer(name, {i32(4)}, DataType::Float32, Scope::Local);
    return program(unit({0}, make_seq({make_alloc(L), make_store(L, {i32(0)}, make_float(1.0)), store(make_load(L, {i32(0)}))})));
  };
  EXPECT_TRUE(structural_equal(with_local("L"), with_local("M")));
}

TEST_F(Scoped, VisitorAndMutatorReachTheBody) {
  Stmt s = unit({2}, make_seq({store(make_float(1.0)), store(make_cast(DataType::Float32, tx))}));
  struct CountStores : Visitor {
    int n = 0;
    void visit(const StoreNode*) override { ++n; }
  } count;
  count.visit_stmt(s);
  EXPECT_EQ(count.n, 2);

  Mutator identity;
  EXPECT_EQ(identity.mutate_stmt(s), s);
  Stmt out = substitute(s, {{tx.get(), i32(5)}});
  auto* scoped = as<ScopedNode>(out);
  ASSERT_NE(scoped, nullptr);
  EXPECT_NE(out, s);
  EXPECT_EQ(scoped->key, "unit");
  EXPECT_EQ(scoped->attrs, as<ScopedNode>(s)->attrs);
  EXPECT_EQ(print(out), "with T.unit(stmt=[2]):\n    A[5] = 1.0\n    A[5] = T.cast(5, \"float32\")\n");
}

TEST_F(Scoped, VerifiedInsideTheKernelItsBodyAScope) {
  Buffer L = make_buffer("L", {i32(4)}, DataType::Float32, Scope::Local);
  EXPECT_NO_THROW(verify(program(unit({0}, make_seq({make_alloc(L), store(make_load(L, {i32(0)}))})))));
  EXPECT_COMPILE_ERROR(verify(program(make_seq({unit({0}, make_alloc(L)), store(make_load(L, {i32(0)}))}))),
                       "cannot use local buffer L in a load because it is not in scope here");
  PrimFunc outside = make_prim_func("outside", {A}, make_seq({unit({0}, make_seq({})), program(store(make_float(1.0)))->body}));
  EXPECT_TRUE(test::throws<InternalError>([&] { verify(outside); }, {"T.unit scope outside T::Kernel"}));
  auto role = [&](std::int64_t first, std::int64_t threads) {
    return program(make_scoped("warp_role", {{"first_thread", first}, {"threads", threads}}, store(make_float(1.0))));
  };
  EXPECT_NO_THROW(verify(role(128, 128)));
  EXPECT_TRUE(test::throws<InternalError>([&] { verify(role(0, 96)); }, {"T.warp_role in scoped whose threads is not a whole number of warpgroups"}));
  EXPECT_TRUE(test::throws<InternalError>([&] { verify(role(32, 128)); }, {"first_thread is not a whole number of warpgroups"}));
}

// A scope the backend does not know: it would have to know what it means.
TEST_F(Scoped, BackendsRefuseIt) {
  lang::PrimFunc f(program(make_scoped("mystery", {}, store(make_float(1.0)))));
  EXPECT_TRUE(test::throws<InternalError>([&] { generate_cuda(f, "sm_80"); }, {"T.mystery scope reached the CUDA generator"}));
  EXPECT_TRUE(test::throws<InternalError>([&] { test::cpu(f); }, {"T.mystery scope reached the CPU backend"}));
}

}  // namespace
}  // namespace tilescale::ir
