#include "passes/lower_to_threads.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "ir/bounds.h"
#include "ir/eval.h"
#include "ops/thread_lowering.h"
#include "ops/tile_op.h"
#include "passes/check_budgets.h"
#include "passes/plan_parallel_loops.h"
#include "passes/plan_shared_memory.h"
#include "passes/simplify.h"
#include "passes/specialize_warps.h"
#include "passes/thread_ir.h"

namespace tilescale::passes {

using tilescale::detail::cat;

ir::Stmt FragmentRegisters::encode(const ir::Buffer& buffer) const { return ir::make_annotate("fragment_registers", buffer, nullptr, {}); }

std::optional<FragmentRegisters> FragmentRegisters::decode(const ir::AnnotateNode& a) {
  if (a.key != "fragment_registers") return std::nullopt;
  return FragmentRegisters{};
}

namespace {

// An op's or nest's thread-level form in its `expansion` scope, its element indices and branch
// conditions folded (the lowerings compose them from tile coordinates: `(0 / 4 * 128 + tx) * 4` is
// `tx * 4`).
ir::Stmt expansion(const std::string& of, const ir::Stmt& body) {
  struct Indices : ir::Mutator {
    using Mutator::mutate;
    std::vector<ir::Expr> folded(const std::vector<ir::Expr>& index) {
      std::vector<ir::Expr> out;
      for (const auto& e : index) out.push_back(simplify(mutate_expr(e)));
      return out;
    }
    ir::Expr mutate(const ir::LoadNode* op, const ir::Expr&) override { return ir::make_load(op->buffer, folded(op->indices)); }
    ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt&) override {
      return ir::make_store(op->buffer, folded(op->indices), mutate_expr(op->value));
    }
    ir::Stmt mutate(const ir::IfNode* op, const ir::Stmt&) override {
      return ir::make_if(simplify(mutate_expr(op->cond)), mutate_stmt(op->then_case), op->else_case ? mutate_stmt(op->else_case) : nullptr);
    }
  } indices;
  return ir::make_scoped("expansion", {{"of", of}}, indices.mutate_stmt(body));
}

class Lower : public KernelMutator, public ops::ThreadLowering {
 public:
  Lower(const ir::KernelNode& kernel, const ir::PrimFunc& func, std::int64_t* scratch_bytes)
      : KernelMutator(kernel), func_(*func), scratch_bytes_(scratch_bytes) {
    thread_range_ = {0, kernel.threads - 1};
    ranges_[kernel.thread_var.get()] = thread_range_;
    for (int d = 0; d < 3; ++d)
      if (auto g = ir::eval_int(kernel.grid[d])) ranges_[kernel.block_vars[d].get()] = {0, *g - 1};
    for (const auto& p : func->params)
      if (p.tensor) strides_[p.tensor.get()] = p.strides;
    struct Totals : ir::Visitor {
      std::int64_t bytes = 0;
      void visit(const ir::AnnotateNode* a) override {
        if (auto t = SharedMemoryTotal::decode(*a)) bytes = t->bytes;
      }
    } totals;
    totals.visit_stmt(kernel.body);
    scratch_base_ = totals.bytes;
  }
  using KernelMutator::mutate;

  // ---- ops::ThreadLowering -------------------------------------------------------------------

  void emit(const ir::Stmt& s) override { emitted_->push_back(s); }
  const ir::Var& thread_var() const override { return kernel().thread_var; }
  int threads() const override { return KernelMutator::threads(); }
  bool provably(const ir::Expr& cond) const override { return ir::provably(simplify(cond), ranges_); }
  void set_range(const ir::Var& v, std::int64_t lo, std::int64_t hi, std::int64_t multiple) override {
    ranges_[v.get()] = {lo, hi, multiple};
  }
  bool in_async_producer() const override { return async_producer_; }
  ir::Expr stride(const ir::BufferNode& b, int dim) override {
    auto it = strides_.find(&b);
    TS_ICHECK(it != strides_.end() && dim < static_cast<int>(it->second.size()), "stride ", dim, " of ", b.name, ", not a tensor parameter");
    return it->second[dim];
  }
  const ops::FragmentInfo& fragment(const ir::BufferNode& b) override {
    auto [it, fresh] = infos_.try_emplace(&b);
    if (fresh) {
      const FragmentLayoutRecord& r = layout_of(b);
      it->second = {r.layout, r.family, r.M, r.warps_m, r.warps_n, static_cast<int>(r.layout->register_count())};
    }
    return it->second;
  }
  ir::Buffer registers(const ir::BufferNode& b) override {
    auto [it, fresh] = registers_.try_emplace(&b);
    if (fresh) it->second = ir::make_buffer(b.name, {ir::make_int(fragment(b).registers)}, b.dtype, ir::Scope::Local);
    return it->second;
  }
  ir::Buffer scratch(std::int64_t offset, DataType t, std::int64_t elements) override {
    const ir::Buffer b = ir::make_buffer("ws", {ir::make_int(elements)}, t, ir::Scope::Shared);
    *scratch_bytes_ = std::max(*scratch_bytes_, (offset + elements * bytes(t) + 127) / 128 * 128);
    emit(ir::make_alloc(b));
    emit(SharedPlacement{scratch_base_ + offset, elements * bytes(t), 1}.encode(b));
    return b;
  }

  // ---- the rewrite ------------------------------------------------------------------------------

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    const ops::TileOpDef& def = ops::tile_op(op->op);
    TS_ICHECK(def.lower_to_threads, "T::", op->op, " has no lowering to threads");
    std::vector<ir::Stmt> out;
    std::vector<ir::Stmt>* outer = std::exchange(emitted_, &out);
    def.lower_to_threads(*op, *this);
    emitted_ = outer;
    // Accesses of fragments the lowering named by themselves become register accesses too.
    return expansion(op->op, ir::make_scoped("unit", {}, mutate_stmt(ir::make_seq(std::move(out)))));
  }

  ir::Stmt mutate(const ir::ScopedNode* op, const ir::Stmt& self) override {
    // The nest's element-wise T::atomic_adds are tile ops still.
    if (auto over = ParallelOver::decode(*op)) return expansion("T.Parallel", mutate_stmt(parallel(*over, op->body)));
    if (op->key == "bind") {
      // bind(var, value, min, extent): var is a value of [min, min + extent) (and of its
      // `multiple`, where the scope says).
      const auto& var = *ir::as<ir::VarNode>(op->args.at(0));
      loop_range(var, op->args.at(2), op->args.at(3));
      auto multiple = op->attrs.find("multiple");
      if (auto r = ranges_.find(&var); r != ranges_.end() && multiple != op->attrs.end()) r->second.multiple = std::get<std::int64_t>(multiple->second);
      return KernelMutator::mutate(op, self);
    }
    if (op->key == "async_copies") {
      async_producer_ = true;
      ir::Stmt out = KernelMutator::mutate(op, self);
      async_producer_ = false;
      return out;
    }
    if (auto role = WarpRole::decode(*op)) {
      const ir::Interval outer = thread_range_;
      thread_range_ = {role->first_thread, role->first_thread + role->threads - 1};
      ranges_[kernel().thread_var.get()] = thread_range_;
      ir::Stmt out = KernelMutator::mutate(op, self);
      thread_range_ = outer;
      ranges_[kernel().thread_var.get()] = thread_range_;
      return out;
    }
    return KernelMutator::mutate(op, self);
  }

  ir::Stmt mutate(const ir::ForNode* op, const ir::Stmt& self) override {
    loop_range(*op->var, op->min, op->extent);
    return KernelMutator::mutate(op, self);
  }

  ir::Stmt mutate(const ir::AllocNode* op, const ir::Stmt& self) override {
    const ir::BufferNode& b = *op->buffer;
    if (b.scope != ir::Scope::Fragment) return self;
    // check_budgets counted the fragment spread evenly; its layout may replicate elements.
    const ops::FragmentInfo& f = fragment(b);
    const std::int64_t words = (static_cast<std::int64_t>(f.registers) * bytes(b.dtype) + 3) / 4;
    if (words > kFragmentRegisterBudget)
      throw CompileError(cat("cannot allocate fragment ", b.name, " in ", func_.name, " because its layout (", f.family,
                             ") gives each thread ", f.registers, " elements, ", words, " registers, more than the ",
                             kFragmentRegisterBudget, " a fragment may take; use smaller tiles or more threads"));
    const ir::Buffer r = registers(b);
    return ir::make_seq({ir::make_alloc(r), FragmentRegisters{}.encode(r)});
  }

  // A fragment's records and hints are spent: its layout is in the register numbers now.
  ir::Stmt mutate(const ir::AnnotateNode* op, const ir::Stmt& self) override {
    return op->buffer && op->buffer->scope == ir::Scope::Fragment ? ir::make_seq({}) : self;
  }

  ir::Stmt mutate(const ir::PrintNode* op, const ir::Stmt& self) override {
    if (!op->buffer || op->buffer->scope != ir::Scope::Fragment) return KernelMutator::mutate(op, self);
    return ir::make_print(op->message, nullptr, registers(*op->buffer));
  }

  // Outside T::Parallel nests a fragment is named by its first element (a device call's operand) or,
  // replicated (every thread holds every element, row-major), element by element.
  ir::Expr mutate(const ir::LoadNode* op, const ir::Expr& self) override {
    if (op->buffer->scope != ir::Scope::Fragment) return KernelMutator::mutate(op, self);
    bool changed = false;
    return ir::make_load(registers(*op->buffer), {register_of(*op->buffer, mutate_exprs(op->indices, &changed))});
  }
  ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt& self) override {
    if (op->buffer->scope != ir::Scope::Fragment) return KernelMutator::mutate(op, self);
    bool changed = false;
    return ir::make_store(registers(*op->buffer), {register_of(*op->buffer, mutate_exprs(op->indices, &changed))}, mutate_expr(op->value));
  }

 private:
  const ir::PrimFuncNode& func_;
  std::int64_t* scratch_bytes_;
  std::int64_t scratch_base_ = 0;  // the kernel's shared memory before the scratch (shared_memory_total)
  ir::VarRanges ranges_;
  ir::Interval thread_range_;
  std::map<const ir::BufferNode*, std::vector<ir::Var>> strides_;
  std::map<const ir::BufferNode*, ops::FragmentInfo> infos_;
  std::map<const ir::BufferNode*, ir::Buffer> registers_;
  std::vector<ir::Stmt>* emitted_ = nullptr;
  bool async_producer_ = false;

  // `v` takes values of [min, min + extent).
  void loop_range(const ir::VarNode& v, const ir::Expr& min, const ir::Expr& extent) {
    const auto mn = ir::bounds_of(min, ranges_), ext = ir::bounds_of(extent, ranges_);
    if (mn && ext && ext->hi >= 1) ranges_[&v] = {mn->lo, mn->hi + ext->hi - 1};
  }

  ir::Expr register_of(const ir::BufferNode& b, const std::vector<ir::Expr>& index) {
    const bool first = std::all_of(index.begin(), index.end(), [](const ir::Expr& x) { return ir::as_const_int(x) == 0; });
    if (first) return ir::make_int(0);
    TS_ICHECK(fragment(b).family == "replicated", "fragment ", b.name, " accessed element by element outside a T::Parallel loop "
                                                  "(plan_parallel_loops refuses that)");
    return row_major(b, index);
  }

  // Element `index` of `b` as a row-major element number.
  static ir::Expr row_major(const ir::BufferNode& b, const std::vector<ir::Expr>& index) {
    ir::Expr flat = ir::make_int(0);
    for (int d = 0; d < b.rank(); ++d)
      flat = ir::make_binary(ir::BinaryOp::Add, ir::make_binary(ir::BinaryOp::Mul, flat, ir::make_cast(DataType::Int32, b.shape[d])),
                             ir::make_cast(DataType::Int32, index[d]));
    return simplify(flat);
  }

  // Fragment `b` copied row-major into `copy` (scratch shared memory): each thread stores the
  // elements its registers hold, one replica of each element.
  ir::Stmt stage(const ir::BufferNode& b, const ir::Buffer& copy) {
    const layout::Fragment& layout = *fragment(b).layout;
    const ir::Var& tx = kernel().thread_var;
    std::vector<ir::Stmt> out;
    for (std::int64_t reg = 0; reg < fragment(b).registers; ++reg) {
      const auto owned = layout.owned(tx, ir::make_int(reg));
      ir::Expr guard = owned.valid;
      if (layout.replicate() > 1) {
        std::map<const ir::VarNode*, ir::Expr> first{{layout.replica_var().get(), ir::make_int(0)}};
        for (size_t d = 0; d < layout.vars().size(); ++d) first[layout.vars()[d].get()] = owned.index[d];
        const ir::Expr writer = ir::make_binary(ir::BinaryOp::EQ, tx, simplify(ir::substitute(layout.forward_thread(), first)));
        guard = guard ? ir::make_binary(ir::BinaryOp::And, guard, writer) : writer;
      }
      const ir::Stmt store = ir::make_store(copy, {row_major(b, owned.index)}, ir::make_load(registers(b), {ir::make_int(reg)}));
      out.push_back(guard ? ir::make_if(guard, store) : store);
    }
    return ir::make_seq(std::move(out));
  }

  // A Parallel nest in its `parallel_over` scope (plan_parallel_loops, which checked it): per
  // register of its anchor, the body for the element each thread owns there (a `unit`, or an `if`
  // on the register's guard), loop variables replaced by expressions of the thread index, fragment
  // accesses by registers of the fragments' arrays.
  ir::Stmt parallel(const ParallelOver& over, const ir::Stmt& loops) {
    const ParallelNest nest(*ir::as<ir::ForNode>(loops));
    ParallelAnchor anchor;
    if (!over.anchor) {
      std::vector<std::int64_t> extents;
      for (const auto* l : nest.loops) extents.push_back(*ir::as_const_int(l->extent));
      anchor = {layout::partition(extents, over.threads, 1), "the default partition"};
    } else {
      const ir::BufferNode& b = *ir::as<ir::LoadNode>(over.anchor)->buffer;
      anchor = {fragment(b).layout, b.name};
    }
    // The (access, register) pairs whose register differs between threads.
    std::set<std::pair<std::int64_t, std::int64_t>> dynamic;
    for (size_t i = 0; i + 1 < over.dynamic.size(); i += 2) dynamic.insert({over.dynamic[i], over.dynamic[i + 1]});
    const ir::Var& tx = kernel().thread_var;
    std::vector<ir::Stmt> out;
    // Staged reads: each fragment read at elements other threads hold is copied to scratch shared
    // memory first, the reads take it from there, and the scratch is free again after a barrier.
    std::map<const ir::BufferNode*, ir::Buffer> copies;
    std::map<const void*, ir::Buffer> staged_at;
    std::vector<ir::Stmt>* outer = std::exchange(emitted_, &out);  // scratch() emits the copies' allocations
    std::int64_t offset = 0;
    for (const std::int64_t i : over.staged) {
      const FragmentAccess& a = nest.accesses.at(i);
      auto [it, fresh] = copies.try_emplace(a.buffer);
      if (fresh) {
        std::int64_t numel = 1;
        for (const auto& d : a.buffer->shape) numel *= *ir::as_const_int(d);
        it->second = scratch(offset, a.buffer->dtype, numel);
        offset = (offset + numel * bytes(a.buffer->dtype) + 15) / 16 * 16;
        out.push_back(stage(*a.buffer, it->second));
      }
      staged_at[a.node] = it->second;
    }
    emitted_ = outer;
    if (!copies.empty()) out.push_back(block_barrier());
    const std::int64_t count = anchor.layout->register_count();  // enumerates the layout: once
    for (std::int64_t reg = 0; reg < count; ++reg) {
      const auto owned = anchor.layout->owned(tx, ir::make_int(reg));
      // Each fragment access becomes a register of the fragment's array: a fixed one, or where it
      // differs between threads one computed at run time (correct, but the array leaves registers).
      const auto first = register_visits(nest, anchor, reg, threads(), tx, /*first_only=*/true);
      std::map<const void*, ir::Expr> register_at;
      for (size_t i = 0; i < nest.accesses.size(); ++i) {
        const FragmentAccess& a = nest.accesses[i];
        const auto& holder = *fragment(*a.buffer).layout;
        if (staged_at.count(a.node)) continue;
        if (!dynamic.count({static_cast<std::int64_t>(i), reg})) {
          register_at[a.node] = ir::make_int(*access_register(nest, a, holder, anchor, first));
          continue;
        }
        std::map<const ir::VarNode*, ir::Expr> sub;
        for (size_t d = 0; d < a.index.size(); ++d) sub[holder.vars()[d].get()] = ir::make_cast(DataType::Int32, a.index[d]);
        register_at[a.node] = ir::substitute(holder.forward_index()[0], sub);
      }
      // Then the loop variables become the element the thread visits in this register.
      std::map<const ir::VarNode*, ir::Expr> element;
      for (size_t k = 0; k < nest.loops.size(); ++k) element[nest.loops[k]->var.get()] = simplify(owned.index[k]);
      const ir::Stmt body = ir::substitute(ToRegisters(*this, register_at, staged_at).mutate_stmt(nest.body), element);
      out.push_back(owned.valid ? ir::make_if(owned.valid, body) : ir::make_scoped("unit", {}, body));
    }
    if (!copies.empty()) out.push_back(block_barrier());
    return ir::make_seq(std::move(out));
  }

  // A Parallel body's fragment accesses as accesses of the fragments' register arrays, or of their
  // staged copies.
  struct ToRegisters : ir::Mutator {
    Lower& lower;
    const std::map<const void*, ir::Expr>& register_at;
    const std::map<const void*, ir::Buffer>& staged_at;
    ToRegisters(Lower& l, const std::map<const void*, ir::Expr>& r, const std::map<const void*, ir::Buffer>& s)
        : lower(l), register_at(r), staged_at(s) {}
    using Mutator::mutate;
    ir::Expr mutate(const ir::LoadNode* op, const ir::Expr& self) override {
      if (auto s = staged_at.find(op); s != staged_at.end()) {
        bool changed = false;
        return ir::make_load(s->second, {row_major(*op->buffer, mutate_exprs(op->indices, &changed))});
      }
      auto it = register_at.find(op);
      // A run-time register index reads only the loop's variables (plan_parallel_loops refuses more).
      return it == register_at.end() ? Mutator::mutate(op, self) : ir::make_load(lower.registers(*op->buffer), {it->second});
    }
    ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt& self) override {
      auto it = register_at.find(op);
      if (it == register_at.end()) return Mutator::mutate(op, self);
      return ir::make_store(lower.registers(*op->buffer), {it->second}, mutate_expr(op->value));
    }
  };
};

}  // namespace

ir::PrimFunc lower_to_threads(const ir::PrimFunc& func) {
  std::int64_t scratch = 0;
  const ir::PrimFunc lowered = rewrite_kernels<Lower>(func, func, &scratch);
  if (!scratch) return lowered;
  // The scratch lies after the kernel's placed buffers.
  struct Total : ir::Mutator {
    std::int64_t scratch;
    using Mutator::mutate;
    ir::Stmt mutate(const ir::AnnotateNode* op, const ir::Stmt& self) override {
      auto t = SharedMemoryTotal::decode(*op);
      return t ? SharedMemoryTotal{t->bytes + scratch}.encode() : self;
    }
  } total;
  total.scratch = scratch;
  return ir::make_prim_func(lowered->name, lowered->params, total.mutate_stmt(lowered->body));
}

}  // namespace tilescale::passes
