#include "passes/infer_fragment_layouts.h"

#include <map>
#include <optional>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "layout/gemm_fragments.h"
#include "ops/tile_op.h"

namespace tilescale::passes {

using tilescale::detail::cat;
using FragmentPtr = std::shared_ptr<const layout::Fragment>;

namespace {

std::vector<std::int64_t> const_shape(const ir::BufferNode& b) {
  std::vector<std::int64_t> s;
  for (const auto& d : b.shape) s.push_back(*ir::as_const_int(d));
  return s;
}

struct Assigned {
  FragmentPtr layout;
  std::string by;  // the op that decided it, for conflict messages
};

// A Parallel loop nest: its variables (outermost first) and the fragment accesses in its body.
struct ParallelNest {
  std::vector<const ir::VarNode*> vars;
  std::vector<std::pair<const ir::BufferNode*, std::vector<ir::Expr>>> accesses;
};

class Collector : public ir::Visitor {
 public:
  std::vector<const ir::BufferNode*> fragments;
  std::vector<const ir::TileOpNode*> ops;
  std::vector<ParallelNest> nests;
  int threads = 0;

 protected:
  void visit(const ir::KernelNode* op) override {
    threads = op->threads;
    Visitor::visit(op);
  }
  void visit(const ir::AllocNode* op) override {
    if (op->buffer->scope == ir::Scope::Fragment) fragments.push_back(op->buffer.get());
  }
  // A layout from T::make_layout maps an index to an address; a register buffer's layout says
  // which thread holds each element, which it cannot express, so the annotation is refused rather
  // than ignored.
  void visit(const ir::AnnotateNode* op) override {
    const ir::BufferNode* b = op->buffer.get();
    if (op->key != "layout" || !b || (b->scope != ir::Scope::Fragment && b->scope != ir::Scope::Local)) return;
    throw CompileError(cat("cannot honour T::annotate_layout on ", b->scope == ir::Scope::Fragment ? "fragment " : "local buffer ",
                           b->name, " for CUDA because its layout says which thread holds each element, which a "
                           "T::make_layout layout does not; tilescale infers register layouts from the ops that use "
                           "them (infer_fragment_layouts): remove the annotation"));
  }
  void visit(const ir::TileOpNode* op) override {
    ops.push_back(op);
    Visitor::visit(op);
  }
  void visit(const ir::ForNode* op) override {
    if (op->for_kind != ir::ForKind::Parallel || nest_) return Visitor::visit(op);
    ParallelNest nest;
    const ir::ForNode* f = op;
    while (f && f->for_kind == ir::ForKind::Parallel) {
      nest.vars.push_back(f->var.get());
      const ir::ForNode* inner = ir::as<ir::ForNode>(f->body);
      if (!inner || inner->for_kind != ir::ForKind::Parallel) break;
      f = inner;
    }
    nest_ = &nest;
    Visitor::visit(op);
    nest_ = nullptr;
    nests.push_back(std::move(nest));
  }
  void visit(const ir::LoadNode* op) override {
    record(op->buffer.get(), op->indices);
    Visitor::visit(op);
  }
  void visit(const ir::StoreNode* op) override {
    record(op->buffer.get(), op->indices);
    Visitor::visit(op);
  }

 private:
  ParallelNest* nest_ = nullptr;
  void record(const ir::BufferNode* b, const std::vector<ir::Expr>& idx) {
    if (nest_ && b->scope == ir::Scope::Fragment) nest_->accesses.emplace_back(b, idx);
  }
};

// Which loop variables an access uses, as positions in the nest; -1 for an index that is not a
// bare loop variable.
std::vector<int> access_pattern(const ParallelNest& nest, const std::vector<ir::Expr>& idx) {
  std::vector<int> out;
  for (const auto& e : idx) {
    int pos = -1;
    for (size_t k = 0; k < nest.vars.size(); ++k)
      if (ir::as<ir::VarNode>(e) == nest.vars[k]) pos = static_cast<int>(k);
    out.push_back(pos);
  }
  return out;
}

bool is_identity(const std::vector<int>& pattern, size_t depth) {
  if (pattern.size() != depth) return false;
  for (size_t k = 0; k < depth; ++k)
    if (pattern[k] != static_cast<int>(k)) return false;
  return true;
}

class Inference {
 public:
  explicit Inference(const Collector& c) : c_(c) {}

  // Each fragment's layout and where it comes from, for the code generator.
  std::map<const ir::BufferNode*, FragmentLayoutRecord> run() {
    strict();
    while (true) {
      while (propagate()) {}
      const ir::BufferNode* free = nullptr;
      for (const auto* f : c_.fragments)
        if (!layouts_.count(f)) {
          free = f;
          break;
        }
      if (!free) break;
      assign(free, default_partition(*free), "the default partition");
    }
    static const char* const kFamilies[] = {"mma_accumulator", "mma_accumulator_transposed", "mma_rows", "partition",
                                            "replicated"};
    std::map<const ir::BufferNode*, FragmentLayoutRecord> out;
    for (auto& [b, a] : layouts_) {
      const Origin& o = origin_.at(a.layout.get());
      out[b] = {a.layout, kFamilies[o.kind], o.M, o.warps_m, o.warps_n, o.arrangement};
    }
    return out;
  }

 private:
  const Collector& c_;
  std::map<const ir::BufferNode*, Assigned> layouts_;
  // How each layout was made, so related layouts (rows of an accumulator) can be derived.
  struct Origin {
    enum Kind { Accumulator, AccumulatorTransposed, Rows, Partition, Replicated } kind;
    std::int64_t M = 0;
    int warps_m = 0, warps_n = 0;
    layout::WarpRows arrangement = layout::WarpRows::Contiguous;
  };
  std::map<const layout::Fragment*, Origin> origin_;

  FragmentPtr make(Origin o, FragmentPtr f) {
    origin_[f.get()] = o;
    return f;
  }

  FragmentPtr default_partition(const ir::BufferNode& b) {
    const auto shape = const_shape(b);
    std::int64_t numel = 1;
    for (auto e : shape) numel *= e;
    // Widest vector (up to 16 bytes) that deals whole rows evenly to the threads, so a row's
    // elements sit in the same registers of every thread (row reductions and per-row values then
    // need no dynamic register indexing); failing that, the widest that divides the rows.
    std::int64_t vec = 1;
    bool found = false;
    for (std::int64_t v : {8, 4, 2, 1})
      if (v * bytes(b.dtype) <= 16 && shape.back() % (v * c_.threads) == 0) {
        vec = v, found = true;
        break;
      }
    for (std::int64_t v : {8, 4, 2})
      if (!found && v * bytes(b.dtype) <= 16 && shape.back() % v == 0 && numel % (v * c_.threads) == 0) {
        vec = v;
        break;
      }
    return make({Origin::Partition}, layout::partition(shape, c_.threads, vec));
  }

  // Returns true when it assigned something new.
  bool assign(const ir::BufferNode* b, const FragmentPtr& f, const std::string& by) {
    auto it = layouts_.find(b);
    if (it == layouts_.end()) {
      layouts_[b] = {f, by};
      return true;
    }
    if (it->second.layout->to_string() != f->to_string())
      throw CompileError(cat("cannot lay out fragment ", b->name, " for both ", it->second.by, " and ", by,
                             " because they need different layouts: ", it->second.layout->to_string(), " vs ",
                             f->to_string(), "; use a separate fragment (and a T::copy between them) for one of the ops"));
    return false;
  }

  void strict() {
    for (const auto* op : c_.ops) {
      const auto& def = ops::tile_op(op->op);
      if (!def.strict_layouts) continue;
      for (const ops::StrictLayout& l : def.strict_layouts(*op)) {
        const Origin o{l.transposed ? Origin::AccumulatorTransposed : Origin::Accumulator, l.rows, l.warps_m, l.warps_n,
                       l.arrangement};
        assign(l.buffer, make(o, l.transposed ? layout::mma_accumulator_transposed(l.rows, l.cols, l.warps_m, l.warps_n)
                                              : layout::mma_accumulator(l.rows, l.cols, l.warps_m, l.warps_n, l.arrangement)),
               l.by);
      }
    }
  }

  // The layout of per-row values of `f`'s rows (a reduction of a 2-D `f` along dim 1).
  FragmentPtr rows_of(const FragmentPtr& f, const ir::BufferNode& dst) {
    const Origin& o = origin_.at(f.get());
    if (o.kind == Origin::Accumulator)
      return make({Origin::Rows, o.M, o.warps_m, o.warps_n, o.arrangement}, layout::mma_rows(o.M, o.warps_m, o.warps_n, o.arrangement));
    return make({Origin::Replicated}, layout::replicated(const_shape(dst), c_.threads));
  }

  bool propagate() {
    bool changed = false;
    for (const auto* op : c_.ops) {
      const std::string by = cat("T::", op->op, " from ", op->regions[0].buffer->name, " to ",
                                 op->regions.size() > 1 ? op->regions[1].buffer->name : std::string("-"));
      const auto& def = ops::tile_op(op->op);
      const std::optional<ops::LayoutFlow> flow = def.layout_flow ? def.layout_flow(*op) : std::nullopt;
      if (!flow) continue;
      const auto *from = op->regions[flow->from].buffer.get(), *to = op->regions[flow->to].buffer.get();
      if (from->scope != ir::Scope::Fragment || to->scope != ir::Scope::Fragment) continue;
      if (flow->kind == ops::LayoutFlow::Kind::Same) {
        if (const_shape(*from) != const_shape(*to)) continue;
        if (layouts_.count(from) && !layouts_.count(to)) changed |= assign(to, layouts_[from].layout, by);
        if (layouts_.count(to) && !layouts_.count(from)) changed |= assign(from, layouts_[to].layout, by);
      } else if (layouts_.count(from) && !layouts_.count(to)) {
        const bool rows = flow->kind == ops::LayoutFlow::Kind::Rows;
        changed |= assign(to, rows ? rows_of(layouts_[from].layout, *to) : default_partition(*to), by);
      }
    }
    for (const auto& nest : c_.nests) changed |= propagate(nest);
    return changed;
  }

  bool propagate(const ParallelNest& nest) {
    // The anchor: a fragment with a layout that the nest indexes with exactly its variables.
    const ir::BufferNode* anchor = nullptr;
    for (const auto& [b, idx] : nest.accesses)
      if (layouts_.count(b) && is_identity(access_pattern(nest, idx), nest.vars.size())) {
        anchor = b;
        break;
      }
    if (!anchor) return false;
    const FragmentPtr& f = layouts_[anchor].layout;
    const std::string by = cat("the T::Parallel loop over ", anchor->name);
    bool changed = false;
    for (const auto& [b, idx] : nest.accesses) {
      if (layouts_.count(b)) continue;
      const auto pattern = access_pattern(nest, idx);
      if (is_identity(pattern, nest.vars.size()) && const_shape(*b) == const_shape(*anchor)) {
        changed |= assign(b, f, by);
      } else if (nest.vars.size() == 2 && pattern == std::vector<int>{0}) {
        changed |= assign(b, rows_of(f, *b), by);
      }
    }
    return changed;
  }
};

class Annotator : public ir::Mutator {
 public:
  explicit Annotator(const std::map<const ir::BufferNode*, FragmentLayoutRecord>& l) : layouts_(l) {}
  using Mutator::mutate;
  ir::Stmt mutate(const ir::AllocNode* op, const ir::Stmt& self) override {
    auto it = layouts_.find(op->buffer.get());
    if (it == layouts_.end()) return self;
    return ir::make_seq({self, it->second.encode(op->buffer)});
  }

 private:
  const std::map<const ir::BufferNode*, FragmentLayoutRecord>& layouts_;
};

}  // namespace

ir::Stmt FragmentLayoutRecord::encode(const ir::Buffer& buffer) const {
  ir::Attrs attrs{{"family", family}, {"M", M}, {"warps_m", std::int64_t(warps_m)}, {"warps_n", std::int64_t(warps_n)}};
  if (warp_rows == layout::WarpRows::M64Tiles) attrs["warp_rows"] = std::string("m64_tiles");
  return ir::make_annotate("fragment_layout", buffer, layout, std::move(attrs));
}

std::optional<FragmentLayoutRecord> FragmentLayoutRecord::decode(const ir::AnnotateNode& a) {
  if (a.key != "fragment_layout") return std::nullopt;
  const bool m64_tiles = a.attrs.count("warp_rows") > 0;
  TS_ICHECK(!m64_tiles || std::get<std::string>(a.attrs.at("warp_rows")) == "m64_tiles", "fragment_layout of ", a.buffer->name);
  return FragmentLayoutRecord{std::static_pointer_cast<const layout::Fragment>(a.layout), std::get<std::string>(a.attrs.at("family")),
                              std::get<std::int64_t>(a.attrs.at("M")), static_cast<int>(std::get<std::int64_t>(a.attrs.at("warps_m"))),
                              static_cast<int>(std::get<std::int64_t>(a.attrs.at("warps_n"))),
                              m64_tiles ? layout::WarpRows::M64Tiles : layout::WarpRows::Contiguous};
}

ir::PrimFunc infer_fragment_layouts(const ir::PrimFunc& func) {
  Collector c;
  c.visit_stmt(func->body);
  if (c.fragments.empty()) return func;
  const auto layouts = Inference(c).run();
  Annotator a(layouts);
  return ir::make_prim_func(func->name, func->params, a.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
