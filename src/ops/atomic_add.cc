// atomic_add(dst, value): dst += value atomically, for one element (a scalar value; dst's extent is
// all ones) or element-wise over a tile (regions {dst, src} of the same extent).
#include "ops/cuda_lowering.h"
#include "ops/device_builtins.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_atomic_add(const Operand& dst, ir::Expr value) {
  Operand element = dst;
  if (element.extent.empty()) element.extent.assign(dst.base.size(), ir::make_int(1));
  return ir::make_tile_op("atomic_add", {to_region(element, "atomic_add")}, {ir::make_cast(dst.buffer->dtype, std::move(value))});
}

ir::Stmt make_atomic_add(const Operand& dst, const Operand& src) {
  ir::Region s = to_region(src, "atomic_add");
  return ir::make_tile_op("atomic_add", {to_region_like(dst, s, "atomic_add"), s});
}

namespace {

void verify(const ir::TileOpNode& op) {
  const ir::Region& dst = op.regions[0];
  if (dst.buffer->scope == ir::Scope::Fragment)
    throw CompileError(cat("cannot atomic_add into ", dst.buffer->name, " because it is a fragment buffer, held in "
                           "registers spread over the block's threads, which atomics cannot address; atomics target "
                           "global or shared memory: update the fragment in a T::Parallel loop, or atomic_add into a "
                           "shared or global buffer"));
  if (dst.buffer->scope != ir::Scope::Global && dst.buffer->scope != ir::Scope::Shared)
    throw CompileError(cat("cannot atomic_add into ", dst.buffer->name, " because it is a ",
                           ir::spelling(dst.buffer->scope), " buffer, private to a thread; atomics target global or "
                           "shared memory, use a plain += instead"));
  if (op.regions.size() == 2) return check_same_extents("atomic_add", op.regions[1], dst);
  // A scalar value updates one element (the CUDA lowering adds it at the region's base only).
  for (const auto& e : dst.extent)
    if (ir::as_const_int(e) != 1)
      throw CompileError(cat("cannot atomic_add a scalar into ", describe_with_extent(dst),
                             " because a scalar atomic_add updates one element; name the element (",
                             dst.buffer->name, "(i, ...)) or add a tile of the same extent"));
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>& args) {
  const RegionView& dst = r[0];
  if (r.size() == 1) {
    for_each_index(dst.extent, [&](const std::int64_t* idx) { dst.store(idx, dst.load(idx) + args[0]); });
    return;
  }
  for_each_matching_index(r[1], dst, [&](const std::int64_t* si, const std::int64_t* di) {
    dst.store(di, dst.load(di) + r[1].load(si));
  });
}

void check_atomic_type(const ir::BufferNode& b) {
  switch (b.dtype) {
    case DataType::Float32: case DataType::Float64: case DataType::Float16: case DataType::BFloat16:
    case DataType::Int32: case DataType::UInt32: case DataType::Int64: case DataType::UInt64: return;
    default:
      throw CompileError(cat("cannot atomic_add into ", b.name, " (", name(b.dtype), ") on CUDA because the GPU has no atomic add "
                             "of that type; use float32, float64, float16, bfloat16 or 32/64-bit integers"));
  }
}

// One element updated: `element` (a Load naming it) += value.
ir::Stmt atomic(const ir::Expr& element, const ir::Expr& value) { return device_call("tl.atomic_add", {element, value}); }

void lower_to_threads(const ir::TileOpNode& op, ThreadLowering& ctx) {
  using namespace cuda_lowering;
  const ir::Region& dst = op.regions[0];
  check_atomic_type(*dst.buffer);
  const DataType dt = dst.buffer->dtype;
  auto add_at = [&](const std::vector<ir::Expr>& t, const ir::Expr& value) {
    return guarded(inside(ctx, dst, t), atomic(ir::make_load(dst.buffer, region_index(dst, t)), converted(value, dt)));
  };
  if (op.regions.size() == 1) return ctx.emit(guarded(inside(ctx, dst, {}), atomic(ir::make_load(dst.buffer, dst.base), op.args[0])));
  const ir::Region& src = op.regions[1];
  if (src.buffer->scope == ir::Scope::Fragment) {
    require_whole_fragment(src, "atomic_add");
    if (ctx.fragment(*src.buffer).layout->replicate() > 1)
      throw CompileError(cat("cannot atomic_add the replicated fragment ", src.buffer->name, " on CUDA: every copy would be "
                             "added; T::copy it to shared memory first"));
    const ir::Buffer regs = ctx.registers(*src.buffer);
    return ctx.emit(registers(ctx, *src.buffer, [&](std::int64_t reg, const std::vector<ir::Expr>& t) {
      return add_at(t, ir::make_load(regs, {ir::make_int(reg)}));
    }));
  }
  ctx.emit(vectors(ctx, squeezed(const_extent(src, "atomic_add")), 1, [&](const std::vector<ir::Expr>& t) {
    const ir::Expr in = inside(ctx, src, t), value = ir::make_load(src.buffer, region_index(src, t));
    return add_at(t, or_zero(in, value));
  }));
}

}  // namespace

const TileOpDef& atomic_add_def() {
  static const TileOpDef def{.name = "atomic_add", .verify = verify, .run_cpu = run_cpu, .lower_to_threads = lower_to_threads, .destination = 0,
                             .reads_destination = true};
  return def;
}

}  // namespace tilescale::ops
