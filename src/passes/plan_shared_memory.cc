#include "passes/plan_shared_memory.h"

#include <algorithm>
#include <map>
#include <set>

#include "ir/visitor.h"
#include "ops/tile_op.h"

namespace tilescale::passes {

namespace {

// Sizes round up to 128 bytes. 2-D tiles start on 1024-byte boundaries: the 128-byte swizzle that
// TMA writes and wgmma reads is applied on address bits and repeats every 1024 bytes.
constexpr std::int64_t kAlign = 128, kTileAlign = 1024;

struct Placement {
  std::int64_t offset = 0, stage_bytes = 0, stages = 1, align = kAlign;
  int first = -1, last = -1;  // live range, in top-level statements of the kernel body
};

// Buffers that a Pipelined loop with >= 2 stages fills by T::copy, and the stage count.
struct StageFinder : ir::Visitor {
  std::map<const ir::BufferNode*, std::int64_t> stages;
  void visit(const ir::ForNode* op) override {
    if (op->for_kind == ir::ForKind::Pipelined && op->pipeline.num_stages >= 2) {
      const auto* seq = ir::as<ir::SeqNode>(op->body);
      std::vector<ir::Stmt> body = seq ? seq->stmts : std::vector<ir::Stmt>{op->body};
      for (const auto& s : body)
        if (const auto* t = ir::as<ir::TileOpNode>(s); t && ops::is_copy(*t) && t->regions[1].buffer->scope == ir::Scope::Shared &&
                                                         t->regions[0].buffer->scope == ir::Scope::Global)
          stages[t->regions[1].buffer.get()] = op->pipeline.num_stages;
    }
    Visitor::visit(op);
  }
};

struct UseFinder : ir::Visitor {
  std::set<const ir::BufferNode*> used;
  void visit(const ir::LoadNode* op) override { used.insert(op->buffer.get()), Visitor::visit(op); }
  void visit(const ir::StoreNode* op) override { used.insert(op->buffer.get()), Visitor::visit(op); }
  void visit(const ir::TileOpNode* op) override {
    for (const auto& r : op->regions) used.insert(r.buffer.get());
    Visitor::visit(op);
  }
  void visit(const ir::PrintNode* op) override {
    if (op->buffer) used.insert(op->buffer.get());
    Visitor::visit(op);
  }
};

// Refuses T::annotate_layout on a shared buffer rather than ignoring it: the code generator lays
// out shared tiles itself (row-major with the 16-byte XOR swizzle of device/tilescale/swizzle.h,
// or the 128-byte swizzle TMA writes and wgmma reads) and takes no layout from the program yet.
struct SharedLayoutRefusal : ir::Visitor {
  void visit(const ir::AnnotateNode* op) override {
    const ir::BufferNode* b = op->buffer.get();
    if (op->key != "layout" || !b || b->scope != ir::Scope::Shared) return;
    throw CompileError(detail::cat("cannot honour T::annotate_layout on shared buffer ", b->name,
                                   " for CUDA because tilescale lays out shared tiles itself (a 16-byte XOR swizzle "
                                   "against bank conflicts, or the 128-byte swizzle of TMA and wgmma) and does not "
                                   "take a layout from the program yet: remove the annotation"));
  }
};

class Placer : public ir::Mutator {
 public:
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    StageFinder stages;
    stages.visit_stmt(op->body);
    const auto* seq = ir::as<ir::SeqNode>(op->body);
    std::vector<ir::Stmt> top = seq ? seq->stmts : std::vector<ir::Stmt>{op->body};
    std::vector<const ir::BufferNode*> order;
    for (int i = 0; i < static_cast<int>(top.size()); ++i) {
      if (const auto* a = ir::as<ir::AllocNode>(top[i]); a && a->buffer->scope == ir::Scope::Shared) {
        const auto& b = *a->buffer;
        Placement p;
        p.stage_bytes = bytes(b.dtype);
        for (const auto& d : b.shape) p.stage_bytes *= *ir::as_const_int(d);
        p.stages = stages.stages.count(&b) ? stages.stages.at(&b) : 1;
        p.align = b.rank() >= 2 ? kTileAlign : kAlign;
        p.first = -1, p.last = i;  // live from its first use (a buffer never used: its Alloc alone)
        placements_[&b] = p;
        order.push_back(&b);
      }
      UseFinder uses;
      uses.visit_stmt(top[i]);
      for (const auto* b : uses.used)
        if (auto it = placements_.find(b); it != placements_.end()) {
          if (it->second.first < 0) it->second.first = i;
          it->second.last = i;
        }
    }
    for (auto& [b, p] : placements_)
      if (p.first < 0) p.first = p.last;
    // First fit, in allocation order, among buffers whose lifetimes overlap.
    std::int64_t total = 0;
    for (size_t n = 0; n < order.size(); ++n) {
      Placement& p = placements_[order[n]];
      const std::int64_t size = (p.stage_bytes * p.stages + kAlign - 1) / kAlign * kAlign;
      std::vector<std::pair<std::int64_t, std::int64_t>> busy;
      for (size_t m = 0; m < n; ++m) {
        const Placement& q = placements_[order[m]];
        if (q.first <= p.last && p.first <= q.last) busy.emplace_back(q.offset, q.offset + q.stage_bytes * q.stages);
      }
      std::sort(busy.begin(), busy.end());
      std::int64_t offset = 0;
      for (const auto& [lo, hi] : busy) {
        if (offset + size <= lo) break;
        offset = std::max(offset, (hi + p.align - 1) / p.align * p.align);
      }
      p.offset = offset;
      total = std::max(total, offset + size);
    }
    ir::Stmt body = mutate_stmt(op->body);
    body = ir::make_seq({SharedMemoryTotal{total}.encode(), body});
    return ir::make_kernel(op->grid, op->threads, op->block_vars, op->thread_var, body);
  }

  ir::Stmt mutate(const ir::AllocNode* op, const ir::Stmt& self) override {
    auto it = placements_.find(op->buffer.get());
    if (it == placements_.end()) return self;
    const Placement& p = it->second;
    return ir::make_seq({self, SharedPlacement{p.offset, p.stage_bytes, p.stages}.encode(op->buffer)});
  }

 private:
  std::map<const ir::BufferNode*, Placement> placements_;
};

}  // namespace

ir::Stmt SharedPlacement::encode(const ir::Buffer& buffer) const {
  return ir::make_annotate("shared_memory", buffer, nullptr, {{"offset", offset}, {"stage_bytes", stage_bytes}, {"stages", stages}});
}

std::optional<SharedPlacement> SharedPlacement::decode(const ir::AnnotateNode& a) {
  if (a.key != "shared_memory") return std::nullopt;
  return SharedPlacement{std::get<std::int64_t>(a.attrs.at("offset")), std::get<std::int64_t>(a.attrs.at("stage_bytes")),
                         std::get<std::int64_t>(a.attrs.at("stages"))};
}

bool SharedPlacement::overlaps(const SharedPlacement& o) const {
  return offset < o.offset + o.stage_bytes * o.stages && o.offset < offset + stage_bytes * stages;
}

ops::Aliases shared_aliases(const std::map<const ir::BufferNode*, SharedPlacement>& placements) {
  ops::Aliases out;
  for (const auto& [b, p] : placements)
    for (const auto& [other, q] : placements)
      if (p.overlaps(q)) out[b].insert(other);
  return out;
}

ir::Stmt SharedMemoryTotal::encode() const {
  return ir::make_annotate("shared_memory_total", nullptr, nullptr, {{"bytes", bytes}});
}

std::optional<SharedMemoryTotal> SharedMemoryTotal::decode(const ir::AnnotateNode& a) {
  if (a.key != "shared_memory_total") return std::nullopt;
  return SharedMemoryTotal{std::get<std::int64_t>(a.attrs.at("bytes"))};
}

ir::PrimFunc plan_shared_memory(const ir::PrimFunc& func) {
  SharedLayoutRefusal refusal;
  refusal.visit_stmt(func->body);
  Placer p;
  return ir::make_prim_func(func->name, func->params, p.mutate_stmt(func->body));
}

}  // namespace tilescale::passes
