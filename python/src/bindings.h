// What the binding files of tilescale._tilescale share: expressions from Python values (ExprArg,
// its caster) and arrays as tilescale Tensors (wrap). bindings.cc defines the expressions and the
// module; call_bindings.cc binds compiling and calling (and defines wrap), lang_dist_bindings.cc
// binds lang_dist.h, dist_bindings.cc binds dist.h.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <vector>

#include "tilescale/lang.h"
#include "tilescale/tensor.h"

namespace tilescale::python {

namespace nb = nanobind;

// A value where the language takes an expression: an Expr, an element reference, an alloc_var
// scalar, or a Python bool, int or float (weak constants, lang.h).
struct ExprArg {
  lang::Expr expr = 0;
};

// The expression a Python value stands for; TypeError (ValueError for an integer beyond 64 bits)
// for anything else.
lang::Expr to_expr(nb::handle h);
std::vector<lang::Expr> exprs(const std::vector<ExprArg>& vs);

// A DLPack / array-interface array as a Tensor borrowing its memory; `index` names it in errors.
Tensor wrap(const nb::ndarray<nb::ro>& a, std::size_t index);

void bind_calls(nb::module_& m);      // call_bindings.cc: Kernel, compile, generate_cuda
void bind_lang_dist(nb::module_& m);  // lang_dist_bindings.cc
void bind_dist(nb::module_& m);       // dist_bindings.cc

}  // namespace tilescale::python

namespace nanobind::detail {
template <>
struct type_caster<tilescale::python::ExprArg> {
  NB_TYPE_CASTER(tilescale::python::ExprArg, const_name("tilescale._tilescale.Expr | int | float | bool"))
  bool from_python(handle src, uint8_t, cleanup_list*) noexcept {
    try {
      value.expr = tilescale::python::to_expr(src);
      return true;
    } catch (...) {
      PyErr_Clear();
      return false;
    }
  }
  static handle from_cpp(const tilescale::python::ExprArg& v, rv_policy policy, cleanup_list* cleanup) noexcept {
    return make_caster<tilescale::lang::Expr>::from_cpp(v.expr, policy, cleanup);
  }
};
}  // namespace nanobind::detail
