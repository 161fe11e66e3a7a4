#include "passes/tma.h"

#include <limits>

#include "ir/eval.h"
#include "tilescale/errors.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

constexpr std::int64_t kMaxBox = 256;

std::vector<std::int64_t> non_unit(const std::vector<std::int64_t>& v) {
  std::vector<std::int64_t> out;
  for (auto x : v)
    if (x != 1) out.push_back(x);
  return out;
}

}  // namespace

ir::Stmt TensorMapSpec::encode() const {
  return ir::make_annotate("tensor_map", nullptr, nullptr, {{"param", std::int64_t{param}}, {"box", box}, {"swizzle", std::int64_t{swizzle_bytes}}});
}

std::optional<TensorMapSpec> TensorMapSpec::decode(const ir::AnnotateNode& a) {
  if (a.key != "tensor_map") return std::nullopt;
  return TensorMapSpec{static_cast<int>(std::get<std::int64_t>(a.attrs.at("param"))), std::get<std::vector<std::int64_t>>(a.attrs.at("box")),
                       static_cast<int>(std::get<std::int64_t>(a.attrs.at("swizzle")))};
}

std::optional<TmaCopy> plan_tma_copy(const ir::PrimFunc& func, const ir::TileOpNode& copy, std::int64_t offset,
                                     std::int64_t stage_bytes, std::string& why) {
  auto no = [&](std::string reason) -> std::optional<TmaCopy> {
    why = std::move(reason);
    return std::nullopt;
  };
  const bool load = copy.regions[0].buffer->scope == ir::Scope::Global;
  const ir::Region &global = copy.regions[load ? 0 : 1], &shared = copy.regions[load ? 1 : 0];
  const ir::BufferNode &g = *global.buffer, &s = *shared.buffer;
  if (g.scope != ir::Scope::Global || s.scope != ir::Scope::Shared)
    return no("it is not a copy between global and shared memory");
  int param = -1;
  for (size_t i = 0; i < func->params.size(); ++i)
    if (func->params[i].tensor.get() == &g) param = static_cast<int>(i);
  if (param < 0) return no(cat(g.name, " is not a parameter"));
  if (g.dtype != s.dtype) return no("it converts between dtypes");
  if (g.rank() > 5) return no(cat(g.name, " has more than 5 dimensions"));
  for (int d = 0; d < g.rank(); ++d) {
    const auto v = ir::as_const_int(g.shape[d]);
    if (v ? *v > std::numeric_limits<std::int32_t>::max() : bits(g.shape[d]->dtype) == 64)
      return no(cat(g.name, " may have more than 2^31-1 elements along dim ", d, ", beyond the TMA's 32-bit coordinates"));
  }
  std::vector<std::int64_t> extent, shape;
  for (const auto& e : global.extent) {
    auto v = ir::as_const_int(e);
    if (!v) return no("its extent is not constant");
    extent.push_back(*v);
  }
  for (int d = 0; d < s.rank(); ++d) {
    auto v = ir::as_const_int(s.shape[d]);
    auto b = ir::as_const_int(shared.base[d]);
    if (!v || !b || *b != 0 || ir::as_const_int(shared.extent[d]) != v) return no(cat("it moves part of ", s.name));
    shape.push_back(*v);
  }
  if (non_unit(extent) != non_unit(shape) || extent.back() != shape.back())
    return no(cat("its box of ", g.name, " is not laid out like ", s.name));

  const std::int64_t E = bytes(s.dtype), cols = shape.back(), row_bytes = cols * E;
  std::int64_t elems = 1;
  for (auto x : shape) elems *= x;
  const std::int64_t rows = elems / cols;
  if (row_bytes % 16 != 0) return no(cat("the rows of ", s.name, " are not whole 16-byte chunks"));
  const std::int64_t chunks = row_bytes / 16;
  TmaCopy t;
  t.map.param = param;
  t.map.swizzle_bytes = s.rank() < 2 ? 0 : chunks == 2 ? 32 : chunks == 4 ? 64 : chunks % 8 == 0 ? 128 : 0;
  t.panel_cols = t.map.swizzle_bytes == 128 ? 128 / E : cols;
  t.panels = cols / t.panel_cols;
  t.panel_elems = rows * t.panel_cols;
  t.bytes = elems * E;
  for (int d = g.rank() - 1; d >= 0; --d) t.map.box.push_back(d == g.rank() - 1 ? t.panel_cols : extent[d]);
  for (auto b : t.map.box)
    if (b > kMaxBox) return no(cat("a box dimension of ", b, " elements exceeds the TMA's ", kMaxBox));
  const std::int64_t align = t.map.swizzle_bytes ? 8 * t.map.swizzle_bytes : 128;
  if (offset % align || stage_bytes % align || (t.panel_elems * E) % align)
    return no(cat(s.name, "'s stages or panels do not start on ", align, "-byte boundaries"));
  return t;
}

std::vector<ir::Expr> tma_box_coords(const ir::Region& global, const TmaCopy& plan, std::int64_t panel) {
  std::vector<ir::Expr> coords;
  for (int d = global.rank() - 1; d >= 0; --d) {
    ir::Expr c = global.base[d];
    if (d == global.rank() - 1 && panel > 0) c = ir::make_binary(ir::BinaryOp::Add, c, ir::make_int(panel * plan.panel_cols, c->dtype));
    // A 64-bit base (widen_indices) fits: plan_tma_copy refuses dimensions beyond 2^31-1.
    coords.push_back(ir::make_cast(DataType::Int32, c));
  }
  return coords;
}

}  // namespace tilescale::passes
