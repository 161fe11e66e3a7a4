#include "ir/verifier.h"

#include <map>
#include <set>

#include "ir/equality.h"
#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"
#include "layout/layout.h"

namespace tilescale::ir {

using tilescale::detail::cat;

std::string OpChecks::name(const TileOpNode& op) const { return "T::" + op.op; }
std::string OpChecks::describe(const TileOpNode& op) const { return name(op); }
std::string OpChecks::name(const BuiltinNode& call) const { return "T::" + call.op; }

void check_rank(const BufferNode& buffer, std::size_t n, const char* what) {
  if (static_cast<int>(n) != buffer.rank())
    throw CompileError(cat("cannot index ", buffer.name, " in ", what, " with ", n, n == 1 ? " index" : " indices",
                           " because it has rank ", buffer.rank(), "; give one index per dimension"));
}

namespace {

std::string shape_list(const std::vector<Expr>& shape) {
  std::string out = "[";
  for (size_t d = 0; d < shape.size(); ++d) out += (d ? ", " : "") + print(shape[d]);
  return out + "]";
}

constexpr int kMaxThreads = 1024;  // the most threads a CUDA block may hold

class Verifier : public Visitor {
 public:
  Verifier(const PrimFuncNode& f, OpChecks& checks) : func_(f), checks_(checks) {}

  void run() {
    check_unique_param_names();
    std::set<const VarNode*> scalars;
    for (const auto& p : func_.params)
      if (p.scalar) scalars.insert(p.scalar.get());
    for (const auto& p : func_.params) {
      if (!p.tensor) continue;
      buffers_.insert(p.tensor.get());
      for (const auto& d : p.tensor->shape) for_each_expr(d, [&](const Expr& e) {
        auto* v = as<VarNode>(e);
        if (v && scalars.count(v))
          throw CompileError(cat("cannot use scalar parameter ", v->name, " in the shape of T::Tensor ", p.name(), " in ",
                                 func_.name, " because a tensor's shape comes from the tensor passed; declare the "
                                 "dimension with T::dynamic and compare it with ", v->name, " in the program"));
        if (v) vars_.insert(v);
      });
    }
    check_symbolic_dims();
    vars_.insert(scalars.begin(), scalars.end());
    for (const auto& p : func_.params)
      for (const auto& s : p.strides) vars_.insert(s.get());
    scalars_ = scalars;
    visit_stmt(func_.body);
    if (kernels_ != 1)
      throw CompileError(cat("cannot compile ", func_.name, " because it launches ", kernels_,
                             " kernels; a prim_func holds exactly one T::Kernel"));
  }

 private:
  const PrimFuncNode& func_;
  OpChecks& checks_;
  std::set<const VarNode*> vars_;
  std::set<const BufferNode*> buffers_;
  std::set<const VarNode*> scalars_;  // the scalar parameters
  int kernels_ = 0;
  bool in_kernel_ = false;
  int parallel_depth_ = 0;
  int breakable_depth_ = 0;
  const Expr* evaluated_ = nullptr;  // the value of the Evaluate statement being visited

  void check_unique_param_names() {
    std::map<std::string, size_t> first;
    for (size_t i = 0; i < func_.params.size(); ++i) {
      const Param& p = func_.params[i];
      auto [it, fresh] = first.emplace(p.name(), i);
      if (!fresh)
        throw CompileError(cat("cannot create ", p.tensor ? "T::Tensor " : "T::ScalarParam ", p.name(), " (parameter ", i,
                               ") in ", func_.name, " because parameter ", it->second, " is already named ", p.name(),
                               "; give every parameter a distinct name"));
    }
  }

  // Allocations made in a body (a loop's, a branch's, a kernel's) go out of scope at its end.
  void visit_body(const Stmt& body) {
    const auto saved = buffers_;
    visit_stmt(body);
    buffers_ = saved;
  }

  void check_symbolic_dims() {
    std::set<const VarNode*> bare;
    for (const auto& v : func_.symbolic_dims()) bare.insert(v.get());
    for (const auto* v : vars_)
      if (!bare.count(v))
        throw CompileError(cat("cannot bind the symbolic dimension ", v->name, " of ", func_.name,
                               " because it appears only inside expressions of parameter shapes; use it alone as "
                               "the dimension of some tensor"));
  }

  void visit(const VarNode* op) override {
    if (!vars_.count(op))
      throw CompileError(cat("cannot use variable ", op->name, " in ", func_.name,
                             " outside the loop or kernel that defines it"));
  }

  void check_buffer(const BufferNode* b, std::size_t n, const char* what) {
    if (!buffers_.count(b))
      throw CompileError(cat("cannot use ", spelling(b->scope), " buffer ", b->name, " in ", what,
                             " because it is not in scope here",
                             b->scope == Scope::Global ? "; create tensors with T::Tensor inside the prim_func"
                                                       : "; use it inside the T::Kernel body that allocates it"));
    check_rank(*b, n, what);
  }

  void visit(const LoadNode* op) override {
    check_buffer(op->buffer.get(), op->indices.size(), "a load");
    Visitor::visit(op);
  }

  void visit(const StoreNode* op) override {
    if (!in_kernel_)
      throw CompileError(cat("cannot store to ", op->buffer->name, " outside T::Kernel; move it into the kernel body"));
    check_buffer(op->buffer.get(), op->indices.size(), "a store");
    Visitor::visit(op);
  }

  void visit(const SeqNode* op) override {
    // Allocations made in this sequence go out of scope at its end.
    const auto saved = buffers_;
    Visitor::visit(op);
    buffers_ = saved;
  }

  void visit(const AllocNode* op) override {
    const auto& b = *op->buffer;
    if (!in_kernel_)
      throw CompileError(cat("cannot allocate ", spelling(b.scope), " buffer ", b.name,
                             " outside T::Kernel because it lives in a block's on-chip memory; allocate it inside the "
                             "kernel body"));
    if (b.scope == Scope::Global) throw InternalError(cat("Alloc of global buffer ", b.name));
    if (b.rank() == 0 && (b.scope == Scope::Shared || b.scope == Scope::Fragment))
      throw CompileError(cat("cannot allocate ", spelling(b.scope), " buffer ", b.name,
                             " with an empty shape because tiles have at least one dimension; give it a shape such as "
                             "{1}, or use T::alloc_var for a scalar"));
    for (int d = 0; d < b.rank(); ++d) {
      auto c = as_const_int(b.shape[d]);
      if (!c || *c <= 0)
        throw CompileError(cat("cannot allocate ", spelling(b.scope), " buffer ", b.name, " with extent ",
                               print(b.shape[d]), " in dim ", d,
                               " because on-chip buffers have positive constant shapes; use a constant tile size"));
    }
    buffers_.insert(&b);
  }

  void visit(const KernelNode* op) override {
    if (in_kernel_) throw CompileError(cat("cannot nest T::Kernel inside T::Kernel in ", func_.name));
    ++kernels_;
    if (op->threads <= 0)
      throw CompileError(cat("cannot launch the kernel of ", func_.name, " with threads=", op->threads,
                             " because a block has at least one thread; use 1 to ", kMaxThreads, " (a multiple of 32 "
                             "fills whole warps)"));
    if (op->threads > kMaxThreads)
      throw CompileError(cat("cannot launch the kernel of ", func_.name, " with threads=", op->threads,
                             " because a block holds at most ", kMaxThreads, " threads; use ", kMaxThreads,
                             " or fewer and give each thread more work"));
    for (size_t d = 0; d < op->grid.size(); ++d) {
      visit_expr(op->grid[d]);
      for_each_expr(op->grid[d], [&](const Expr& e) {
        auto* v = as<VarNode>(e);
        if (v && is_float(v->dtype) && scalars_.count(v))
          throw CompileError(cat("cannot launch the kernel of ", func_.name, " with grid extent ", print(op->grid[d]),
                                 " in dim ", "xyz"[d < 3 ? d : 2], " because it uses the ", name(v->dtype),
                                 " scalar parameter ", v->name, " and grids are computed from integers before the "
                                 "launch; pass an integer scalar for the grid"));
      });
      auto g = eval_int(op->grid[d]);
      if (g && *g <= 0) {
        // A grid computed from sizes has folded to a number by now: name the empty tensor dimensions
        // it most likely came from.
        std::string empty;
        for (const auto& p : func_.params)
          for (int i = 0; p.tensor && i < p.tensor->rank(); ++i)
            if (auto e = as_const_int(p.tensor->shape[i]); e && *e <= 0) empty += cat(empty.empty() ? "" : ", ", p.name(), " dim ", i);
        throw CompileError(cat("cannot launch the kernel of ", func_.name, " with grid extent ", *g, " in dim ",
                               "xyz"[d < 3 ? d : 2], " because a grid has at least one block along every dimension",
                               empty.empty() ? "; use 1 or more"
                                             : cat(", and this one is likely computed from an empty tensor dimension "
                                                   "(extent 0: ", empty, "); give every size 1 or more")));
      }
    }
    in_kernel_ = true;
    checks_.enter_kernel(*op);
    for (const auto& v : op->block_vars) vars_.insert(v.get());
    vars_.insert(op->thread_var.get());
    visit_body(op->body);
    checks_.leave_kernel(func_);
    in_kernel_ = false;
  }

  void visit(const ForNode* op) override {
    visit_expr(op->min), visit_expr(op->extent);
    if (op->for_kind == ForKind::Parallel && !as_const_int(op->extent))
      throw CompileError(cat("cannot partition T::Parallel loop ", op->var->name, " with extent ", print(op->extent),
                             " over threads because it is not a constant; use a constant tile extent and guard the "
                             "tail with T::If, or cap it by a constant: T::Parallel(T::min(", print(op->extent), ", 512))"));
    if (op->for_kind == ForKind::Parallel && *as_const_int(op->extent) <= 0)
      throw CompileError(cat("cannot partition T::Parallel loop ", op->var->name, " with extent ", print(op->extent),
                             " over threads because the extent is not positive; use a positive tile extent"));
    if (op->for_kind == ForKind::Pipelined) check_pipeline(op);
    vars_.insert(op->var.get());
    const bool parallel = op->for_kind == ForKind::Parallel;
    parallel_depth_ += parallel;
    breakable_depth_ += !parallel;
    checks_.enter(*op);
    visit_body(op->body);
    checks_.leave(*op);
    parallel_depth_ -= parallel;
    breakable_depth_ -= !parallel;
    vars_.erase(op->var.get());
  }

  void check_pipeline(const ForNode* op) {
    const auto* seq = as<SeqNode>(op->body);
    const std::size_t n = seq ? seq->stmts.size() : 1;
    for (const auto* list : {&op->pipeline.order, &op->pipeline.stage})
      if (!list->empty() && list->size() != n)
        throw CompileError(cat("cannot pipeline loop ", op->var->name, " because its order/stage lists have ",
                               list->size(), " entries for ", n, " statements in the body; give one entry per statement"));
    if (op->pipeline.num_stages < 0)
      throw CompileError(cat("cannot pipeline loop ", op->var->name, " with num_stages=", op->pipeline.num_stages,
                             "; use 0 (no pipelining) or more"));
  }

  void visit(const WhileNode* op) override {
    if (!in_kernel_) throw CompileError(cat("cannot run T::While outside T::Kernel in ", func_.name));
    visit_expr(op->cond);
    ++breakable_depth_;
    checks_.enter(*op);
    visit_body(op->body);
    checks_.leave(*op);
    --breakable_depth_;
  }

  void visit(const BreakNode*) override {
    if (breakable_depth_ == 0 || parallel_depth_ > 0)
      throw CompileError("cannot T::Break here because it is not inside a serial loop or T::While (a T::Parallel loop "
                         "cannot be left early); restructure the loop");
  }

  void visit(const TileOpNode* op) override {
    if (!in_kernel_)
      throw CompileError(cat("cannot run ", checks_.describe(*op), " outside T::Kernel because tile ops are executed by a "
                             "block; move it into the kernel body"));
    checks_.check_place(*op);
    const std::string name = checks_.name(*op);
    for (const auto& r : op->regions) {
      check_buffer(r.buffer.get(), r.base.size(), name.c_str());
      visit_region(r);
    }
    for (const auto& a : op->args) visit_expr(a);
    checks_.check(*op);
    for (const auto& r : op->regions) check_region_bounds(*op, r);
  }

  // A region of an on-chip buffer lies inside it (global regions may run past the tensor's end);
  // checked where base and extent are constants, at run time otherwise.
  void check_region_bounds(const TileOpNode& op, const Region& r) {
    if (r.buffer->scope == Scope::Global) return;
    for (int d = 0; d < r.rank(); ++d) {
      auto base = eval_int(r.base[d]), ext = eval_int(r.extent[d]), size = eval_int(r.buffer->shape[d]);
      if (!base || !ext || !size) continue;
      if (*base < 0 || *ext < 0 || *base + *ext > *size)
        throw CompileError(cat("cannot run ", checks_.describe(op), " because its region of ", r.buffer->name,
                               " spans [", *base, ", ", *base + *ext, ") in dim ", d, ", outside the buffer's extent ",
                               *size, "; tiles of ", spelling(r.buffer->scope), " buffers must lie inside the buffer"));
    }
  }

  void visit(const IfNode* op) override {
    if (!in_kernel_) throw CompileError(cat("cannot run T::If outside T::Kernel in ", func_.name));
    visit_expr(op->cond);
    checks_.enter(*op);
    visit_body(op->then_case);
    if (op->else_case) visit_body(op->else_case);
    checks_.leave(*op);
  }

  void visit(const AssertNode* op) override {
    if (!in_kernel_) throw CompileError(cat("cannot T::device_assert outside T::Kernel in ", func_.name));
    Visitor::visit(op);
  }

  void visit(const PrintNode* op) override {
    if (!in_kernel_) throw CompileError(cat("cannot T::print outside T::Kernel in ", func_.name));
    if (op->buffer) check_buffer(op->buffer.get(), op->buffer->rank(), "T::print");
    Visitor::visit(op);
  }

  void visit(const EvaluateNode* op) override {
    if (!in_kernel_)
      throw CompileError(cat("cannot call ", checks_.name(*as<BuiltinNode>(op->value)), " outside T::Kernel in ",
                             func_.name, "; call it inside the kernel body"));
    evaluated_ = &op->value;
    visit_expr(op->value);
    evaluated_ = nullptr;
  }

  void visit(const BuiltinNode* op) override {
    const bool evaluated = evaluated_ && evaluated_->get() == op;
    evaluated_ = nullptr;
    if (!in_kernel_)
      throw CompileError(cat("cannot call ", checks_.name(*op), " outside T::Kernel in ", func_.name,
                             "; call it inside the kernel body"));
    checks_.check(*op, evaluated);
    Visitor::visit(op);
  }

  // Only passes build Scoped statements: one outside the Kernel is their bug.
  void visit(const ScopedNode* op) override {
    if (!in_kernel_) throw InternalError(cat("T.", op->key, " scope outside T::Kernel in ", func_.name));
    if (op->key == "warp_role") {
      // setmaxnreg and named barriers count whole warpgroups.
      for (const char* k : {"first_thread", "threads"}) {
        auto it = op->attrs.find(k);
        const auto* v = it == op->attrs.end() ? nullptr : std::get_if<std::int64_t>(&it->second);
        if (!v || *v % 128 != 0 || (*v == 0 && std::string(k) == "threads"))
          throw InternalError(cat("T.warp_role in ", func_.name, " whose ", k, " is not a whole number of warpgroups"));
      }
    }
    if (op->key == "bind") {
      // bind(var, value, min, extent) defines var in its body.
      const auto* v = op->args.empty() ? nullptr : as<VarNode>(op->args[0]);
      if (op->args.size() != 4 || !v) throw InternalError(cat("T.bind in ", func_.name, " without (var, value, min, extent)"));
      for (size_t i = 1; i < 4; ++i) visit_expr(op->args[i]);
      vars_.insert(v);
      visit_body(op->body);
      vars_.erase(v);
      return;
    }
    for (const auto& a : op->args) visit_expr(a);
    visit_body(op->body);
  }

  void visit(const AnnotateNode* op) override {
    if (op->buffer) check_buffer(op->buffer.get(), op->buffer->rank(), "T::annotate_layout");
    if (op->key == "layout" && op->buffer && op->layout) check_layout_shape(*op->buffer, *op->layout);
  }

  void check_layout_shape(const BufferNode& b, const layout::Layout& l) {
    const auto& shape = l.input_shape();
    bool same = shape.size() == b.shape.size();
    for (size_t d = 0; same && d < shape.size(); ++d) {
      auto x = eval_int(shape[d]), y = eval_int(b.shape[d]);
      same = x && y ? *x == *y : structural_equal(shape[d], b.shape[d]);
    }
    if (!same)
      throw CompileError(cat("cannot T::annotate_layout ", spelling(b.scope), " buffer ", b.name, " ", shape_list(b.shape),
                             " with a layout over ", shape_list(shape),
                             " because the layout's shape differs from the buffer's; make the layout with the buffer's "
                             "shape"));
  }
};

}  // namespace

void verify(const PrimFunc& func, OpChecks& checks) { Verifier(*func, checks).run(); }

void verify(const PrimFunc& func) {
  OpChecks structure_only;
  verify(func, structure_only);
}

}  // namespace tilescale::ir
