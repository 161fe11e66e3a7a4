// What the front end's other files (dist.cc) need of the statement builder in builder.cc.
#pragma once

#include "ir/IR.h"
#include "tilescale/lang.h"

namespace tilescale::lang::detail {

// Appends `s` to the innermost open scope; CompileError naming T::`what` outside a prim_func.
void emit_statement(const char* what, ir::Stmt s);
// CompileError naming T::`what` unless called inside a T::Kernel body.
void require_kernel(const char* what);
// `value` as a `t`: constants re-typed, other expressions cast.
ir::Expr value_as(const Expr& value, DataType t);
// `e` as a condition (non-zero is true).
ir::Expr condition(const Expr& e);

}  // namespace tilescale::lang::detail
