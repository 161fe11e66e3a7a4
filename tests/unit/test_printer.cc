#include "ir/printer.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

namespace tilescale::ir {
namespace {

Expr i32(std::int64_t v) { return make_int(v); }
Expr f32(double v) { return make_float(v); }
Expr add(Expr a, Expr b) { return make_binary(BinaryOp::Add, a, b); }
Expr sub(Expr a, Expr b) { return make_binary(BinaryOp::Sub, a, b); }
Expr mul(Expr a, Expr b) { return make_binary(BinaryOp::Mul, a, b); }
Expr lt(Expr a, Expr b) { return make_binary(BinaryOp::LT, a, b); }

TEST(Printer, SmallKernel) {
  Var M = make_var("M"), K = make_var("K");
  Buffer A = make_buffer("A", {M, K}, DataType::Float16, Scope::Global);
  Buffer C = make_buffer("C", {M}, DataType::Float16, Scope::Global);
  Var bx = make_var("bx"), by = make_var("by"), bz = make_var("bz"), tx = make_var("tx");
  Var k = make_var("k"), i = make_var("i");
  Buffer A_shared = make_buffer("A_shared", {i32(128), i32(32)}, DataType::Float16, Scope::Shared);
  Buffer acc = make_buffer("acc", {i32(128)}, DataType::Float32, Scope::Fragment);
  Buffer n = make_buffer("n", {i32(1)}, DataType::Int32, Scope::Var);

  Region tile{A, {mul(bx, i32(128)), mul(k, i32(32))}, {i32(128), i32(32)}};
  Stmt pipelined = make_for(k, i32(0), make_binary(BinaryOp::Div, K, i32(32)), ForKind::Pipelined,
                            make_seq({make_tile_op("copy", {tile, full_region(A_shared)}),
                                      make_tile_op("reduce", {full_region(A_shared), full_region(acc)}, {},
                                                   {{"dim", std::int64_t{1}}, {"kind", std::string("sum")}})}),
                            PipelineInfo{3, {}, {}});
  Expr row = add(mul(bx, i32(128)), i);
  Stmt epilogue = make_for(i, i32(0), i32(128), ForKind::Parallel,
                           make_if(lt(row, M), make_store(C, {row}, make_cast(DataType::Float16, make_load(acc, {i}))),
                                   make_store(acc, {i}, f32(0.0))));
  Expr count = make_load(n, {i32(0)});
  Stmt loop = make_while(lt(count, i32(4)), make_seq({make_if(make_binary(BinaryOp::EQ, tx, i32(0)), make_break()),
                                                      make_store(n, {i32(0)}, add(count, i32(1)))}));
  Stmt body = make_seq({make_alloc(A_shared), make_alloc(acc), make_alloc(n),
                        make_tile_op("fill", {full_region(acc)}, {f32(0.0)}), pipelined, epilogue,
                        make_store(n, {i32(0)}, i32(0)), loop});
  Expr grid_x = make_binary(BinaryOp::Div, add(M, i32(127)), i32(128));
  PrimFunc f = make_prim_func("demo", {A, C}, make_kernel({grid_x, i32(1), i32(1)}, 128, {bx, by, bz}, tx, body));

  EXPECT_EQ(print(f),
            R"(@T.prim_func
def demo(A: T.Tensor((M, K), "float16"), C: T.Tensor((M,), "float16")):
    with T.Kernel((M + 127) / 128, 1, 1, threads=128) as (bx, by, bz):
        tx = T.get_thread_binding()
        A_shared = T.alloc_shared((128, 32), "float16")
        acc = T.alloc_fragment((128,), "float32")
        n = T.alloc_var("int32")
        T.fill(acc, 0.0)
        for k in T.Pipelined(K / 32, num_stages=3):
            T.copy(A[bx * 128 : +128, k * 32 : +32], A_shared)
            T.reduce(A_shared, acc, dim=1, kind="sum")
        for i in T.Parallel(128):
            if bx * 128 + i < M:
                C[bx * 128 + i] = T.cast(acc[i], "float16")
            else:
                acc[i] = 0.0
        n[0] = 0
        while n[0] < 4:
            if tx == 0:
                break
            n[0] = n[0] + 1
)");
}

// The example in printer.h.
TEST(Printer, HeaderExample) {
  Var N = make_var("N"), bx = make_var("bx"), i = make_var("i");
  Buffer A = make_buffer("A", {N}, DataType::Float32, Scope::Global);
  Buffer A_local = make_buffer("A_local", {i32(128)}, DataType::Float32, Scope::Fragment);
  Expr base = mul(bx, i32(128));
  Stmt body = make_seq({make_alloc(A_local), make_tile_op("copy", {Region{A, {base}, {i32(128)}}, full_region(A_local)}),
                        make_for(i, i32(0), i32(128), ForKind::Parallel,
                                 make_store(A, {add(base, i)}, mul(make_load(A_local, {i}), f32(0.5))))});
  Stmt kernel = make_kernel({make_binary(BinaryOp::Div, add(N, i32(127)), i32(128)), i32(1), i32(1)}, 128,
                            {bx, make_var("by"), make_var("bz")}, make_var("tx"), body);
  EXPECT_EQ(print(make_prim_func("scale", {A}, kernel)), R"(@T.prim_func
def scale(A: T.Tensor((N,), "float32")):
    with T.Kernel((N + 127) / 128, 1, 1, threads=128) as (bx, by, bz):
        A_local = T.alloc_fragment((128,), "float32")
        T.copy(A[bx * 128 : +128], A_local)
        for i in T.Parallel(128):
            A[bx * 128 + i] = A_local[i] * 0.5
)");
}

TEST(Printer, LoopForms) {
  Var i = make_var("i"), j = make_var("j"), k = make_var("k");
  Buffer B = make_buffer("B", {i32(64), i32(64)}, DataType::Float32, Scope::Shared);
  Stmt store = make_store(B, {i, j}, f32(1.0));
  EXPECT_EQ(print(make_for(i, i32(2), i32(8), ForKind::Serial, make_for(j, k, i32(4), ForKind::Unrolled, store))),
            "for i in T.serial(2, 10):\n"
            "    for j in T.unroll(k, k + 4):\n"
            "        B[i, j] = 1.0\n");
  EXPECT_EQ(print(make_for(i, i32(0), i32(8), ForKind::Parallel, make_for(j, i32(0), i32(16), ForKind::Parallel, store))),
            "for i, j in T.Parallel(8, 16):\n"
            "    B[i, j] = 1.0\n");
  // An inner extent that depends on the outer index keeps the loops apart.
  EXPECT_EQ(print(make_for(i, i32(0), i32(8), ForKind::Parallel, make_for(j, i32(0), i, ForKind::Parallel, store))),
            "for i in T.Parallel(8):\n"
            "    for j in T.Parallel(i):\n"
            "        B[i, j] = 1.0\n");
  EXPECT_EQ(print(make_for(k, i32(0), i32(16), ForKind::Pipelined, make_seq({store, store}), PipelineInfo{2, {1, 0}, {0, 1}})),
            "for k in T.Pipelined(16, num_stages=2, order=[1, 0], stage=[0, 1]):\n"
            "    B[i, j] = 1.0\n"
            "    B[i, j] = 1.0\n");
  EXPECT_EQ(print(make_for(k, i32(0), i32(4), ForKind::Serial, make_seq({}))), "for k in T.serial(4):\n    pass\n");
}

TEST(Printer, AssertPrintAnnotate) {
  Var x = make_var("x");
  Buffer S = make_buffer("S", {i32(4)}, DataType::Float32, Scope::Shared);
  EXPECT_EQ(print(make_assert(lt(x, i32(4)), "x \"too\" big")), "T.device_assert(x < 4, \"x \\\"too\\\" big\")\n");
  EXPECT_EQ(print(make_print("x is", x, nullptr)), "T.print(x, msg=\"x is\")\n");
  EXPECT_EQ(print(make_print("S", nullptr, S)), "T.print(S, msg=\"S\")\n");
  EXPECT_EQ(print(make_annotate("swizzle", nullptr, nullptr, {{"order", std::string("col")}, {"panel_size", std::int64_t{8}}})),
            "T.use_swizzle(panel_size=8, order=\"col\")\n");
  EXPECT_EQ(print(make_annotate("hint", S, nullptr, {{"level", std::int64_t{2}}})), "T.annotate(\"hint\", S, level=2)\n");
}

// A device builtin's template arguments print in brackets after its name, in order; an integer
// list attribute as a list.
TEST(Printer, TemplateArgumentsAndIntegerLists) {
  Buffer A = make_buffer("A_shared", {i32(64), i32(32)}, DataType::Float16, Scope::Shared);
  Buffer C = make_buffer("C_local", {i32(32)}, DataType::Float32, Scope::Local);
  Expr gemm = make_builtin(DataType::Int32, "tl.gemm_ss", {make_load(A, {i32(0), i32(0)}), make_load(C, {i32(0)})}, {},
                           {std::int64_t{64}, std::int64_t{2}, false, true, DataType::Float16, DataType::Float32});
  EXPECT_EQ(print(make_evaluate(gemm)), "T.tl.gemm_ss[64, 2, False, True, \"float16\", \"float32\"](A_shared[0, 0], C_local[0])\n");
  EXPECT_EQ(print(make_builtin(DataType::Int32, "tl.cp_async_wait", {}, {}, {std::int64_t{0}})), "T.tl.cp_async_wait[0]()");
  EXPECT_EQ(print(make_annotate("hint", nullptr, nullptr, {{"stmt", std::vector<std::int64_t>{0, 1}}, {"none", std::vector<std::int64_t>{}}})),
            "T.annotate(\"hint\", none=[], stmt=[0, 1])\n");
}

TEST(Printer, RegionCoversWholeBufferOnlyFromZero) {
  Var N = make_var("N");
  Buffer A = make_buffer("A", {N, i32(32)}, DataType::Float16, Scope::Global);
  EXPECT_EQ(print(full_region(A)), "A");
  EXPECT_EQ(print(Region{A, {i32(0), i32(0)}, {N, i32(16)}}), "A[0 : +N, 0 : +16]");
  EXPECT_EQ(print(Region{A, {i32(1), i32(0)}, {N, i32(32)}}), "A[1 : +N, 0 : +32]");
}

TEST(Printer, DeduplicatesNames) {
  Var i1 = make_var("i"), i2 = make_var("i"), taken = make_var("i_1");
  Buffer A = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Buffer A2 = make_buffer("A", {i32(8)}, DataType::Int32, Scope::Shared);
  Stmt s = make_seq({make_for(i1, i32(0), i32(8), ForKind::Serial, make_store(A, {i1}, i1)),
                     make_for(i2, i32(0), i32(8), ForKind::Serial, make_store(A2, {i2}, add(i1, taken)))});
  EXPECT_EQ(print(s),
            "for i in T.serial(8):\n"
            "    A[i] = i\n"
            "for i_1 in T.serial(8):\n"
            "    A_1[i_1] = i + i_1_1\n");
}

TEST(Printer, Parenthesization) {
  Var a = make_var("a"), b = make_var("b"), c = make_var("c");
  EXPECT_EQ(print(mul(add(a, b), c)), "(a + b) * c");
  EXPECT_EQ(print(sub(a, sub(b, c))), "a - (b - c)");
  EXPECT_EQ(print(sub(sub(a, b), c)), "a - b - c");
  EXPECT_EQ(print(add(a, mul(b, c))), "a + b * c");
  EXPECT_EQ(print(make_binary(BinaryOp::Div, a, mul(b, c))), "a / (b * c)");
  EXPECT_EQ(print(make_unary(UnaryOp::Neg, add(a, b))), "-(a + b)");
  EXPECT_EQ(print(make_unary(UnaryOp::Neg, i32(-3))), "-(-3)");
  EXPECT_EQ(print(make_binary(BinaryOp::Min, add(a, b), c)), "T.min(a + b, c)");
  EXPECT_EQ(print(make_binary(BinaryOp::FloorMod, a, i32(4))), "T.floormod(a, 4)");
  Expr both = make_binary(BinaryOp::And, lt(a, b), make_unary(UnaryOp::Not, lt(b, c)));
  EXPECT_EQ(print(make_binary(BinaryOp::Or, both, make_binary(BinaryOp::EQ, a, c))), "a < b and !(b < c) or a == c");
  EXPECT_EQ(print(make_binary(BinaryOp::And, lt(a, b), make_binary(BinaryOp::Or, lt(b, c), lt(a, c)))),
            "a < b and (b < c or a < c)");
  EXPECT_EQ(print(make_select(lt(a, b), a, b)), "T.if_then_else(a < b, a, b)");
  EXPECT_EQ(print(make_call(Intrinsic::Exp, {make_cast(DataType::Float32, a)})), "T.exp(T.cast(a, \"float32\"))");
}

TEST(Printer, Immediates) {
  EXPECT_EQ(print(i32(5)), "5");
  EXPECT_EQ(print(make_int(5, DataType::Int64)), "T.int64(5)");
  EXPECT_EQ(print(make_int(255, DataType::UInt8)), "T.uint8(255)");
  EXPECT_EQ(print(make_int(1, DataType::Bool)), "True");
  EXPECT_EQ(print(make_int(0, DataType::Bool)), "False");
  EXPECT_EQ(print(f32(0.5)), "0.5");
  EXPECT_EQ(print(f32(1.0)), "1.0");
  EXPECT_EQ(print(f32(1e-5)), "1e-05");
  EXPECT_EQ(print(f32(static_cast<float>(1e-5))), "1e-05");
  EXPECT_EQ(print(f32(0.0001)), "0.0001");
  EXPECT_EQ(print(f32(123456.0)), "123456.0");
  EXPECT_EQ(print(f32(1e16)), "1e+16");
  EXPECT_EQ(print(f32(-0.0)), "-0.0");
  EXPECT_EQ(print(f32(std::numeric_limits<float>::max())), "3.4028235e+38");
  EXPECT_EQ(print(f32(std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(print(f32(-std::numeric_limits<double>::infinity())), "-inf");
  EXPECT_EQ(print(f32(std::numeric_limits<double>::quiet_NaN())), "nan");
  EXPECT_EQ(print(make_float(0.5, DataType::Float16)), "T.float16(0.5)");
  EXPECT_EQ(print(make_float(0.1, DataType::Float64)), "T.float64(0.1)");
  // A float64 is printed with all the digits it needs, even when a float holds it exactly.
  EXPECT_EQ(print(make_float(static_cast<float>(0.1), DataType::Float64)), "T.float64(0.10000000149011612)");
}

TEST(Printer, StreamsVarsByName) {
  std::ostringstream os;
  os << make_var("x") << " " << Expr(add(make_var("y"), i32(1)));
  EXPECT_EQ(os.str(), "x y + 1");
}

}  // namespace
}  // namespace tilescale::ir
