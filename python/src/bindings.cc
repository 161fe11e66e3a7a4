// tilescale._tilescale: the C++ library as the Python front end (python/tilescale/) sees it. The
// bindings stay thin: the tile language is the builder of lang.h (its begun/ended scopes for
// Python's `with` and `for`); compile and Kernel are runtime.h's (call_bindings.cc).
// lang_dist_bindings.cc binds the distributed operators, dist_bindings.cc worlds and ranks;
// bindings.h holds what they share.

#include <nanobind/nanobind.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "ir/equality.h"
#include "ir/printer.h"
#include "passes/simplify.h"
#include "tilescale/errors.h"
#include "tilescale/lang.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"

namespace nb = nanobind;
namespace T = tilescale::lang;
using tilescale::DataType;
using tilescale::detail::cat;

namespace tilescale::python {

T::Expr to_expr(nb::handle h) {
  if (nb::isinstance<T::Expr>(h)) return nb::cast<T::Expr>(h);
  if (nb::isinstance<T::BufferRef>(h)) return nb::cast<T::BufferRef>(h);
  if (nb::isinstance<T::Scalar>(h)) return nb::cast<T::Scalar>(h);
  if (PyBool_Check(h.ptr())) return T::Expr(h.ptr() == Py_True);
  if (PyLong_Check(h.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (!overflow) return T::Expr(v);
    unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      throw nb::value_error(cat("cannot use the integer ", nb::str(h).c_str(), " in a tile program because it does not fit "
                                "in 64 bits; use a smaller constant").c_str());
    }
    return T::Expr(u);
  }
  if (PyFloat_Check(h.ptr())) return T::Expr(PyFloat_AsDouble(h.ptr()));
  throw nb::type_error(cat("cannot use a ", nb::type_name(h.type()).c_str(), " as a value in a tile program; "
                           "use an expression, a buffer element, or a Python number").c_str());
}

std::vector<T::Expr> exprs(const std::vector<ExprArg>& vs) {
  std::vector<T::Expr> out;
  for (const auto& v : vs) out.push_back(v.expr);
  return out;
}

}  // namespace tilescale::python

using namespace tilescale::python;

namespace {

// An integer expression as constant + sum of coefficient * atom (atoms compared structurally), so
// that a slice's extent (bx + 1) * 64 - bx * 64 is seen to be 64.
struct Affine {
  std::int64_t constant = 0;
  std::vector<std::pair<tilescale::ir::Expr, std::int64_t>> terms;

  void add(const tilescale::ir::Expr& e, std::int64_t scale) {
    namespace ir = tilescale::ir;
    if (auto c = ir::as_const_int(e)) {
      constant += scale * *c;
      return;
    }
    if (const auto* b = ir::as<ir::BinaryNode>(e)) {
      if (b->op == ir::BinaryOp::Add || b->op == ir::BinaryOp::Sub) {
        add(b->a, scale);
        add(b->b, b->op == ir::BinaryOp::Add ? scale : -scale);
        return;
      }
      if (b->op == ir::BinaryOp::Mul) {
        if (auto c = ir::as_const_int(b->b)) return add(b->a, scale * *c);
        if (auto c = ir::as_const_int(b->a)) return add(b->b, scale * *c);
      }
    }
    for (auto& [atom, k] : terms)
      if (ir::structural_equal(atom, e)) {
        k += scale;
        return;
      }
    terms.emplace_back(e, scale);
  }
};

// stop - start, folded to a constant when the two differ by a constant (a slice of a fixed extent).
T::Expr extent_between(const T::Expr& start, const T::Expr& stop) {
  T::Expr diff = stop - start;
  if (!tilescale::is_integer(diff.dtype())) return diff;
  Affine a;
  a.add(stop.node(), 1);
  a.add(start.node(), -1);
  for (const auto& [atom, k] : a.terms)
    if (k != 0) return T::Expr(tilescale::passes::simplify(diff.node()));
  return T::Expr(tilescale::ir::make_int(a.constant, diff.dtype()));
}

}  // namespace

NB_MODULE(_tilescale, m) {
  m.doc() = "tilescale's C++ library: the tile-language builder, compile and kernels (use tilescale.language)";

  // Errors: tilescale.Error (a RuntimeError) and its CompileError, RuntimeError and InternalError,
  // with the C++ message. Translators are tried newest first, so the base is registered first.
  static nb::exception<tilescale::Error> error(m, "Error", PyExc_RuntimeError);
  static nb::exception<tilescale::CompileError> compile_error(m, "CompileError", error);
  static nb::exception<tilescale::RuntimeError> runtime_error(m, "RuntimeError", error);
  static nb::exception<tilescale::InternalError> internal_error(m, "InternalError", error);

  nb::enum_<DataType>(m, "DataType")
      .value("bool", DataType::Bool).value("int8", DataType::Int8).value("int16", DataType::Int16)
      .value("int32", DataType::Int32).value("int64", DataType::Int64).value("uint8", DataType::UInt8)
      .value("uint16", DataType::UInt16).value("uint32", DataType::UInt32).value("uint64", DataType::UInt64)
      .value("float16", DataType::Float16).value("bfloat16", DataType::BFloat16).value("float32", DataType::Float32)
      .value("float64", DataType::Float64).value("float8_e4m3", DataType::Float8E4M3)
      .value("float8_e5m2", DataType::Float8E5M2);
  m.def("dtype_name", [](DataType t) { return std::string(tilescale::name(t)); });
  m.def("parse_dtype", [](const std::string& s) -> nb::object {
    auto t = tilescale::parse_dtype(s);
    return t ? nb::cast(*t) : nb::none();
  });

  // ---------------------------------------------------------------------------------------------
  // Expressions. Python's `%` and `//` are floor modulo and floor division, as in Python and TileLang.
  auto expr = nb::class_<T::Expr>(m, "Expr");
  expr.def_prop_ro("dtype", &T::Expr::dtype)
      .def("__repr__", [](const T::Expr& e) { return tilescale::ir::print(e.node()); })
      .def("__bool__", [](const T::Expr& e) -> bool {
        throw nb::type_error(cat("cannot use the symbolic expression ", tilescale::ir::print(e.node()),
                                 " as a Python bool because its value is known only when the kernel runs; "
                                 "use it in an if/while of a @T.prim_func body, or T.if_then_else").c_str());
      });
#define TS_BINARY(name, op)                                                                                  \
  expr.def("__" #name "__", [](const T::Expr& a, ExprArg b) { return T::Expr(a op b.expr); }, nb::is_operator()); \
  expr.def("__r" #name "__", [](const T::Expr& a, ExprArg b) { return T::Expr(b.expr op a); }, nb::is_operator());
  TS_BINARY(add, +) TS_BINARY(sub, -) TS_BINARY(mul, *) TS_BINARY(truediv, /) TS_BINARY(and, &) TS_BINARY(or, |)
  TS_BINARY(xor, ^) TS_BINARY(lshift, <<) TS_BINARY(rshift, >>)
#undef TS_BINARY
  expr.def("__floordiv__", [](const T::Expr& a, ExprArg b) { return T::floordiv(a, b.expr); }, nb::is_operator())
      .def("__rfloordiv__", [](const T::Expr& a, ExprArg b) { return T::floordiv(b.expr, a); }, nb::is_operator())
      .def("__mod__", [](const T::Expr& a, ExprArg b) { return T::floormod(a, b.expr); }, nb::is_operator())
      .def("__rmod__", [](const T::Expr& a, ExprArg b) { return T::floormod(b.expr, a); }, nb::is_operator())
      .def("__pow__", [](const T::Expr& a, ExprArg b) { return T::pow(a, b.expr); }, nb::is_operator())
      .def("__rpow__", [](const T::Expr& a, ExprArg b) { return T::pow(b.expr, a); }, nb::is_operator())
      .def("__lt__", [](const T::Expr& a, ExprArg b) { return a < b.expr; }, nb::is_operator())
      .def("__le__", [](const T::Expr& a, ExprArg b) { return a <= b.expr; }, nb::is_operator())
      .def("__gt__", [](const T::Expr& a, ExprArg b) { return a > b.expr; }, nb::is_operator())
      .def("__ge__", [](const T::Expr& a, ExprArg b) { return a >= b.expr; }, nb::is_operator())
      .def("__eq__", [](const T::Expr& a, ExprArg b) { return a == b.expr; }, nb::is_operator())
      .def("__ne__", [](const T::Expr& a, ExprArg b) { return a != b.expr; }, nb::is_operator())
      .def("__neg__", [](const T::Expr& a) { return -a; })
      .def("__pos__", [](const T::Expr& a) { return a; })
      .def("__invert__", [](const T::Expr& a) { return ~a; })
      .def("__abs__", [](const T::Expr& a) { return T::abs(a); })
      .def("__hash__", [](const T::Expr& a) { return reinterpret_cast<std::uintptr_t>(a.node().get()); });
  m.def("expr", [](ExprArg v) { return v.expr; }, "the value as an Expr");
  m.def("extent_between", [](ExprArg start, ExprArg stop) { return extent_between(start.expr, stop.expr); });
  m.def("logical_and", [](ExprArg a, ExprArg b) { return a.expr && b.expr; });
  m.def("logical_or", [](ExprArg a, ExprArg b) { return a.expr || b.expr; });
  m.def("logical_not", [](ExprArg a) { return !a.expr; });

#define TS_UNARY(name) m.def(#name, [](ExprArg x) { return T::name(x.expr); });
  TS_UNARY(exp) TS_UNARY(exp2) TS_UNARY(log) TS_UNARY(log2) TS_UNARY(sqrt) TS_UNARY(rsqrt) TS_UNARY(abs)
  TS_UNARY(floor) TS_UNARY(ceil) TS_UNARY(sin) TS_UNARY(cos) TS_UNARY(tanh) TS_UNARY(sigmoid)
#undef TS_UNARY
#define TS_BINARY_FN(name) m.def(#name, [](ExprArg a, ExprArg b) { return T::name(a.expr, b.expr); });
  TS_BINARY_FN(min) TS_BINARY_FN(max) TS_BINARY_FN(floordiv) TS_BINARY_FN(floormod) TS_BINARY_FN(ceildiv) TS_BINARY_FN(pow)
#undef TS_BINARY_FN
  m.def("cast", [](ExprArg v, DataType t) { return T::cast(v.expr, t); });
  m.def("if_then_else", [](ExprArg c, ExprArg t, ExprArg f) { return T::if_then_else(c.expr, t.expr, f.expr); });
  m.def("infinity", &T::infinity);
  m.def("max_value", &T::max_value);
  m.def("min_value", &T::min_value);
  m.def("dynamic", &T::dynamic, nb::arg("name"), nb::arg("dtype") = DataType::Int32);

  // ---------------------------------------------------------------------------------------------
  // Buffers
  nb::class_<T::BufferRef>(m, "BufferRef")
      .def("load", [](const T::BufferRef& r) { return T::Expr(r); })
      .def("store", [](const T::BufferRef& r, ExprArg v) { r = v.expr; })
      .def_prop_ro("buffer", [](const T::BufferRef& r) { return T::Buffer(r.buffer()); })
      .def("__repr__", [](const T::BufferRef& r) { return tilescale::ir::print(T::Expr(r).node()); });
  nb::class_<T::Buffer>(m, "Buffer")
      .def_prop_ro("name", &T::Buffer::name)
      .def_prop_ro("dtype", &T::Buffer::dtype)
      .def_prop_ro("rank", &T::Buffer::rank)
      .def("shape", &T::Buffer::shape)
      .def("at", [](const T::Buffer& b, const std::vector<ExprArg>& index) { return b.at(exprs(index)); })
      .def("region", [](const T::Buffer& b, const std::vector<ExprArg>& base, const std::vector<ExprArg>& extent) {
        return T::region(b, exprs(base), exprs(extent));
      });
  nb::class_<T::Scalar>(m, "Scalar")
      .def("load", [](const T::Scalar& s) { return T::Expr(s); })
      .def("store", [](const T::Scalar& s, ExprArg v) { s = v.expr; })
      .def_prop_ro("buffer", &T::Scalar::buffer);
  nb::class_<T::TileRef>(m, "TileRef")
      .def(nb::init_implicit<T::Buffer>())
      .def(nb::init_implicit<T::BufferRef>())
      .def(nb::init_implicit<T::Scalar>());

  m.def("Tensor", [](const std::string& name, const std::vector<ExprArg>& shape, DataType t) { return T::Tensor(name, exprs(shape), t); });
  m.def("ScalarParam", &T::ScalarParam, nb::arg("name"), nb::arg("dtype"));
  m.def("alloc_shared", [](const std::vector<ExprArg>& s, DataType t, const std::string& n) { return T::alloc_shared(exprs(s), t, n); });
  m.def("alloc_fragment", [](const std::vector<ExprArg>& s, DataType t, const std::string& n) { return T::alloc_fragment(exprs(s), t, n); });
  m.def("alloc_local", [](const std::vector<ExprArg>& s, DataType t, const std::string& n) { return T::alloc_local(exprs(s), t, n); });
  m.def("alloc_var", [](DataType t, const std::string& n) { return T::alloc_var(t, n); });
  m.def("alloc_var", [](DataType t, ExprArg init, const std::string& n) { return T::alloc_var(t, init.expr, n); });

  // ---------------------------------------------------------------------------------------------
  // Functions and scopes (lang.h: "Scopes begun and ended explicitly")
  nb::class_<T::PrimFunc>(m, "PrimFunc")
      .def_prop_ro("name", &T::PrimFunc::name)
      .def("script", &T::PrimFunc::to_string)
      .def("__str__", &T::PrimFunc::to_string);
  m.def("prim_func", [](const std::string& name, const std::function<void()>& body) { return T::prim_func(name, body); });

  nb::enum_<T::detail::ScopeKind>(m, "ScopeKind")
      .value("Kernel", T::detail::ScopeKind::Kernel).value("Parallel", T::detail::ScopeKind::Parallel)
      .value("Pipelined", T::detail::ScopeKind::Pipelined).value("Serial", T::detail::ScopeKind::Serial)
      .value("Unroll", T::detail::ScopeKind::Unroll).value("If", T::detail::ScopeKind::If)
      .value("Else", T::detail::ScopeKind::Else).value("While", T::detail::ScopeKind::While);
  m.def("begin_kernel", [](const std::vector<ExprArg>& grid, const std::vector<int>& threads) {
    if (threads.empty() || threads.size() > 3)
      throw tilescale::CompileError(cat("cannot launch a kernel with threads of ", threads.size(), " dimensions; give 1 to 3 extents"));
    return T::detail::begin_kernel(exprs(grid), threads.size() == 1 ? T::threads(threads[0])
                                                                     : T::threads(threads[0], threads[1], threads.size() > 2 ? threads[2] : 1));
  });
  m.def("begin_parallel", [](const std::vector<ExprArg>& extents) { return T::detail::begin_parallel(exprs(extents)); });
  m.def("begin_pipelined", [](ExprArg extent, int num_stages, std::vector<int> order, std::vector<int> stage) {
    return T::detail::begin_pipelined(extent.expr, T::PipelineOptions{num_stages, std::move(order), std::move(stage)});
  });
  m.def("begin_serial", [](ExprArg begin, ExprArg end) { return T::detail::begin_serial(begin.expr, end.expr); });
  m.def("begin_unroll", [](ExprArg extent) { return T::detail::begin_unroll(extent.expr); });
  m.def("begin_if", [](ExprArg c) { T::detail::begin_if(c.expr); });
  m.def("begin_else", &T::detail::begin_else);
  m.def("begin_while", [](ExprArg c) { T::detail::begin_while(c.expr); });
  m.def("end_scope", &T::detail::end_scope);
  m.def("open_scopes", &T::detail::open_scopes);
  m.def("get_thread_binding", &T::get_thread_binding, nb::arg("dim") = 0);
  m.def("get_block_binding", &T::get_block_binding, nb::arg("dim") = 0);
  m.def("Break", &T::Break);

  // ---------------------------------------------------------------------------------------------
  // Tile operations, annotations, debugging
  m.def("copy", &T::copy);
  m.def("fill", [](const T::TileRef& dst, ExprArg v) { T::fill(dst, v.expr); });
  m.def("clear", &T::clear);
  nb::enum_<T::GemmWarpPolicy>(m, "GemmWarpPolicy")
      .value("Square", T::GemmWarpPolicy::Square).value("FullRow", T::GemmWarpPolicy::FullRow)
      .value("FullCol", T::GemmWarpPolicy::FullCol);
  m.def("gemm", [](const T::TileRef& a, const T::TileRef& b, const T::TileRef& c, bool ta, bool tb, T::GemmWarpPolicy p,
                   bool clear_accum) { T::gemm(a, b, c, T::GemmOptions{ta, tb, p, clear_accum}); });
  m.def("reduce_sum", &T::reduce_sum);
  m.def("reduce_max", &T::reduce_max);
  m.def("reduce_min", &T::reduce_min);
  m.def("reduce_abssum", &T::reduce_abssum);
  m.def("reduce_absmax", &T::reduce_absmax);
  m.def("cumsum", &T::cumsum);
  m.def("atomic_add", [](const T::TileRef& dst, ExprArg v) { T::atomic_add(dst, v.expr); });
  m.def("atomic_add_tile", [](const T::TileRef& dst, const T::Buffer& src) { T::atomic_add(dst, src); });
  nb::class_<T::Layout>(m, "Layout");
  m.def("make_layout", [](const std::vector<ExprArg>& shape, nb::callable fn) {
    return T::make_layout(exprs(shape), [&](const std::vector<T::Expr>& index) {
      std::vector<T::Expr> out;
      for (nb::handle h : fn(*nb::cast(index))) out.push_back(to_expr(h));
      return out;
    });
  });
  m.def("annotate_layout", &T::annotate_layout);
  m.def("use_swizzle", &T::use_swizzle);
  m.def("min_blocks_per_sm", &T::min_blocks_per_sm);
  m.def("persistent", &T::persistent);
  m.def("print_value", [](const std::string& msg, ExprArg v) { T::print(msg, v.expr); });
  m.def("print_buffer", [](const std::string& msg, const T::Buffer& b) { T::print(msg, b); });
  m.def("device_assert", [](ExprArg c, const std::string& msg) { T::device_assert(c.expr, msg); });

  bind_calls(m);
  bind_lang_dist(m);
  bind_dist(m);
}
