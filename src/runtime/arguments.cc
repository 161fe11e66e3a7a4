#include "runtime/arguments.h"

#include "ir/eval.h"
#include "ir/printer.h"

namespace tilescale::runtime {

using tilescale::detail::cat;

Bindings check_arguments(const ir::PrimFuncNode& func, const std::vector<Tensor>& args, const Device& device) {
  const auto& params = func.params;
  if (args.size() != params.size()) {
    std::string sig;
    for (const auto& p : params) sig += (sig.empty() ? "" : ", ") + p->name;
    throw RuntimeError(cat("cannot call kernel ", func.name, " with ", args.size(), " arguments because it takes ",
                           params.size(), " (", sig, "); pass one tensor per parameter, in order"));
  }
  Bindings bound;
  std::map<const ir::VarNode*, std::string> bound_by;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = *params[i];
    const Tensor& t = args[i];
    const std::string where = cat("argument ", i, " (", p.name, ") of kernel ", func.name);
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
      if (auto* v = ir::as<ir::VarNode>(p.shape[d])) {
        if (wrap_to(v->dtype, got) != got)
          throw RuntimeError(cat("cannot call with ", where, " because its dim ", d, " is ", got, ", beyond the range of ",
                                 name(v->dtype), ", the type of the symbolic dimension ", v->name, "; declare it with T::dynamic(\"",
                                 v->name, "\", T::int64)"));
        auto [it, fresh] = bound.emplace(v, got);
        if (fresh) {
          bound_by[v] = cat(p.name, " dim ", d);
        } else if (it->second != got) {
          throw RuntimeError(cat("cannot call with ", where, " because its dim ", d, " binds the symbolic dimension ",
                                 v->name, " to ", got, " but ", bound_by[v], " already bound it to ", it->second,
                                 "; pass tensors whose shapes agree"));
        }
      }
    }
  }
  // Second pass: dimensions given by expressions (constants or of symbolic dims).
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = *params[i];
    for (int d = 0; d < p.rank(); ++d) {
      auto want = ir::eval_int(p.shape[d], bound);
      TS_ICHECK(want, "unbound dimension ", ir::print(p.shape[d]), " of ", p.name);
      if (*want != args[i].shape(d))
        throw RuntimeError(cat("cannot call with argument ", i, " (", p.name, ") of kernel ", func.name,
                               " because its dim ", d, " is ", args[i].shape(d), " but the kernel expects ",
                               ir::as_const_int(p.shape[d]) ? cat(*want) : cat(ir::print(p.shape[d]), " = ", *want),
                               " (tensor is ", args[i].describe(), "); pass a tensor of the declared shape"));
    }
  }
  return bound;
}

}  // namespace tilescale::runtime
