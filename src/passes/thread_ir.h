// Builders for the thread-level IR that passes write (device calls, their operands, index
// arithmetic), so each expansion reads as the code it produces.
#pragma once

#include <utility>
#include <vector>

#include "ir/IR.h"

namespace tilescale::passes {

inline ir::Expr num(std::int64_t v) { return ir::make_int(v); }
inline ir::Expr op(ir::BinaryOp o, ir::Expr a, ir::Expr b) { return ir::make_binary(o, std::move(a), std::move(b)); }

// A device call statement (ops/device_builtins.h).
inline ir::Stmt call(const char* name, std::vector<ir::Expr> operands = {}, std::vector<ir::TemplateArg> targs = {}, ir::Attrs attrs = {}) {
  return ir::make_evaluate(ir::make_builtin(DataType::Int32, name, std::move(operands), std::move(attrs), std::move(targs)));
}
// A buffer as a device call's memory or register operand: a Load of its first element.
inline ir::Expr first_element(const ir::Buffer& b) { return ir::make_load(b, std::vector<ir::Expr>(b->rank(), num(0))); }
// The block's barrier (in a warp role, the role's).
inline ir::Stmt block_barrier() { return call("tl.syncthreads"); }

}  // namespace tilescale::passes
