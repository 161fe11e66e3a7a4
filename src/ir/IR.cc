#include "ir/IR.h"

#include <set>

namespace tilescale::ir {

const char* spelling(BinaryOp op) {
  switch (op) {
#define TS_X(o, text) \
  case BinaryOp::o: return text;
    TS_BINARY_OPS(TS_X)
#undef TS_X
  }
  return "?";
}
bool is_comparison(BinaryOp op) { return op >= BinaryOp::EQ && op <= BinaryOp::GE; }
bool is_logical(BinaryOp op) { return op == BinaryOp::And || op == BinaryOp::Or; }
bool is_bitwise(BinaryOp op) { return op >= BinaryOp::BitAnd; }

const char* spelling(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "-";
    case UnaryOp::Not: return "!";
    case UnaryOp::BitNot: return "~";
  }
  return "?";
}

const char* spelling(Intrinsic op) {
  switch (op) {
#define TS_X(o, text, n) \
  case Intrinsic::o: return text;
    TS_INTRINSICS(TS_X)
#undef TS_X
  }
  return "?";
}
int arity(Intrinsic op) {
  switch (op) {
#define TS_X(o, text, n) \
  case Intrinsic::o: return n;
    TS_INTRINSICS(TS_X)
#undef TS_X
  }
  return 0;
}

const char* spelling(Scope s) {
  switch (s) {
    case Scope::Global: return "global";
    case Scope::Shared: return "shared";
    case Scope::Fragment: return "fragment";
    case Scope::Local: return "local";
    case Scope::Var: return "var";
  }
  return "?";
}

const char* spelling(ForKind k) {
  switch (k) {
    case ForKind::Serial: return "serial";
    case ForKind::Parallel: return "Parallel";
    case ForKind::Pipelined: return "Pipelined";
    case ForKind::Unrolled: return "unroll";
    case ForKind::Rolled: return "rolled";
  }
  return "?";
}

Expr make_int(std::int64_t v, DataType t) {
  TS_ICHECK(is_integer(t) || is_bool(t), "integer immediate of type ", name(t));
  return std::make_shared<IntImmNode>(t, wrap_to(t, v));
}

Expr make_float(double v, DataType t) {
  TS_ICHECK(is_float(t), "float immediate of type ", name(t));
  return std::make_shared<FloatImmNode>(t, v);
}

Var make_var(std::string name, DataType t) { return std::make_shared<VarNode>(t, std::move(name)); }

Expr make_binary(BinaryOp op, Expr a, Expr b) {
  TS_ICHECK(a && b, "null operand of ", spelling(op));
  TS_ICHECK(a->dtype == b->dtype, "operands of ", spelling(op), " have types ", name(a->dtype), " and ", name(b->dtype));
  if (is_logical(op)) TS_ICHECK(is_bool(a->dtype), "operands of ", spelling(op), " must be bool");
  if (is_bitwise(op)) TS_ICHECK(!is_float(a->dtype), "bitwise ", spelling(op), " on ", name(a->dtype));
  const DataType result = is_comparison(op) || is_logical(op) ? DataType::Bool : a->dtype;
  return std::make_shared<BinaryNode>(result, op, std::move(a), std::move(b));
}

Expr make_unary(UnaryOp op, Expr a) {
  TS_ICHECK(a, "null operand");
  if (op == UnaryOp::Not) TS_ICHECK(is_bool(a->dtype), "! of ", name(a->dtype));
  if (op == UnaryOp::BitNot) TS_ICHECK(is_integer(a->dtype), "~ of ", name(a->dtype));
  const DataType t = a->dtype;
  return std::make_shared<UnaryNode>(t, op, std::move(a));
}

Expr make_cast(DataType t, Expr v) {
  TS_ICHECK(v, "null cast operand");
  if (v->dtype == t) return v;
  return std::make_shared<CastNode>(t, std::move(v));
}

Expr make_call(Intrinsic op, std::vector<Expr> args) {
  TS_ICHECK(static_cast<int>(args.size()) == arity(op), spelling(op), " takes ", arity(op), " arguments");
  for (const auto& a : args) TS_ICHECK(a && a->dtype == args[0]->dtype, "arguments of ", spelling(op), " differ in type");
  const DataType t = args[0]->dtype;
  TS_ICHECK(is_float(t) || op == Intrinsic::Abs, spelling(op), " of ", name(t));
  return std::make_shared<CallNode>(t, op, std::move(args));
}

Expr make_load(Buffer b, std::vector<Expr> indices) {
  TS_ICHECK(b, "load from a null buffer");
  for (const auto& i : indices) TS_ICHECK(i && is_integer(i->dtype), "non-integer index into ", b->name);
  return std::make_shared<LoadNode>(std::move(b), std::move(indices));
}

Expr make_select(Expr cond, Expr t, Expr f) {
  TS_ICHECK(cond && is_bool(cond->dtype), "select condition must be bool");
  TS_ICHECK(t && f && t->dtype == f->dtype, "select branches differ in type");
  return std::make_shared<SelectNode>(std::move(cond), std::move(t), std::move(f));
}

Expr make_builtin(DataType t, std::string op, std::vector<Expr> args, Attrs attrs, std::vector<TemplateArg> targs) {
  for (const auto& a : args) TS_ICHECK(a, "null argument of builtin ", op);
  return std::make_shared<BuiltinNode>(t, std::move(op), std::move(args), std::move(attrs), std::move(targs));
}

std::int64_t BuiltinNode::int_attr(const std::string& key) const {
  auto it = attrs.find(key);
  TS_ICHECK(it != attrs.end() && std::holds_alternative<std::int64_t>(it->second), "builtin ", op, " has no integer attribute ", key);
  return std::get<std::int64_t>(it->second);
}

const std::string& BuiltinNode::str_attr(const std::string& key) const {
  auto it = attrs.find(key);
  TS_ICHECK(it != attrs.end() && std::holds_alternative<std::string>(it->second), "builtin ", op, " has no string attribute ", key);
  return std::get<std::string>(it->second);
}

Buffer make_buffer(std::string name, std::vector<Expr> shape, DataType t, Scope s) {
  for (const auto& d : shape) TS_ICHECK(d && is_integer(d->dtype), "non-integer extent in the shape of ", name);
  return std::make_shared<BufferNode>(std::move(name), std::move(shape), t, s);
}

std::optional<std::int64_t> as_const_int(const Expr& e) {
  if (auto* i = as<IntImmNode>(e)) return i->value;
  return std::nullopt;
}

bool has_builtin(const Expr& e) {
  if (!e) return false;
  switch (e->kind) {
    case ExprKind::Builtin: return true;
    case ExprKind::Binary: return has_builtin(as<BinaryNode>(e)->a) || has_builtin(as<BinaryNode>(e)->b);
    case ExprKind::Unary: return has_builtin(as<UnaryNode>(e)->a);
    case ExprKind::Cast: return has_builtin(as<CastNode>(e)->value);
    case ExprKind::Call:
      for (const auto& a : as<CallNode>(e)->args)
        if (has_builtin(a)) return true;
      return false;
    case ExprKind::Load:
      for (const auto& i : as<LoadNode>(e)->indices)
        if (has_builtin(i)) return true;
      return false;
    case ExprKind::Select: {
      const auto* s = as<SelectNode>(e);
      return has_builtin(s->cond) || has_builtin(s->true_value) || has_builtin(s->false_value);
    }
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var: return false;
  }
  return false;
}

Region full_region(const Buffer& b) {
  Region r{b, {}, b->shape};
  r.base.assign(b->shape.size(), make_int(0));
  return r;
}

Stmt make_seq(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (auto& s : stmts) {
    TS_ICHECK(s, "null statement in a sequence");
    if (auto* seq = as<SeqNode>(s)) flat.insert(flat.end(), seq->stmts.begin(), seq->stmts.end());
    else flat.push_back(std::move(s));
  }
  if (flat.size() == 1) return flat[0];
  return std::make_shared<SeqNode>(std::move(flat));
}

Stmt make_for(Var v, Expr min, Expr extent, ForKind k, Stmt body, PipelineInfo p) {
  TS_ICHECK(v && min && extent && body, "incomplete loop");
  TS_ICHECK(min->dtype == v->dtype && extent->dtype == v->dtype, "loop bounds differ in type from the loop variable ", v->name);
  return std::make_shared<ForNode>(std::move(v), std::move(min), std::move(extent), k, std::move(p), std::move(body));
}

Stmt make_if(Expr cond, Stmt then_case, Stmt else_case) {
  TS_ICHECK(cond && is_bool(cond->dtype) && then_case, "malformed if");
  return std::make_shared<IfNode>(std::move(cond), std::move(then_case), std::move(else_case));
}

Stmt make_while(Expr cond, Stmt body) {
  TS_ICHECK(cond && is_bool(cond->dtype) && body, "malformed while");
  return std::make_shared<WhileNode>(std::move(cond), std::move(body));
}

Stmt make_break() { return std::make_shared<BreakNode>(); }

Stmt make_store(Buffer b, std::vector<Expr> indices, Expr value) {
  TS_ICHECK(b && value, "malformed store");
  TS_ICHECK(value->dtype == b->dtype, "store of ", name(value->dtype), " into ", name(b->dtype), " buffer ", b->name);
  for (const auto& i : indices) TS_ICHECK(i && is_integer(i->dtype), "non-integer index into ", b->name);
  return std::make_shared<StoreNode>(std::move(b), std::move(indices), std::move(value));
}

Stmt make_alloc(Buffer b) {
  TS_ICHECK(b, "null allocation");
  return std::make_shared<AllocNode>(std::move(b));
}

Stmt make_kernel(std::vector<Expr> grid, int threads, std::vector<Var> block_vars, Var thread_var, Stmt body) {
  TS_ICHECK(grid.size() == 3 && block_vars.size() == 3 && thread_var && body, "malformed kernel");
  return std::make_shared<KernelNode>(std::move(grid), threads, std::move(block_vars), std::move(thread_var), std::move(body));
}

Stmt make_tile_op(std::string op, std::vector<Region> regions, std::vector<Expr> args, Attrs attrs) {
  for (const auto& r : regions) {
    TS_ICHECK(r.buffer, "tile op ", op, " has a null operand");
    TS_ICHECK(r.base.size() == r.extent.size(), "region of ", r.buffer->name, " in ", op, " has base and extent of different ranks");
  }
  return std::make_shared<TileOpNode>(std::move(op), std::move(regions), std::move(args), std::move(attrs));
}

std::int64_t TileOpNode::int_attr(const std::string& key) const {
  auto it = attrs.find(key);
  TS_ICHECK(it != attrs.end() && std::holds_alternative<std::int64_t>(it->second), "tile op ", op, " has no integer attribute ", key);
  return std::get<std::int64_t>(it->second);
}

Stmt make_assert(Expr cond, std::string message) {
  TS_ICHECK(cond && is_bool(cond->dtype), "assert condition must be bool");
  return std::make_shared<AssertNode>(std::move(cond), std::move(message));
}

Stmt make_print(std::string message, Expr value, Buffer buffer) {
  return std::make_shared<PrintNode>(std::move(message), std::move(value), std::move(buffer));
}

Stmt make_annotate(std::string key, Buffer b, std::shared_ptr<const layout::Layout> l, Attrs attrs) {
  return std::make_shared<AnnotateNode>(std::move(key), std::move(b), std::move(l), std::move(attrs));
}

Stmt make_evaluate(Expr value) {
  TS_ICHECK(value && value->kind == ExprKind::Builtin, "Evaluate of a value that is not a builtin call");
  return std::make_shared<EvaluateNode>(std::move(value));
}

Stmt make_scoped(std::string key, Attrs attrs, Stmt body, std::vector<Expr> args) {
  TS_ICHECK(!key.empty() && body, "malformed scoped statement");
  for (const auto& a : args) TS_ICHECK(a, "scoped statement ", key, " with a null argument");
  return std::make_shared<ScopedNode>(std::move(key), std::move(args), std::move(attrs), std::move(body));
}

bool is_scalar_param_type(DataType t) { return t == DataType::Int32 || t == DataType::Int64 || t == DataType::Float32; }

PrimFunc make_prim_func(std::string name, std::vector<Param> params, Stmt body) {
  TS_ICHECK(body, "function ", name, " has no body");
  for (const auto& p : params) {
    TS_ICHECK(!p.tensor != !p.scalar, "parameter of ", name, " is neither a tensor nor a scalar, or both");
    TS_ICHECK(!p.tensor || p.tensor->scope == Scope::Global, "tensor parameter ", p.name(), " of ", name, " is not global");
    TS_ICHECK(!p.scalar || is_scalar_param_type(p.scalar->dtype), "scalar parameter ", p.name(), " of ", name, " is ",
              tilescale::name(p.scalar->dtype));
  }
  return std::make_shared<PrimFuncNode>(std::move(name), std::move(params), std::move(body));
}

Param::Param(Buffer t) : tensor(std::move(t)) {
  for (int d = 0; d + 1 < tensor->rank(); ++d) strides.push_back(make_var(tensor->name + "_stride" + std::to_string(d), DataType::Int64));
}

std::vector<Var> PrimFuncNode::symbolic_dims() const {
  std::vector<Var> out;
  std::set<const VarNode*> seen;
  for (const auto& p : params) {
    if (!p.tensor) continue;
    for (const auto& d : p.tensor->shape)
      if (auto* v = as<VarNode>(d); v && seen.insert(v).second) out.push_back(std::static_pointer_cast<const VarNode>(d));
  }
  return out;
}

}  // namespace tilescale::ir
