#include "ops/tile_op.h"

#include <cstring>

#include "ir/equality.h"
#include "ir/printer.h"
#include "ir/widen.h"
#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/device_builtins.h"

namespace tilescale::ops {

using tilescale::detail::cat;

namespace {
void check_base_rank(const Operand& o, const char* op) {
  if (static_cast<int>(o.base.size()) != o.buffer->rank())
    throw CompileError(cat("cannot use ", o.buffer->name, " in T::", op, " because it is indexed with ", o.base.size(),
                           o.base.size() == 1 ? " index" : " indices", " but has rank ", o.buffer->rank(),
                           "; give one index per dimension"));
}
}  // namespace

ir::Region to_region(const Operand& o, const char* op) {
  check_base_rank(o, op);
  if (!o.extent.empty()) return ir::Region{o.buffer, o.base, o.extent};
  ir::Region r{o.buffer, o.base, {}};
  for (int d = 0; d < o.buffer->rank(); ++d) {
    auto base = ir::as_const_int(o.base[d]);
    r.extent.push_back(base == 0 ? o.buffer->shape[d] : ir::widening_binary(ir::BinaryOp::Sub, o.buffer->shape[d], o.base[d]));
  }
  return r;
}

ir::Region to_region_like(const Operand& o, const ir::Region& other, const char* op) {
  check_base_rank(o, op);
  if (!o.extent.empty()) return ir::Region{o.buffer, o.base, o.extent};
  // Drop the other side's leading unit extents that this side has no room for.
  std::vector<ir::Expr> ext = other.extent;
  while (static_cast<int>(ext.size()) > o.buffer->rank()) {
    if (ir::as_const_int(ext.front()) != 1)
      throw CompileError(cat("cannot infer the extent of ", o.buffer->name, " in T::", op, " from ", describe(other),
                             " because ", o.buffer->name, " has rank ", o.buffer->rank(),
                             "; pass an explicit T::region for it"));
    ext.erase(ext.begin());
  }
  while (static_cast<int>(ext.size()) < o.buffer->rank()) ext.insert(ext.begin(), ir::make_int(1));
  return ir::Region{o.buffer, o.base, ext};
}

std::int64_t RegionView::numel() const {
  std::int64_t n = 1;
  for (auto e : extent) n *= e;
  return n;
}

bool RegionView::in_tensor(const std::int64_t* index) const {
  for (int d = 0; d < rank(); ++d)
    if (index[d] >= inside[d] || index[d] < 0) return false;
  return true;
}

std::byte* RegionView::address(const std::int64_t* index) const {
  std::int64_t off = 0;
  for (int d = 0; d < rank(); ++d) off += index[d] * strides[d];
  return data + off * bytes(dtype());
}

double RegionView::load(const std::int64_t* index) const {
  return in_tensor(index) ? load_as_double(dtype(), address(index)) : 0.0;
}

void RegionView::store(const std::int64_t* index, double value) const {
  if (in_tensor(index)) store_double(dtype(), value, address(index));
}

std::int64_t RegionView::load_int(const std::int64_t* index) const {
  return in_tensor(index) ? load_as_int(dtype(), address(index)) : 0;
}

void RegionView::store_int(const std::int64_t* index, std::int64_t value) const {
  if (in_tensor(index)) tilescale::store_int(dtype(), value, address(index));
}

void for_each_index(const std::vector<std::int64_t>& extent, const std::function<void(const std::int64_t*)>& fn) {
  for (auto e : extent)
    if (e <= 0) return;
  std::vector<std::int64_t> idx(extent.size(), 0);
  if (extent.empty()) return fn(idx.data());
  while (true) {
    fn(idx.data());
    int d = static_cast<int>(extent.size()) - 1;
    while (d >= 0 && ++idx[d] == extent[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

void for_each_matching_index(const RegionView& src, const RegionView& dst,
                             const std::function<void(const std::int64_t*, const std::int64_t*)>& fn) {
  auto non_unit = [](const RegionView& v) {
    std::vector<int> dims;
    for (int d = 0; d < v.rank(); ++d)
      if (v.extent[d] != 1) dims.push_back(d);
    return dims;
  };
  const auto sd = non_unit(src), dd = non_unit(dst);
  TS_ICHECK(sd.size() == dd.size(), "regions of ", src.buffer->name, " and ", dst.buffer->name, " do not match");
  std::vector<std::int64_t> di(dst.rank(), 0);
  for_each_index(src.extent, [&](const std::int64_t* si) {
    for (size_t k = 0; k < sd.size(); ++k) di[dd[k]] = si[sd[k]];
    fn(si, di.data());
  });
}

const TileOpDef& tile_op(const std::string& name) {
  static const TileOpDef* const defs[] = {&copy_def(), &fill_def(), &gemm_def(), &reduce_def(), &cumsum_def(), &atomic_add_def()};
  for (const auto* d : defs)
    if (name == d->name) return *d;
  throw InternalError(cat("unknown tile op '", name, "'"));
}

std::vector<std::optional<std::int64_t>> const_extents(const ir::Region& r) {
  std::vector<std::optional<std::int64_t>> out;
  for (const auto& e : r.extent) out.push_back(ir::as_const_int(e));
  return out;
}

std::string describe(const ir::Region& r) { return ir::print(r); }

std::string describe_extent(const ir::Region& r) {
  std::string out = "[";
  for (size_t d = 0; d < r.extent.size(); ++d) out += (d ? ", " : "") + ir::print(r.extent[d]);
  return out + "]";
}

std::string describe_with_extent(const ir::Region& r) {
  bool whole = r.rank() == r.buffer->rank();
  for (int d = 0; whole && d < r.rank(); ++d)
    whole = ir::as_const_int(r.base[d]) == 0 && ir::structural_equal(r.extent[d], r.buffer->shape[d]);
  return whole ? cat(describe(r), " ", describe_extent(r)) : describe(r);
}

std::string user_op_name(const ir::TileOpNode& op) {
  if (op.op == "reduce") {
    auto it = op.attrs.find("kind");
    if (it != op.attrs.end() && std::holds_alternative<std::string>(it->second))
      return "T::reduce_" + std::get<std::string>(it->second);
  }
  if (op.op == "fill" && op.args.size() == 1) {
    const ir::Expr& v = op.args[0];
    const bool zero = ir::as_const_int(v) == 0 || (ir::as<ir::FloatImmNode>(v) && ir::as<ir::FloatImmNode>(v)->value == 0.0);
    if (zero) return "T::fill/T::clear";
  }
  return "T::" + op.op;
}

std::string describe(const ir::TileOpNode& op) {
  const std::string name = user_op_name(op);
  const auto& r = op.regions;
  if ((op.op == "copy" || op.op == "reduce" || op.op == "cumsum") && r.size() == 2)
    return cat(name, " from ", describe(r[0]), " to ", describe(r[1]));
  if (op.op == "gemm" && r.size() == 3)
    return cat(name, " of ", describe(r[0]), " x ", describe(r[1]), " into ", describe(r[2]));
  if (op.op == "atomic_add" && r.size() == 2) return cat(name, " from ", describe(r[1]), " into ", describe(r[0]));
  if (op.op == "atomic_add" && r.size() == 1) return cat(name, " into ", describe(r[0]));
  std::string out = name + " on ";
  for (size_t i = 0; i < r.size(); ++i) out += (i ? ", " : "") + describe(r[i]);
  return out;
}

bool same_extents(const ir::Region& a, const ir::Region& b) {
  // Compare after dropping unit extents: a [1, 64] row of a tensor matches a [64] fragment.
  auto squeeze = [](const ir::Region& r) {
    std::vector<ir::Expr> out;
    for (const auto& e : r.extent)
      if (ir::as_const_int(e) != 1) out.push_back(e);
    return out;
  };
  auto ea = squeeze(a), eb = squeeze(b);
  bool same = ea.size() == eb.size();
  for (size_t i = 0; same && i < ea.size(); ++i) {
    auto ca = ir::as_const_int(ea[i]), cb = ir::as_const_int(eb[i]);
    if (ca && cb) same = *ca == *cb;
    else same = ir::structural_equal(ea[i], eb[i]);
  }
  return same;
}

void check_same_extents(const char* op, const ir::Region& a, const ir::Region& b) {
  if (!same_extents(a, b))
    throw CompileError(cat("cannot ", op, " from ", describe_with_extent(a), " to ", describe_with_extent(b),
                           " because their extents differ; make both tiles the same shape"));
}

bool is_element_atomic_add(const ir::TileOpNode& op) {
  if (op.op != "atomic_add" || op.regions.size() != 1) return false;
  for (const auto& e : op.regions[0].extent)
    if (ir::as_const_int(e) != 1) return false;
  return true;
}

bool writes_region(const ir::TileOpNode& op, std::size_t i) {
  const int destination = tile_op(op.op).destination;
  TS_ICHECK(destination >= 0, "T::", op.op, " names no destination region");
  return static_cast<int>(i) == destination;
}

bool reads_region(const ir::TileOpNode& op, std::size_t i) { return !writes_region(op, i) || tile_op(op.op).reads_destination; }

bool is_copy(const ir::TileOpNode& op) { return tile_op(op.op).copies; }

std::set<const ir::BufferNode*> written_buffers(const ir::Stmt& s) {
  struct Writes : ir::Visitor {
    std::set<const ir::BufferNode*> buffers;
    void visit(const ir::StoreNode* op) override {
      buffers.insert(op->buffer.get());
      Visitor::visit(op);
    }
    void visit(const ir::TileOpNode* op) override {
      for (std::size_t i = 0; i < op->regions.size(); ++i)
        if (writes_region(*op, i)) buffers.insert(op->regions[i].buffer.get());
      Visitor::visit(op);
    }
    void visit(const ir::BuiltinNode* op) override {
      const DeviceBuiltin* device = find_device_builtin(op->op);
      for (std::size_t i = 0; i < op->args.size(); ++i)
        if (device ? device->operands[i] == OperandRole::MemoryWrite : builtin(op->op).is_address(*op, i))
          if (const auto* load = ir::as<ir::LoadNode>(op->args[i])) buffers.insert(load->buffer.get());
      Visitor::visit(op);
    }
  } writes;
  writes.visit_stmt(s);
  return writes.buffers;
}

}  // namespace tilescale::ops
