#include "passes/plan_parallel_loops.h"

#include <algorithm>
#include <map>
#include <optional>

#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"
#include "layout/gemm_fragments.h"
#include "ops/device_builtins.h"
#include "passes/simplify.h"
#include "passes/thread_ir.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

ParallelNest::ParallelNest(const ir::ForNode& outer) {
  loops.push_back(&outer);
  while (const auto* inner = ir::as<ir::ForNode>(loops.back()->body)) {
    if (inner->for_kind != ir::ForKind::Parallel) break;
    loops.push_back(inner);
  }
  body = loops.back()->body;
  struct Accesses : ir::Visitor {
    std::vector<FragmentAccess>* list;
    void visit(const ir::LoadNode* op) override {
      if (op->buffer->scope == ir::Scope::Fragment) list->push_back({op, op->buffer.get(), op->indices, false});
      Visitor::visit(op);
    }
    void visit(const ir::StoreNode* op) override {
      if (op->buffer->scope == ir::Scope::Fragment) list->push_back({op, op->buffer.get(), op->indices, true});
      Visitor::visit(op);
    }
    void visit(const ir::ForNode* op) override {
      if (op->for_kind == ir::ForKind::Parallel)
        throw CompileError("cannot lower a T::Parallel loop nested inside another T::Parallel loop's body; nest them directly");
      Visitor::visit(op);
    }
  } collect;
  collect.list = &accesses;
  collect.visit_stmt(body);
}

std::vector<RegisterVisit> register_visits(const ParallelNest& nest, const ParallelAnchor& anchor, std::int64_t reg, int threads,
                                           const ir::Var& thread_var, bool first_only) {
  const layout::Fragment::Owned owned = anchor.layout->owned(thread_var, ir::make_int(reg));
  std::vector<RegisterVisit> out;
  for (int t = 0; t < threads && !(first_only && !out.empty()); ++t) {
    const std::map<const ir::VarNode*, std::int64_t> env{{thread_var.get(), t}};
    if (owned.valid && !ir::eval_int(owned.valid, env).value_or(0)) continue;
    RegisterVisit v{t, {}};
    for (size_t k = 0; k < nest.loops.size(); ++k) v.loop_values[nest.loops[k]->var.get()] = *ir::eval_int(owned.index[k], env);
    out.push_back(std::move(v));
  }
  return out;
}

bool held_by_visitors(const FragmentAccess& a, const layout::Fragment& holder, const std::vector<RegisterVisit>& visits) {
  for (const RegisterVisit& visit : visits) {
    std::vector<std::int64_t> element;
    for (const auto& e : a.index) {
      auto v = ir::eval_int(e, visit.loop_values);
      if (!v) return false;
      element.push_back(*v);
    }
    bool owns = false;
    for (std::int64_t q = 0; q < holder.replicate() && !owns; ++q) owns = holder.map_thread(element, q) == visit.thread;
    if (!owns) return false;
  }
  return true;
}

std::optional<std::int64_t> access_register(const ParallelNest& nest, const FragmentAccess& a, const layout::Fragment& holder,
                                            const ParallelAnchor& anchor, const std::vector<RegisterVisit>& visits) {
  const auto& loops = nest.loops;
  std::optional<std::int64_t> result;
  bool dynamic = false;
  for (const RegisterVisit& visit : visits) {
    const int t = visit.thread;
    std::vector<std::int64_t> element;
    for (const auto& e : a.index) {
      auto v = ir::eval_int(e, visit.loop_values);
      if (!v)
        throw CompileError(cat("cannot lower the write of ", a.buffer->name, "[", ir::print(e), "] in a T::Parallel loop over ", anchor.name,
                               " because the index depends on more than the loop's variables; write fragments at the Parallel loop's "
                               "own index, or write a shared buffer (T::alloc_shared) and T::copy it into ", a.buffer->name));
      element.push_back(*v);
    }
    bool owns = false;
    for (std::int64_t q = 0; q < holder.replicate() && !owns; ++q) owns = holder.map_thread(element, q) == t;
    const std::int64_t got = holder.map(element)[0];
    if (owns && result && *result != got) dynamic = true;
    if (!owns) {
      // Which element the thread reads, which thread holds it, and what differs: the layouts, or
      // only the index (the same layout, read at another element than the loop's own).
      std::string at, element_text;
      for (size_t k = 0; k < loops.size(); ++k) at += cat(k ? ", " : "", loops[k]->var->name, "=", visit.loop_values.at(loops[k]->var.get()));
      for (size_t d = 0; d < element.size(); ++d) element_text += cat(d ? ", " : "", element[d]);
      const bool same_layout = holder.to_string() == anchor.layout->to_string();
      throw CompileError(cat("cannot lower the T::Parallel loop over ", anchor.name, " because at ", at, " thread ", t, " writes ",
                             a.buffer->name, "[", element_text, "], an element of fragment ", a.buffer->name, " that thread ",
                             holder.map_thread(element, 0), " holds",
                             same_layout ? cat(" (", a.buffer->name, " has the loop's layout but is written at another index than the loop's own)")
                                         : cat(" (the loop follows the layout ", anchor.layout->to_string(), ", ", a.buffer->name, " has ",
                                               holder.to_string(), ")"),
                             "; a thread writes only the fragment elements it holds: write ", a.buffer->name,
                             " at the loop's own index, or write a shared buffer (T::alloc_shared) and T::copy it into ", a.buffer->name));
    }
    result = got;
  }
  if (dynamic) return std::nullopt;
  return result.value_or(0);
}

ir::Stmt ParallelOver::encode(ir::Stmt nest) const {
  ir::Attrs attrs;
  if (!anchor) attrs["threads"] = threads;
  if (!dynamic.empty()) attrs["dynamic"] = dynamic;
  if (!staged.empty()) attrs["staged"] = staged;
  return ir::make_scoped("parallel_over", std::move(attrs), std::move(nest), anchor ? std::vector<ir::Expr>{anchor} : std::vector<ir::Expr>{});
}

std::optional<ParallelOver> ParallelOver::decode(const ir::ScopedNode& s) {
  if (s.key != "parallel_over") return std::nullopt;
  ParallelOver over;
  if (!s.args.empty()) over.anchor = s.args[0];
  if (auto it = s.attrs.find("threads"); it != s.attrs.end()) over.threads = std::get<std::int64_t>(it->second);
  if (auto it = s.attrs.find("dynamic"); it != s.attrs.end()) over.dynamic = std::get<std::vector<std::int64_t>>(it->second);
  if (auto it = s.attrs.find("staged"); it != s.attrs.end()) over.staged = std::get<std::vector<std::int64_t>>(it->second);
  return over;
}

namespace {

class Planner : public KernelMutator {
 public:
  explicit Planner(const ir::KernelNode& kernel) : KernelMutator(kernel) {}
  using KernelMutator::mutate;

  ir::Stmt mutate(const ir::ForNode* op, const ir::Stmt& self) override {
    if (op->for_kind != ir::ForKind::Parallel) return Mutator::mutate(op, self);
    const ParallelNest nest(*op);
    std::vector<std::int64_t> extents;
    for (const auto* l : nest.loops) extents.push_back(*ir::as_const_int(l->extent));
    // The anchor: a fragment indexed with exactly the loop variables; else a replicated one of the
    // nest's rank (every thread visits every element).
    const ir::BufferNode* anchor = nullptr;
    for (const auto& a : nest.accesses) {
      bool identity = a.index.size() == nest.loops.size();
      for (size_t k = 0; identity && k < nest.loops.size(); ++k) identity = ir::as<ir::VarNode>(a.index[k]) == nest.loops[k]->var.get();
      if (identity && layout_of(*a.buffer).family != "replicated") {
        anchor = a.buffer;
        break;
      }
    }
    for (const auto& a : nest.accesses)
      if (!anchor && layout_of(*a.buffer).family == "replicated" && a.index.size() == nest.loops.size()) anchor = a.buffer;
    const ParallelAnchor plan = anchor ? ParallelAnchor{layout_of(*anchor).layout, anchor->name}
                                       : ParallelAnchor{layout::partition(extents, threads(), 1), "the default partition"};
    const std::int64_t registers = plan.layout->register_count();  // enumerates the layout: once
    std::vector<std::vector<RegisterVisit>> visits;
    for (std::int64_t reg = 0; reg < registers; ++reg) visits.push_back(register_visits(nest, plan, reg, threads(), kernel().thread_var));
    // Reads of elements other threads hold come from a staged copy; every other access must land
    // in a register of the thread (access_register says why not, when one does not).
    std::vector<std::int64_t> staged;
    for (size_t i = 0; i < nest.accesses.size(); ++i) {
      const FragmentAccess& a = nest.accesses[i];
      if (a.write) continue;
      for (const auto& v : visits)
        if (!held_by_visitors(a, *layout_of(*a.buffer).layout, v)) {
          staged.push_back(static_cast<std::int64_t>(i));
          break;
        }
    }
    for (const std::int64_t i : staged)
      for (const auto& w : nest.accesses)
        if (w.write && w.buffer == nest.accesses[i].buffer)
          throw CompileError(cat("cannot lower the T::Parallel loop over ", plan.name, " because it reads fragment ", w.buffer->name,
                                 " at elements other threads hold while it writes ", w.buffer->name,
                                 ": the threads would race; write the result to another fragment"));
    std::vector<std::int64_t> dynamic;
    for (std::int64_t reg = 0; reg < registers; ++reg)
      for (size_t i = 0; i < nest.accesses.size(); ++i) {
        const FragmentAccess& a = nest.accesses[i];
        if (std::find(staged.begin(), staged.end(), static_cast<std::int64_t>(i)) != staged.end()) continue;
        if (!access_register(nest, a, *layout_of(*a.buffer).layout, plan, visits[reg]))
          dynamic.insert(dynamic.end(), {static_cast<std::int64_t>(i), reg});
      }
    return ParallelOver{anchor ? first_element(buffer_of(*anchor)) : nullptr, anchor ? 0 : threads(), dynamic, staged}.encode(self);
  }

  // Outside Parallel nests a program may name a fragment's element only where every thread holds
  // them all (replicated). A device call's operand names the fragment's registers, not an element.
  ir::Expr mutate(const ir::LoadNode* op, const ir::Expr& self) override {
    check_element_access(*op->buffer);
    return Mutator::mutate(op, self);
  }
  ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt& self) override {
    check_element_access(*op->buffer);
    return Mutator::mutate(op, self);
  }
  ir::Stmt mutate(const ir::EvaluateNode* op, const ir::Stmt& self) override {
    const auto* call = ir::as<ir::BuiltinNode>(op->value);
    return call && ops::find_device_builtin(call->op) ? self : Mutator::mutate(op, self);
  }

 private:
  void check_element_access(const ir::BufferNode& b) const {
    if (b.scope != ir::Scope::Fragment || layout_of(b).family == "replicated") return;
    throw CompileError(cat("cannot access fragment ", b.name, " element by element outside a T::Parallel loop, "
                           "because its elements are spread over the block's threads; use T::Parallel or T::copy"));
  }
};

}  // namespace

ir::PrimFunc plan_parallel_loops(const ir::PrimFunc& func) { return rewrite_kernels<Planner>(func); }

}  // namespace tilescale::passes
