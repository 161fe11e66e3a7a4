#include "ops/memory_access.h"

#include "ir/visitor.h"
#include "ops/device_builtins.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

namespace {

bool block_visible(const ir::BufferNode* b) { return b->scope == ir::Scope::Shared || b->scope == ir::Scope::Global; }

struct Collect : ir::Visitor {
  MemoryAccess a;
  int pipelines = 0;  // pipeline scopes entered below the statement asked about
  void visit(const ir::ScopedNode* op) override {
    if (op->key == "async_copies" && pipelines == 0) return;  // ordered by the pipeline that issued them
    pipelines += op->key == "pipeline";
    Visitor::visit(op);
    pipelines -= op->key == "pipeline";
  }
  void visit(const ir::LoadNode* op) override {
    if (block_visible(op->buffer.get())) a.reads.insert(op->buffer.get());
    Visitor::visit(op);
  }
  void visit(const ir::StoreNode* op) override {
    if (block_visible(op->buffer.get())) a.writes.insert(op->buffer.get());
    Visitor::visit(op);
  }
  void visit(const ir::TileOpNode* op) override {
    for (size_t i = 0; i < op->regions.size(); ++i) {
      const auto* b = op->regions[i].buffer.get();
      if (!block_visible(b)) continue;
      if (writes_region(*op, i)) a.writes.insert(b);
      if (reads_region(*op, i)) a.reads.insert(b);
    }
    Visitor::visit(op);
  }
  void visit(const ir::PrintNode* op) override {
    if (op->buffer && block_visible(op->buffer.get())) a.reads.insert(op->buffer.get());
    Visitor::visit(op);
  }
  void visit(const ir::BuiltinNode* op) override {
    const DeviceBuiltin* device = find_device_builtin(op->op);
    a.builtin |= !device;
    for (size_t i = 0; i < op->args.size(); ++i) {
      const auto* l = ir::as<ir::LoadNode>(op->args[i]);
      if (!l || !block_visible(l->buffer.get())) continue;
      if (!device || device->operands[i] == OperandRole::MemoryWrite) a.writes.insert(l->buffer.get());
      else if (device->operands[i] == OperandRole::MemoryRead) a.reads.insert(l->buffer.get());
    }
    Visitor::visit(op);
  }
};

bool intersects(const std::set<const ir::BufferNode*>& a, const std::set<const ir::BufferNode*>& b) {
  for (const auto* x : a)
    if (b.count(x)) return true;
  return false;
}

std::set<const ir::BufferNode*> with_aliases(const std::set<const ir::BufferNode*>& buffers, const Aliases& aliases) {
  std::set<const ir::BufferNode*> out = buffers;
  for (const auto* b : buffers)
    if (auto it = aliases.find(b); it != aliases.end()) out.insert(it->second.begin(), it->second.end());
  return out;
}

}  // namespace

void MemoryAccess::merge(const MemoryAccess& o) {
  reads.insert(o.reads.begin(), o.reads.end());
  writes.insert(o.writes.begin(), o.writes.end());
  builtin |= o.builtin;
}

MemoryAccess access_of(const ir::Stmt& s) {
  Collect c;
  c.visit_stmt(s);
  return c.a;
}

bool hazard(const MemoryAccess& before, const MemoryAccess& after, const Aliases& aliases) {
  if ((before.builtin && after.touches_memory()) || (after.builtin && before.touches_memory())) return true;
  const auto written = with_aliases(before.writes, aliases), read = with_aliases(before.reads, aliases);
  return intersects(written, after.reads) || intersects(written, after.writes) || intersects(read, after.writes);
}

}  // namespace tilescale::ops
