// copy(src, dst): element-wise copy of a tile with conversion to dst's dtype.
#include <algorithm>
#include <array>
#include <iterator>
#include <optional>

#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/copy.h"
#include "ops/cuda_lowering.h"
#include "ops/device_builtins.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

ir::Stmt make_copy(const Operand& src, const Operand& dst) {
  // The side written as a whole buffer or region gives its extent to the other.
  if (!src.extent.empty()) {
    ir::Region s = to_region(src, "copy");
    return ir::make_tile_op("copy", {s, to_region_like(dst, s, "copy")});
  }
  if (!dst.extent.empty()) {
    ir::Region d = to_region(dst, "copy");
    return ir::make_tile_op("copy", {to_region_like(src, d, "copy"), d});
  }
  throw CompileError(cat("cannot infer the tile extent of T::copy from ", src.buffer->name, " to ", dst.buffer->name,
                         " because both are element references; pass a whole buffer or a T::region for one of them"));
}

namespace {

void verify(const ir::TileOpNode& op) {
  check_same_extents("copy", op.regions[0], op.regions[1]);
}

void run_cpu(const ir::TileOpNode&, const std::vector<RegionView>& r, const std::vector<double>&) {
  // Integers move exactly (through double, 64-bit values beyond 2^53 would lose their low bits).
  if (!is_float(r[0].dtype()) && !is_float(r[1].dtype()))
    return for_each_matching_index(r[0], r[1], [&](const std::int64_t* si, const std::int64_t* di) { r[1].store_int(di, r[0].load_int(si)); });
  for_each_matching_index(r[0], r[1], [&](const std::int64_t* si, const std::int64_t* di) { r[1].store(di, r[0].load(si)); });
}

using namespace cuda_lowering;

// Vector width (elements) for a memory-to-memory copy: 16 bytes when the tile's last dimension is
// both sides' last dimension and divides evenly, narrower otherwise.
std::int64_t vector_width(const ir::Region& src, const ir::Region& dst, const std::vector<std::int64_t>& tile) {
  if (src.buffer->dtype != dst.buffer->dtype || tile.empty()) return 1;
  for (const auto* r : {&src, &dst})
    if (ir::as_const_int(r->extent.back()).value_or(1) != tile.back()) return 1;
  for (std::int64_t v = 16 / bytes(src.buffer->dtype); v > 1; v /= 2)
    if (tile.back() % v == 0) return v;
  return 1;
}

// Runtime condition for the vector path on a global side: the tensor's rows, the tile's start and
// every stride are multiples of the vector (the base pointer's 16-byte alignment is checked at
// launch). Null when nothing needs checking.
ir::Expr vector_ok(ThreadLowering& ctx, const ir::Region& r, std::int64_t vec) {
  if (r.buffer->scope != ir::Scope::Global) return nullptr;
  auto multiple = [&](const ir::Expr& e) {  // in e's own type: a 64-bit extent or base is not cut to 32 bits
    return ir::make_binary(ir::BinaryOp::EQ, ir::make_binary(ir::BinaryOp::Mod, e, ir::make_int(vec, e->dtype)), ir::make_int(0, e->dtype));
  };
  std::vector<ir::Expr> conds{multiple(r.buffer->shape.back()), multiple(r.base.back())};
  std::vector<ir::Expr> kept;
  for (const auto& e : conds)
    if (!ir::eval_int(e).value_or(0)) kept.push_back(e);
  return all_of(kept);
}

// A predicate operand: `in`, or true when it is null (nothing to check).
ir::Expr always(const ir::Expr& in) { return in ? in : ir::make_int(1, DataType::Bool); }

// The run-time condition for vectors over the global sides of a copy: vector_ok, and every stride a
// multiple of the vector; null when nothing needs checking.
ir::Expr vectors_ok(ThreadLowering& ctx, const std::vector<const ir::Region*>& sides, std::int64_t vec) {
  std::vector<ir::Expr> conds;
  for (const auto* r : sides)
    if (ir::Expr e = vector_ok(ctx, *r, vec)) conds.push_back(e);
  for (const auto* r : sides)
    if (r->buffer->scope == ir::Scope::Global)
      for (int d = 0; d + 1 < r->rank(); ++d)
        conds.push_back(ir::make_binary(ir::BinaryOp::EQ, ir::make_binary(ir::BinaryOp::Mod, ctx.stride(*r->buffer, d), ir::make_int(vec, DataType::Int64)),
                                        ir::make_int(0, DataType::Int64)));
  return all_of(conds);
}

ir::Stmt memory_to_memory(const ir::TileOpNode& op, const CopyPlan& plan, ThreadLowering& ctx) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const auto tile = squeezed(const_extent(src, "copy"));
  const DataType dt = dst.buffer->dtype;
  const std::int64_t vec = plan.vector;
  const bool async = plan.path == CopyPath::CpAsync;
  auto scalars = [&](bool compact) {
    return vectors(ctx, tile, 1, [&](const std::vector<ir::Expr>& t) {
      const ir::Expr value = converted(ir::make_load(src.buffer, region_index(src, t)), dt);
      return guarded(inside(ctx, dst, t), ir::make_store(dst.buffer, region_index(dst, t), or_zero(inside(ctx, src, t), value)));
    }, compact);
  };
  if (vec == 1) return scalars(false);
  const std::int64_t vbytes = vec * bytes(src.buffer->dtype);
  std::vector<ir::Stmt> out;
  const ir::Stmt by_vectors = vectors(ctx, tile, vec, [&](const std::vector<ir::Expr>& t) {
    const ir::Expr from = ir::make_load(src.buffer, region_index(src, t)), to = ir::make_load(dst.buffer, region_index(dst, t));
    const ir::Expr in_src = inside(ctx, src, t, vec), in_dst = inside(ctx, dst, t, vec);
    // Out-of-tensor vectors are zero-filled (src-size 0); the address given stays a valid one.
    if (async && in_src) return device_call("tl.cp_async_zfill", {to, from, in_src, first_element(src.buffer)}, {vbytes});
    if (async) return device_call("tl.cp_async", {to, from, always(nullptr)}, {vbytes});
    return guarded(in_dst, device_call("tl.copy_vector", {to, from, always(in_src)}, {vbytes}));
  });
  if (ir::Expr ok = vectors_ok(ctx, {&src, &dst}, vec)) {
    // The scalar fallback (strides that are not multiples of the vector) is the cold path: kept
    // rolled, ptxas neither unrolls it nor if-converts it into straight-line predicated code, whose
    // predicated-off instructions would still take issue slots in every iteration of a main loop
    // (gemm 256x128x32, 8 warps: 628 instructions per 64 mma instead of 213).
    out.push_back(ir::make_if(ok, by_vectors, scalars(true)));
  } else {
    out.push_back(by_vectors);
  }
  if (async && !ctx.in_async_producer()) {
    out.push_back(device_call("tl.cp_async_commit"));
    out.push_back(device_call("tl.cp_async_wait", {}, {std::int64_t{0}}));
  }
  return ir::make_seq(std::move(out));
}

// The widest v (at most 16 bytes of `mem_type`) such that in every thread registers [r, r + v)
// of the fragment, r a multiple of v, hold v consecutive elements of the last dimension starting
// at a multiple of v: then they move as one vector. Checked by enumerating threads and registers.
std::int64_t register_vector(const layout::Fragment& f, std::int64_t registers, int threads, const ir::BufferNode& frag, DataType mem_type) {
  if (f.replicate() > 1 || frag.rank() == 0) return 1;
  ir::Var t = ir::make_var("t"), r = ir::make_var("r");
  const auto owned = f.owned(t, r);
  const int last = frag.rank() - 1;
  for (std::int64_t v = 16 / bytes(mem_type); v > 1; v /= 2) {
    if (registers % v != 0) continue;
    bool ok = true;
    for (std::int64_t thread = 0; ok && thread < threads; ++thread)
      for (std::int64_t reg = 0; ok && reg < registers; ++reg) {
        const std::map<const ir::VarNode*, std::int64_t> env{{t.get(), thread}, {r.get(), reg}},
            base_env{{t.get(), thread}, {r.get(), reg - reg % v}};
        if (owned.valid && ir::eval_int(owned.valid, env) != ir::eval_int(owned.valid, base_env)) ok = false;
        for (int d = 0; ok && d <= last; ++d) {
          const auto here = ir::eval_int(owned.index[d], env), base = ir::eval_int(owned.index[d], base_env);
          ok = here && base && *here == *base + (d == last ? reg % v : 0) && (d != last || *base % v == 0);
        }
      }
    if (ok) return v;
  }
  return 1;
}

// How many registers at a time a fragment <-> memory copy can move (1: element by element): the
// memory side's last dimension must be the fragment's, in global or shared memory.
std::int64_t fragment_copy_vector(const layout::Fragment& f, std::int64_t registers, int threads, const ir::Region& frag, const ir::Region& mem) {
  if (mem.buffer->scope != ir::Scope::Global && mem.buffer->scope != ir::Scope::Shared) return 1;
  const auto frag_last = ir::as_const_int(frag.buffer->shape.back());
  if (ir::as_const_int(mem.extent.back()) != frag_last || frag_last.value_or(1) == 1) return 1;
  return register_vector(f, registers, threads, *frag.buffer, mem.buffer->dtype);
}

// Whether a fragment -> shared copy can go by stmatrix.x4 (sm_90, 16-bit elements in memory):
// every 8 registers g..g+7 of each thread hold four 8x8 matrices in the mma accumulator's lane
// order (lane l: row l / 4, columns 2 (l % 4) and the next), matrix i (registers g + 2i, g + 2i + 1)
// lying 8 (i % 2) rows and 8 (i / 2) columns from an origin that all 32 lanes of the warp share
// and that starts a 16-byte chunk of the tile's row (whose rows are whole chunks). Checked by
// enumerating threads and registers.
bool stmatrix_fits(const layout::Fragment& f, std::int64_t registers, int threads, int sm, const ir::Region& frag, const ir::Region& mem) {
  if (sm < 90 || mem.buffer->scope != ir::Scope::Shared || bytes(mem.buffer->dtype) != 2 || frag.buffer->rank() != 2 ||
      mem.rank() != 2 || threads % 32)
    return false;
  const auto col0 = ir::as_const_int(mem.base[1]), mem_cols = ir::as_const_int(mem.buffer->shape[1]);
  if (!mem_cols || *mem_cols % 8) return false;  // each row of 8 elements must be an aligned 16-byte chunk
  const auto rows = ir::as_const_int(frag.buffer->shape[0]), cols = ir::as_const_int(frag.buffer->shape[1]);
  if (f.replicate() > 1 || registers % 8 || !col0 || *col0 % 8 || !rows || *rows == 1 || !cols || *cols == 1) return false;
  ir::Var t = ir::make_var("t"), r = ir::make_var("r");
  const auto owned = f.owned(t, r);
  auto at = [&](std::int64_t thread, std::int64_t reg) {
    const std::map<const ir::VarNode*, std::int64_t> env{{t.get(), thread}, {r.get(), reg}};
    return std::array<std::optional<std::int64_t>, 3>{ir::eval_int(owned.index[0], env), ir::eval_int(owned.index[1], env),
                                                        owned.valid ? ir::eval_int(owned.valid, env) : std::optional<std::int64_t>(1)};
  };
  for (std::int64_t thread = 0; thread < threads; ++thread)
    for (std::int64_t reg = 0; reg < registers; ++reg) {
      const std::int64_t lane = thread % 32, i = reg % 8 / 2;
      const auto here = at(thread, reg), origin = at(thread - lane, reg - reg % 8);
      if (!here[0] || !here[1] || here[2] != 1 || !origin[0] || !origin[1] || *origin[1] % 8) return false;
      if (*here[0] != *origin[0] + lane / 4 + 8 * (i % 2) || *here[1] != *origin[1] + 2 * (lane % 4) + 8 * (i / 2) + reg % 2)
        return false;
    }
  return true;
}

// The fragment -> shared copy by stmatrix.x4 (stmatrix_fits): per 8 registers, lane l gives the
// address of row l % 8 of matrix l / 8.
ir::Stmt store_by_stmatrix(ThreadLowering& ctx, const ir::Region& frag, const ir::Region& mem) {
  const FragmentInfo& f = ctx.fragment(*frag.buffer);
  const ir::Buffer regs = ctx.registers(*frag.buffer);
  const ir::Expr tx = ctx.thread_var();
  auto op = [](ir::BinaryOp o, const ir::Expr& a, const ir::Expr& b) { return ir::make_binary(o, a, b); };
  const ir::Expr lane = op(ir::BinaryOp::Mod, tx, ir::make_int(32)), warp_base = op(ir::BinaryOp::Sub, tx, lane);
  const ir::Expr row_in_group = op(ir::BinaryOp::Add, op(ir::BinaryOp::Mod, lane, ir::make_int(8)),
                                   op(ir::BinaryOp::Mul, op(ir::BinaryOp::Mod, op(ir::BinaryOp::Div, lane, ir::make_int(8)), ir::make_int(2)), ir::make_int(8)));
  const ir::Expr col_in_group = op(ir::BinaryOp::Mul, op(ir::BinaryOp::Div, lane, ir::make_int(16)), ir::make_int(8));
  std::vector<ir::Stmt> out;
  for (std::int64_t g = 0; g < f.registers; g += 8) {
    const auto origin = f.layout->owned(warp_base, ir::make_int(g));
    const std::vector<ir::Expr> tile{op(ir::BinaryOp::Add, origin.index[0], row_in_group), op(ir::BinaryOp::Add, origin.index[1], col_in_group)};
    out.push_back(device_call("tl.stsm_x4_from", {ir::make_load(mem.buffer, region_index(mem, tile)), ir::make_load(regs, {ir::make_int(g)})},
                              {mem.buffer->dtype, frag.buffer->dtype}));
  }
  return ir::make_seq(std::move(out));
}

// A fragment <-> memory copy, register by register or (plan.vector > 1) by vectors of registers.
ir::Stmt fragment_and_memory(const ir::TileOpNode& op, const CopyPlan& plan, ThreadLowering& ctx, bool to_frag) {
  const ir::Region &frag = to_frag ? op.regions[1] : op.regions[0], &mem = to_frag ? op.regions[0] : op.regions[1];
  const DataType dt = op.regions[1].buffer->dtype;
  const FragmentInfo& f = ctx.fragment(*frag.buffer);
  const ir::Buffer regs = ctx.registers(*frag.buffer);
  auto reg = [&](std::int64_t r) { return ir::make_load(regs, {ir::make_int(r)}); };
  const ir::Stmt by_elements = registers(ctx, *frag.buffer, [&](std::int64_t r, const std::vector<ir::Expr>& t) {
    const ir::Expr in = inside(ctx, mem, t);
    const std::vector<ir::Expr> at = region_index(mem, t);
    if (to_frag) return ir::make_store(regs, {ir::make_int(r)}, or_zero(in, converted(ir::make_load(mem.buffer, at), dt)));
    // A replicated fragment is written out by the first copy of each element only.
    std::vector<ir::Expr> conds;
    if (in) conds.push_back(in);
    if (f.layout->replicate() > 1) {
      std::map<const ir::VarNode*, ir::Expr> sub{{f.layout->replica_var().get(), ir::make_int(0)}};
      for (size_t d = 0, k = 0; d < f.layout->vars().size(); ++d)
        sub[f.layout->vars()[d].get()] = ir::as_const_int(frag.buffer->shape[d]) == 1 ? ir::make_int(0) : t[k++];
      conds.push_back(ir::make_binary(ir::BinaryOp::EQ, ctx.thread_var(), ir::make_cast(DataType::Int32, ir::substitute(f.layout->forward_thread(), sub))));
    }
    return guarded(all_of(conds), ir::make_store(mem.buffer, at, converted(reg(r), dt)));
  });
  const std::int64_t v = plan.vector;
  if (v == 1) return by_elements;
  // Vectors need the tile to start on a vector boundary in memory (checked at run time for global
  // tensors, with element-wise code as the fallback).
  const ir::Stmt by_vectors = registers(ctx, *frag.buffer, [&](std::int64_t r, const std::vector<ir::Expr>& t) {
    const ir::Expr element = ir::make_load(mem.buffer, region_index(mem, t)), in = always(inside(ctx, mem, t, v));
    if (to_frag) return device_call("tl.load_vector", {reg(r), element, in}, {v, mem.buffer->dtype, frag.buffer->dtype});
    return device_call("tl.store_vector", {element, reg(r), in}, {v, frag.buffer->dtype, mem.buffer->dtype});
  }, v);
  const ir::Expr ok = vectors_ok(ctx, {&mem}, v);
  return ok ? ir::make_if(ok, by_vectors, by_elements) : by_vectors;
}

void lower_to_threads(const ir::TileOpNode& op, ThreadLowering& ctx) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const bool from_frag = src.buffer->scope == ir::Scope::Fragment, to_frag = dst.buffer->scope == ir::Scope::Fragment;
  for (const auto* r : {&src, &dst})
    if (r->buffer->scope == ir::Scope::Local || r->buffer->scope == ir::Scope::Var)
      throw CompileError(cat("cannot lower T::copy with ", r->buffer->scope == ir::Scope::Var ? "var " : "local buffer ", r->buffer->name,
                             " for CUDA because it is private to each thread; copy through a fragment, or write the "
                             "per-thread loop with T::serial"));
  const auto plan = CopyPlan::decode(op);
  TS_ICHECK(plan, "copy into ", dst.buffer->name, " lowered before plan_copies");
  if (!from_frag && !to_frag) return ctx.emit(memory_to_memory(op, *plan, ctx));
  if (from_frag && to_frag) {
    require_whole_fragment(src, "copy"), require_whole_fragment(dst, "copy");
    const auto &fs = ctx.fragment(*src.buffer), &fd = ctx.fragment(*dst.buffer);
    if (fs.layout->to_string() != fd.layout->to_string())
      throw CompileError(cat("cannot copy fragment ", src.buffer->name, " to fragment ", dst.buffer->name,
                             " because their layouts differ (", fs.layout->to_string(), " vs ", fd.layout->to_string(),
                             "); copy through shared memory"));
    const ir::Buffer from = ctx.registers(*src.buffer), to = ctx.registers(*dst.buffer);
    std::vector<ir::Stmt> out;
    for (int r = 0; r < fs.registers; ++r)
      out.push_back(ir::make_store(to, {ir::make_int(r)}, converted(ir::make_load(from, {ir::make_int(r)}), dst.buffer->dtype)));
    return ctx.emit(ir::make_seq(std::move(out)));
  }
  require_whole_fragment(from_frag ? src : dst, "copy");
  if (plan->path == CopyPath::Stmatrix) return ctx.emit(store_by_stmatrix(ctx, src, dst));
  ctx.emit(fragment_and_memory(op, *plan, ctx, to_frag));
}

constexpr const char* kPathNames[] = {"scalar", "vector", "cp_async", "registers", "register_vector", "stmatrix"};

// A fragment-to-fragment copy of equal shapes keeps the layout (infer_fragment_layouts checks the shapes).
std::optional<LayoutFlow> layout_flow(const ir::TileOpNode&) { return LayoutFlow{LayoutFlow::Kind::Same, 0, 1}; }

}  // namespace

ir::Attrs CopyPlan::encode() const {
  ir::Attrs a{{"path", std::string(kPathNames[static_cast<int>(path)])}};
  if (vector > 1) a["vector"] = vector;
  return a;
}

std::optional<CopyPlan> CopyPlan::decode(const ir::TileOpNode& op) {
  auto it = op.attrs.find("path");
  if (it == op.attrs.end()) return std::nullopt;
  const auto* name = std::find_if(std::begin(kPathNames), std::end(kPathNames),
                                  [&](const char* n) { return std::get<std::string>(it->second) == n; });
  TS_ICHECK(name != std::end(kPathNames), "copy with path=", std::get<std::string>(it->second));
  CopyPlan p{static_cast<CopyPath>(name - std::begin(kPathNames)), 1};
  if (op.attrs.count("vector")) p.vector = op.int_attr("vector");
  return p;
}

CopyPlan plan_copy(const ir::TileOpNode& op, int threads, int sm, const std::function<const layout::Fragment&(const ir::BufferNode&)>& layout_of) {
  const ir::Region &src = op.regions[0], &dst = op.regions[1];
  const bool from_frag = src.buffer->scope == ir::Scope::Fragment, to_frag = dst.buffer->scope == ir::Scope::Fragment;
  for (const auto* r : {&src, &dst})
    if (r->buffer->scope == ir::Scope::Local || r->buffer->scope == ir::Scope::Var) return {};  // refused by the lowering
  if (!from_frag && !to_frag) {
    const std::int64_t vec = vector_width(src, dst, squeezed(const_extent(src, "copy")));
    if (vec == 1) return {};
    const bool async = src.buffer->scope == ir::Scope::Global && dst.buffer->scope == ir::Scope::Shared && vec * bytes(src.buffer->dtype) >= 4;
    return {async ? CopyPath::CpAsync : CopyPath::Vector, vec};
  }
  if (from_frag && to_frag) return {CopyPath::Registers, 1};
  const ir::Region& frag = from_frag ? src : dst;
  const ir::Region& mem = from_frag ? dst : src;
  const layout::Fragment& f = layout_of(*frag.buffer);
  const std::int64_t registers = f.register_count();  // enumerates the layout: once
  if (from_frag && stmatrix_fits(f, registers, threads, sm, frag, mem)) return {CopyPath::Stmatrix, 1};
  const std::int64_t v = fragment_copy_vector(f, registers, threads, frag, mem);
  return {v > 1 ? CopyPath::RegisterVector : CopyPath::Registers, v};
}

const TileOpDef& copy_def() {
  static const TileOpDef def{.name = "copy", .verify = verify, .run_cpu = run_cpu, .lower_to_threads = lower_to_threads, .destination = 1,
                             .copies = true, .layout_flow = layout_flow};
  return def;
}

}  // namespace tilescale::ops
