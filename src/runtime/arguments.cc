#include "runtime/arguments.h"

#include <cmath>
#include <ostream>
#include <string_view>

#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"

namespace tilescale {

std::string Arg::describe() const {
  switch (kind_) {
    case Kind::Tensor: return tensor_.describe();
    case Kind::Int: return above_int64_ ? detail::cat("the integer ", static_cast<std::uint64_t>(int_)) : detail::cat("the integer ", int_);
    case Kind::Float: return detail::cat("the float ", float_);
  }
  return "?";
}

}  // namespace tilescale

namespace tilescale::runtime {

using tilescale::detail::cat;

namespace {

// " for M = 5, N = 7" (by name), "" without symbolic dimensions.
std::string describe(const Bindings& bindings) {
  std::map<std::string, std::int64_t> by_name;
  for (const auto& [v, value] : bindings) by_name[v->name] = value;
  std::string out;
  for (const auto& [n, value] : by_name) out += cat(out.empty() ? " for " : ", ", n, " = ", value);
  return out;
}

}  // namespace

const std::vector<ir::Expr>& kernel_grid(const ir::PrimFuncNode& func) {
  struct Finder : ir::Visitor {
    const ir::KernelNode* kernel = nullptr;
    void visit(const ir::KernelNode* op) override { kernel = kernel ? kernel : op; }
  } finder;
  finder.visit_stmt(func.body);
  TS_ICHECK(finder.kernel, "program ", func.name, " has no T::Kernel");
  return finder.kernel->grid;
}

void check_grid(const std::string& kernel, const std::vector<ir::Expr>& grid, const Bindings& bindings) {
  for (size_t d = 0; d < grid.size(); ++d) {
    const auto extent = ir::eval_int(grid[d], bindings);
    TS_ICHECK(extent, "grid extent ", d, " of kernel ", kernel, " cannot be evaluated from the arguments' shapes");
    if (*extent >= 0) continue;
    const ir::Expr& e = ir::as<ir::CastNode>(grid[d]) ? ir::as<ir::CastNode>(grid[d])->value : grid[d];
    throw RuntimeError(cat("cannot call kernel ", kernel, " because its grid extent in dim ", "xyz"[d < 3 ? d : 2], ", ",
                           ir::print(e), ", is ", *extent, describe(bindings),
                           "; pass arguments for which every grid extent is 0 or more"));
  }
}

float float_argument(const Arg& arg) {
  return arg.kind() == Arg::Kind::Int ? static_cast<float>(arg.int_value()) : static_cast<float>(arg.float_value());
}

namespace {

// "argument 2 (B) of kernel gemm", formatted only when an error message needs it (a call checks
// every argument, and most calls are fine).
struct ArgumentName {
  std::size_t index;
  const std::string& param;
  const std::string& kernel;
};
std::ostream& operator<<(std::ostream& os, const ArgumentName& a) {
  return os << "argument " << a.index << " (" << a.param << ") of kernel " << a.kernel;
}

// RuntimeError unless `arg` is a value scalar parameter `v` can take (runtime.h, Arg).
void check_scalar(const ir::VarNode& v, const Arg& arg, const ArgumentName& where) {
  const std::string type = name(v.dtype), a_type = cat(is_float(v.dtype) ? "a " : "an ", type);
  if (arg.kind() == Arg::Kind::Tensor)
    throw RuntimeError(cat("cannot call with ", where, " because it is a tensor (", arg.tensor().describe(),
                           ") but the parameter is ", a_type, " scalar; pass a number"));
  if (is_float(v.dtype)) {
    const bool fits = arg.kind() == Arg::Kind::Int
                          ? !arg.above_int64() && std::abs(float_argument(arg)) < 0x1p63f &&
                                static_cast<std::int64_t>(float_argument(arg)) == arg.int_value()
                          : !std::isfinite(arg.float_value()) || std::isfinite(float_argument(arg));
    if (!fits)
      throw RuntimeError(cat("cannot call with ", where, " because ", arg.describe(), " is not ", a_type,
                             arg.kind() == Arg::Kind::Int ? " exactly" : " (beyond its range)",
                             "; pass a value float32 holds"));
    return;
  }
  if (arg.kind() == Arg::Kind::Float)
    throw RuntimeError(cat("cannot call with ", where, " because it is ", arg.describe(), " but the parameter is ", a_type,
                           " scalar; pass an integer (convert it explicitly if truncating is meant)"));
  if (arg.above_int64() || wrap_to(v.dtype, arg.int_value()) != arg.int_value())
    throw RuntimeError(cat("cannot call with ", where, " because ", arg.describe(), " is outside the range of ", type,
                           "; pass a value that fits or declare the parameter T::int64"));
}

}  // namespace

Bindings check_arguments(const ir::PrimFuncNode& func, const std::vector<Arg>& args, const Device& device,
                         const std::vector<bool>& written) {
  const auto& params = func.params;
  if (args.size() != params.size()) {
    std::string sig;
    for (const auto& p : params) sig += (sig.empty() ? "" : ", ") + p.name();
    throw RuntimeError(cat("cannot call kernel ", func.name, " with ", args.size(), " arguments because it takes ",
                           params.size(), " (", sig, "); pass one argument per parameter, in order"));
  }
  Bindings bound;
  std::map<const ir::VarNode*, std::pair<std::string_view, int>> bound_by;  // the parameter and dim that bound it
  for (size_t i = 0; i < params.size(); ++i) {
    const ArgumentName where{i, params[i].name(), func.name};
    if (const ir::Var& v = params[i].scalar) {
      check_scalar(*v, args[i], where);
      if (!is_float(v->dtype)) bound.emplace(v.get(), args[i].int_value());
      continue;
    }
    const auto& p = *params[i].tensor;
    if (args[i].kind() != Arg::Kind::Tensor)
      throw RuntimeError(cat("cannot call with ", where, " because it is ", args[i].describe(),
                             " but the parameter is a tensor (", name(p.dtype), ", rank ", p.rank(), "); pass a Tensor"));
    const Tensor& t = args[i].tensor();
    if (!t.defined()) throw RuntimeError(cat("cannot call with ", where, " because it is an empty Tensor handle"));
    if (t.dtype() != p.dtype)
      throw RuntimeError(cat("cannot call with ", where, " because it is ", name(t.dtype()), " but the kernel expects ",
                             name(p.dtype), "; convert the tensor or change the T::Tensor dtype"));
    if (t.rank() != p.rank())
      throw RuntimeError(cat("cannot call with ", where, " because it has rank ", t.rank(), " (", t.describe(),
                             ") but the kernel expects rank ", p.rank()));
    if (!(t.device() == device))
      throw RuntimeError(cat("cannot call with ", where, " because it lives on ", t.device().to_string(),
                             " but the kernel runs on ", device.to_string(), "; move it there first"));
    for (int d = 0; d < p.rank(); ++d) {
      const std::int64_t got = t.shape(d);
      if (i < written.size() && written[i] && got > 1 && t.strides()[d] == 0)
        throw RuntimeError(cat("cannot call with ", where, " because it has stride 0 in dim ", d, " (extent ", got,
                               "), so its elements share addresses, and the kernel writes it: which write lands would be "
                               "undefined; pass a tensor whose elements are distinct (a contiguous one)"));
      if (auto* v = ir::as<ir::VarNode>(p.shape[d])) {
        if (wrap_to(v->dtype, got) != got)
          throw RuntimeError(cat("cannot call with ", where, " because its dim ", d, " is ", got,
                                 ", which does not fit the symbolic dimension ", v->name, " of type ", name(v->dtype),
                                 "; declare it T::dynamic(\"", v->name, "\", T::int64) or split the problem"));
        auto [it, fresh] = bound.emplace(v, got);
        if (fresh) {
          bound_by[v] = {p.name, d};
        } else if (it->second != got) {
          throw RuntimeError(cat("cannot call with ", where, " because its dim ", d, " binds the symbolic dimension ",
                                 v->name, " to ", got, " but ", bound_by[v].first, " dim ", bound_by[v].second, " already bound it to ",
                                 it->second,
                                 "; pass tensors whose shapes agree"));
        }
      }
    }
  }
  // Second pass: dimensions given by expressions (constants or of symbolic dims).
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].tensor) continue;
    const auto& p = *params[i].tensor;
    const Tensor& t = args[i].tensor();
    for (int d = 0; d < p.rank(); ++d) {
      auto want = ir::eval_int(p.shape[d], bound);
      TS_ICHECK(want, "unbound dimension ", ir::print(p.shape[d]), " of ", p.name);
      if (*want < 0)  // a derived dimension that wrapped around in its type
        throw RuntimeError(cat("cannot call with argument ", i, " (", p.name, ") of kernel ", func.name, " because its dim ",
                               d, " is ", ir::print(p.shape[d]), ", which overflows ", name(p.shape[d]->dtype),
                               describe(bound), "; declare the symbolic dimensions T::int64 or split the problem"));
      if (*want != t.shape(d))
        throw RuntimeError(cat("cannot call with argument ", i, " (", p.name, ") of kernel ", func.name,
                               " because its dim ", d, " is ", t.shape(d), " but the kernel expects ",
                               ir::as_const_int(p.shape[d]) ? cat(*want) : cat(ir::print(p.shape[d]), " = ", *want),
                               " (tensor is ", t.describe(), "); pass a tensor of the declared shape"));
    }
  }
  return bound;
}

}  // namespace tilescale::runtime
