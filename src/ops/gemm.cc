// gemm(A, B, C): C (+)= A · B on tiles. A is [M, K] (K-major) or [K, M] (MN-major), B is [K, N]
// (MN-major) or [N, K] (K-major), C is [M, N]; gemm.h says how the user's transpose flags map.
#include "ops/gemm.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "ir/visitor.h"
#include "ops/cuda_lowering.h"
#include "ops/device_builtins.h"
#include "ops/lower_context.h"
#include "ops/tile_op.h"

namespace tilescale::ops {

using tilescale::detail::cat;

Major major_of(GemmOperand operand, bool transposed) {
  const Major plain = operand == GemmOperand::A ? Major::K : Major::MN;  // A as [M, K], B as [K, N]
  return transposed ? (plain == Major::K ? Major::MN : Major::K) : plain;
}

bool device_trans(GemmOperand operand, Major major) { return major != major_of(operand, false); }

namespace {

const char* spelling(Major m) { return m == Major::K ? "K" : "MN"; }

Major parse_major(const ir::TileOpNode& op, const char* key) {
  auto it = op.attrs.find(key);
  const std::string* s = it == op.attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
  TS_ICHECK(s && (*s == "K" || *s == "MN"), "gemm without a valid ", key, " attr");
  return *s == "K" ? Major::K : Major::MN;
}

}  // namespace

ir::Attrs GemmPlan::encode() const {
  ir::Attrs attrs{{"A_major", std::string(spelling(a))}, {"B_major", std::string(spelling(b))}};
  if (planned()) {
    attrs["warps_m"] = std::int64_t(warps_m);
    attrs["warps_n"] = std::int64_t(warps_n);
  }
  if (wgmma) attrs["wgmma"] = std::int64_t(1);
  return attrs;
}

GemmPlan GemmPlan::decode(const ir::TileOpNode& op) {
  TS_ICHECK(&tile_op(op.op) == &gemm_def(), "GemmPlan::decode of T::", op.op);
  GemmPlan plan;
  plan.a = parse_major(op, "A_major");
  plan.b = parse_major(op, "B_major");
  if (op.attrs.count("warps_m")) {
    plan.warps_m = static_cast<int>(op.int_attr("warps_m"));
    plan.warps_n = static_cast<int>(op.int_attr("warps_n"));
  }
  plan.wgmma = op.attrs.count("wgmma") && op.int_attr("wgmma");
  return plan;
}

std::optional<GemmPlan> as_gemm(const ir::TileOpNode& op) {
  if (&tile_op(op.op) != &gemm_def()) return std::nullopt;
  return GemmPlan::decode(op);
}

bool clears_accumulator(const ir::TileOpNode& op) { return op.int_attr("clear_accum"); }

namespace {

// Whether the gemm is lowered to issue its wgmma group only (wgmma_issue_only).
bool issue_only(const ir::TileOpNode& op) { return op.attrs.count("wgmma_issue_only") && op.int_attr("wgmma_issue_only"); }

// Every device gemm's template arguments: M, N, K, WARPS_M, WARPS_N, the TRANS flags of its shared
// operands (`trans`: which of A and B), the input and accumulator types.
std::vector<ir::TemplateArg> device_shape(const ir::TileOpNode& op, bool trans_a, bool trans_b) {
  const ir::Region &A = op.regions[0], &C = op.regions[2];
  const GemmPlan plan = GemmPlan::decode(op);
  const std::int64_t K = *ir::as_const_int(A.extent[A.rank() - (plan.a == Major::MN ? 2 : 1)]);
  std::vector<ir::TemplateArg> t = {*ir::as_const_int(C.extent[0]), *ir::as_const_int(C.extent[1]), K,
                                    std::int64_t{plan.warps_m}, std::int64_t{plan.warps_n}};
  if (trans_a) t.emplace_back(device_trans(GemmOperand::A, plan.a));
  if (trans_b) t.emplace_back(device_trans(GemmOperand::B, plan.b));
  t.emplace_back(A.buffer->dtype);
  t.emplace_back(C.buffer->dtype);
  return t;
}

// The first element of operand `i`, as device calls take memory and registers.
ir::Expr first_element(const ir::TileOpNode& op, int i) { return ops::first_element(op.regions[i].buffer); }

}  // namespace

WgmmaAsyncCalls wgmma_async_calls(const ir::TileOpNode& gemm) {
  const auto plan = as_gemm(gemm);
  TS_ICHECK(plan && plan->wgmma && gemm.regions[0].buffer->scope == ir::Scope::Shared &&
                gemm.regions[1].buffer->scope == ir::Scope::Shared && !clears_accumulator(gemm),
            "wgmma_async_calls of a gemm that is not an accumulating wgmma gemm_ss");
  const auto shape = device_shape(gemm, true, true);
  return {device_call("tl.gemm_ss_wgmma_async", {first_element(gemm, 0), first_element(gemm, 1), first_element(gemm, 2)}, shape),
          device_call("tl.gemm_ss_wgmma_drain", {first_element(gemm, 2)}, shape)};
}

PrefetchedCalls prefetched_calls(const ir::TileOpNode& gemm) {
  const auto plan = as_gemm(gemm);
  const ir::Region &A = gemm.regions[0], &B = gemm.regions[1], &C = gemm.regions[2];
  TS_ICHECK(plan && plan->planned() && !plan->wgmma && A.buffer->scope == ir::Scope::Shared && B.buffer->scope == ir::Scope::Shared &&
                !clears_accumulator(gemm),
            "prefetched_calls of a gemm that is not an accumulating mma.sync gemm_ss");
  // GemmSsFragments::WORDS (gemm_sm80.h, which refuses another count): per warp MI A and NI B
  // fragments of a k step, and the lane offsets of the one loop that moves across swizzled columns.
  const std::int64_t M = *ir::as_const_int(C.extent[0]), N = *ir::as_const_int(C.extent[1]);
  const std::int64_t K = *ir::as_const_int(A.extent[A.rank() - (plan->a == Major::MN ? 2 : 1)]);
  // A k step is 32 bytes of K for every type: 16 elements of 16 bits, 32 of 8, 8 of 32 (tf32).
  const std::int64_t MI = M / plan->warps_m / 16, NI = N / plan->warps_n / 8, k_steps = K / (32 / bytes(A.buffer->dtype));
  // An 8-bit or 32-bit operand stored MN-major is gathered element by element and keeps no offsets.
  const bool gathered = bytes(A.buffer->dtype) != 2;
  const std::int64_t a_offsets = plan->a == Major::MN ? (gathered ? 0 : MI) : k_steps;
  const std::int64_t b_offsets = plan->b == Major::K ? k_steps : gathered ? 0 : (NI + 1) / 2;
  const ir::Buffer fragments = ir::make_buffer(C.buffer->name + "_prefetched", {ir::make_int(MI * 4 + NI * 2 + a_offsets + b_offsets)},
                                               DataType::UInt32, ir::Scope::Local);
  const auto shape = device_shape(gemm, true, true);
  const ir::Expr a = first_element(gemm, 0), b = first_element(gemm, 1), c = first_element(gemm, 2), f = ops::first_element(fragments);
  return {fragments, device_call("tl.gemm_ss_prefetched_first", {a, b, f}, shape),
          device_call("tl.gemm_ss_prefetched_head", {a, b, c, f}, shape), device_call("tl.gemm_ss_prefetched_tail", {a, b, c, f}, shape)};
}

ir::Stmt wgmma_issue_only(const ir::TileOpNode& gemm) {
  const auto plan = as_gemm(gemm);
  TS_ICHECK(plan && plan->wgmma, "wgmma_issue_only of a gemm that is not a wgmma gemm");
  ir::Attrs attrs = gemm.attrs;
  attrs["wgmma_issue_only"] = std::int64_t{1};
  return ir::make_tile_op(gemm.op, gemm.regions, gemm.args, std::move(attrs));
}

ir::Stmt make_gemm(const Operand& a, const Operand& b, const Operand& c, bool transpose_a, bool transpose_b,
                   int policy, bool clear_accum) {
  GemmPlan plan;
  plan.a = major_of(GemmOperand::A, transpose_a);
  plan.b = major_of(GemmOperand::B, transpose_b);
  ir::Attrs attrs = plan.encode();
  attrs["policy"] = std::int64_t(policy);
  attrs["clear_accum"] = std::int64_t(clear_accum);
  return ir::make_tile_op("gemm", {to_region(a, "gemm"), to_region(b, "gemm"), to_region(c, "gemm")}, {}, std::move(attrs));
}

namespace {

// The user's transpose flags of `plan`, for messages that name them (the device TRANS parameters
// keep the user's convention).
std::int64_t transpose_a(const GemmPlan& plan) { return device_trans(GemmOperand::A, plan.a); }
std::int64_t transpose_b(const GemmPlan& plan) { return device_trans(GemmOperand::B, plan.b); }

// The two non-unit extents of a gemm operand (leading unit dimensions are allowed: a [1, 64, 32]
// slice of a 3-D buffer is a 64×32 tile).
std::vector<ir::Expr> matrix_extents(const ir::Region& r, const char* role) {
  std::vector<ir::Expr> ext = r.extent;
  while (ext.size() > 2 && ir::as_const_int(ext.front()) == 1) ext.erase(ext.begin());
  if (ext.size() != 2)
    throw CompileError(cat("cannot gemm with ", role, " = ", describe(r), " because it is not a 2-D tile (extent rank ",
                           ext.size(), "); pass a 2-D buffer or region"));
  return ext;
}

void check_dim(const ir::Expr& x, const ir::Expr& y, const std::string& what, const ir::TileOpNode& op) {
  auto cx = ir::as_const_int(x), cy = ir::as_const_int(y);
  const GemmPlan plan = GemmPlan::decode(op);
  if (cx && cy && *cx != *cy)
    throw CompileError(cat("cannot gemm ", describe(op.regions[0]), " x ", describe(op.regions[1]), " into ",
                           describe(op.regions[2]), " because ", what, " (", *cx, " vs ", *cy,
                           ", transpose_A=", transpose_a(plan), ", transpose_B=", transpose_b(plan),
                           "); make the tiles agree or set transpose_A/transpose_B"));
}

void verify(const ir::TileOpNode& op) {
  const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
  for (const auto* r : {&A, &B})
    if (r->buffer->scope == ir::Scope::Global)
      throw CompileError(cat("cannot gemm with operand ", r->buffer->name,
                             " because it is a global tensor; T::copy the tile into T::alloc_shared or "
                             "T::alloc_fragment first"));
  if (C.buffer->scope != ir::Scope::Fragment && C.buffer->scope != ir::Scope::Local)
    throw CompileError(cat("cannot gemm into ", C.buffer->name, " because it is a ", ir::spelling(C.buffer->scope),
                           " buffer; accumulate in a T::alloc_fragment and T::copy it out"));
  if (A.buffer->dtype != B.buffer->dtype)
    throw CompileError(cat("cannot gemm ", A.buffer->name, " (", name(A.buffer->dtype), ") with ", B.buffer->name, " (",
                           name(B.buffer->dtype), ") because their dtypes differ; cast one of them"));
  const auto a = matrix_extents(A, "A"), b = matrix_extents(B, "B"), c = matrix_extents(C, "C");
  const GemmPlan plan = GemmPlan::decode(op);
  const bool a_mn = plan.a == Major::MN, b_k = plan.b == Major::K;  // A as [K, M], B as [N, K]
  const ir::Expr &aM = a[a_mn ? 1 : 0], &aK = a[a_mn ? 0 : 1], &bK = b[b_k ? 1 : 0], &bN = b[b_k ? 0 : 1];
  check_dim(aK, bK, "A's K differs from B's K", op);
  check_dim(aM, c[0], "A's M differs from C's rows", op);
  check_dim(bN, c[1], "B's N differs from C's columns", op);
}

// Reads a 2-D operand (after its leading unit dimensions) into a dense row-major double matrix.
std::vector<double> load_matrix(const RegionView& v, std::int64_t rows, std::int64_t cols) {
  std::vector<double> m(rows * cols);
  std::vector<std::int64_t> idx(v.rank(), 0);
  const int r = v.rank() - 2, c = v.rank() - 1;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      idx[r] = i, idx[c] = j;
      m[i * cols + j] = v.load(idx.data());
    }
  return m;
}

void run_cpu(const ir::TileOpNode& op, const std::vector<RegionView>& r, const std::vector<double>&) {
  const GemmPlan plan = GemmPlan::decode(op);
  const bool ta = plan.a == Major::MN, tb = plan.b == Major::K;  // A as [K, M], B as [N, K]
  const RegionView &A = r[0], &B = r[1], &C = r[2];
  const std::int64_t M = C.extent[C.rank() - 2], N = C.extent[C.rank() - 1];
  const std::int64_t K = ta ? A.extent[A.rank() - 2] : A.extent[A.rank() - 1];
  const auto a = load_matrix(A, ta ? K : M, ta ? M : K), b = load_matrix(B, tb ? N : K, tb ? K : N);
  const bool clear = clears_accumulator(op);
  std::vector<std::int64_t> idx(C.rank(), 0);
  std::vector<double> row(N);
  for (std::int64_t i = 0; i < M; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (std::int64_t k = 0; k < K; ++k) {
      const double aik = ta ? a[k * M + i] : a[i * K + k];
      if (tb) for (std::int64_t j = 0; j < N; ++j) row[j] += aik * b[j * K + k];
      else for (std::int64_t j = 0; j < N; ++j) row[j] += aik * b[k * N + j];
    }
    idx[C.rank() - 2] = i;
    for (std::int64_t j = 0; j < N; ++j) {
      idx[C.rank() - 1] = j;
      C.store(idx.data(), clear ? row[j] : C.load(idx.data()) + row[j]);
    }
  }
}

// ---- refusals (plan_tile_ops) ----------------------------------------------------------------------

// A shared operand must be a whole 2-D buffer: the device gemm addresses it with the buffer's
// row length and swizzle.
void require_whole_shared(const ir::Region& r, const char* role) {
  bool whole = r.buffer->rank() == 2;
  for (int d = 0; whole && d < 2; ++d)
    whole = ir::as_const_int(r.base[d]) == 0 && ir::as_const_int(r.extent[d]) == ir::as_const_int(r.buffer->shape[d]);
  if (!whole)
    throw CompileError(cat("cannot lower T::gemm for CUDA with ", role, " = ", describe(r), " because it is not a whole 2-D "
                           "shared buffer; allocate the operand tile as its own T::alloc_shared buffer"));
}

const char* accumulator_type(DataType in, const std::string& c) {
  if (in == DataType::Float16 || in == DataType::BFloat16 || in == DataType::Float8E4M3 || in == DataType::Float8E5M2) return "float";
  if (in == DataType::Float32) return "float";  // tf32 tensor cores
  if (in == DataType::Int8) return "int";
  throw CompileError(cat("cannot lower T::gemm into ", c, " for CUDA with ", name(in),
                         " operands; mma.sync takes float16, bfloat16, float32 (as tf32), int8 and float8 inputs"));
}

// Register operands go to mma.sync as pairs of 16-bit values (gemm_sm80.h).
void require_16bit_registers(const ir::Region& r, const char* role) {
  if (r.buffer->scope == ir::Scope::Fragment && bytes(r.buffer->dtype) != 2)
    throw CompileError(cat("cannot lower T::gemm for CUDA with ", role, " = ", r.buffer->name, " (", name(r.buffer->dtype),
                           ") in registers, because operands in registers must be float16 or bfloat16; keep it in "
                           "shared memory (T::alloc_shared)"));
}

// float8 operands need matrix instructions that exist from sm_89 on.
void require_fp8_target(const ir::TileOpNode& op, const cuda::Target& target) {
  const DataType in = op.regions[0].buffer->dtype;
  if ((in == DataType::Float8E4M3 || in == DataType::Float8E5M2) && target.sm < 89)
    throw CompileError(cat("cannot lower T::gemm into ", op.regions[2].buffer->name, " for ", target.arch(), " with ", name(in),
                           " operands because float8 matrix instructions need sm_89 or later (mma.sync m16n8k32; wgmma on "
                           "sm_90a); compile for sm_89 or newer, or convert the operands to float16 or bfloat16"));
}

// Every refusal of the gemm on CUDA (CompileError), checked when plan_tile_ops plans it: the passes
// after it lower every planned gemm.
void check_lowerable(const ir::TileOpNode& op, int sm) {
  const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
  cuda_lowering::require_whole_fragment(C, "gemm");
  const DataType in = A.buffer->dtype;
  const char* acc = accumulator_type(in, C.buffer->name);
  require_16bit_registers(A, "A"), require_16bit_registers(B, "B");
  require_fp8_target(op, cuda::Target{sm});
  // float16 operands may also accumulate in float16 (mma.sync's f16 form, rounding after each mma).
  const bool half_accumulator = in == DataType::Float16 && C.buffer->dtype == DataType::Float16;
  if (C.buffer->dtype != (std::string(acc) == "int" ? DataType::Int32 : DataType::Float32) && !half_accumulator)
    throw CompileError(cat("cannot lower T::gemm into ", C.buffer->name, " (", name(C.buffer->dtype), ") for CUDA with ", name(in),
                           " operands because mma.sync accumulates them in ", acc,
                           in == DataType::Float16 ? " or float16" : "", "; accumulate in ",
                           acc == std::string("int") ? "an int32" : in == DataType::Float16 ? "a float32 or float16" : "a float32",
                           " fragment and cast afterwards"));
  if (A.buffer->scope == ir::Scope::Fragment) {
    cuda_lowering::require_whole_fragment(A, "gemm");
    return require_whole_shared(B, "B");
  }
  require_whole_shared(A, "A");
  if (B.buffer->scope == ir::Scope::Fragment) return cuda_lowering::require_whole_fragment(B, "gemm");
  require_whole_shared(B, "B");
}

// ---- plan (plan_tile_ops) ---------------------------------------------------------------------------
//
// How the warps of the block split each gemm's C tile, and whether it runs on wgmma. Square makes
// the warp tiles as square as the shapes allow; FullRow stacks all warps along M; FullCol along N.
// Register operands override the policy: a gemm whose B is a fragment (gemm_sr) stacks its warps
// along N (each warp needs whole columns of B); one whose A is a fragment (gemm_rs, e.g.
// attention's P·V) along M; so does every other gemm of a kernel with register operands, because a
// register operand must be laid out as an accumulator with one warp column (A: M x K; B read as
// B^T: N x K). Gemms into the same C follow the one with a register operand.

bool is_gemm(const ir::TileOpNode& op) { return &tile_op(op.op) == &gemm_def(); }

bool in_registers(const ir::TileOpNode& op, int operand) { return op.regions[operand].buffer->scope == ir::Scope::Fragment; }

std::string reads_from_registers(const ir::TileOpNode* op) {
  const int operand = in_registers(*op, 0) ? 0 : 1;
  return cat("T::gemm into ", op->regions[2].buffer->name, " reads ", operand ? "B" : "A", " (",
             op->regions[operand].buffer->name, ") from registers");
}

// The gemms of one kernel body and how their register operands constrain the warps. A register A
// (gemm_rs) needs the warps stacked along M, a register B (gemm_sr) along N; gemms accumulating
// into the same fragment must agree, so the constraint holds for every gemm into that C.
struct Constraints {
  bool any_register_operand = false;
  std::map<const ir::BufferNode*, const ir::TileOpNode*> rows_by, cols_by;  // per C buffer: the gemm that forces it
};

Constraints constraints_of(const ir::Stmt& body, int warps) {
  struct Finder : ir::Visitor {
    std::vector<const ir::TileOpNode*> gemms;
    void visit(const ir::TileOpNode* op) override {
      if (is_gemm(*op)) gemms.push_back(op);
    }
  } f;
  f.visit_stmt(body);
  Constraints c;
  for (const auto* op : f.gemms) {
    const bool a = in_registers(*op, 0), b = in_registers(*op, 1);
    if (a && b)
      throw CompileError(cat("cannot lower T::gemm into ", op->regions[2].buffer->name, " for CUDA with both A (",
                             op->regions[0].buffer->name, ") and B (", op->regions[1].buffer->name,
                             ") in registers, because the device gemms (tl::gemm_ss, gemm_rs, gemm_sr) take at most one "
                             "operand from registers; keep one of them in shared memory (T::alloc_shared)"));
    c.any_register_operand |= a || b;
    const ir::BufferNode* C = op->regions[2].buffer.get();
    if (a) c.rows_by.emplace(C, op);
    if (b) c.cols_by.emplace(C, op);
    if (warps > 1 && c.rows_by.count(C) && c.cols_by.count(C)) {
      const auto *rs = c.rows_by.at(C), *sr = c.cols_by.at(C);
      throw CompileError(cat("cannot arrange the warps of two gemms into ", C->name, " over ", warps, " warps: ",
                             reads_from_registers(rs), ", so it needs the warps stacked along M, and ",
                             reads_from_registers(sr), ", so it needs them stacked along N, but ", C->name,
                             " can have only one layout; accumulate them in separate fragments (and combine those through "
                             "shared memory), or keep one of the register operands in shared memory (T::alloc_shared)"));
    }
  }
  return c;
}

// WARPS_M for tl::gemm_ss_wgmma / gemm_rs_wgmma (device/tilescale/gemm_sm90.h) when this gemm can
// take it, else 0 -- the one statement of the wgmma rule: Hopper; 16-bit operands, or fp8 (e4m3 /
// e5m2), float32 (tf32) and int8 ones with both in shared memory and K-major (A as [M, K], B as
// [N, K]); B and a shared A in whole 2-D shared tiles whose layouts wgmma's descriptors can read (A
// may be a K-major 16-bit register fragment: rs); float accumulators (int32 for int8; a float16
// accumulator stays on mma.sync); warps that split into whole warpgroups of 64
// rows with one wgmma N each. The square policy (in kernels without register operands) takes
// whatever WARPS_M = M / 16 needs, and when M / 16 is more than the warps, all warps along M with
// several m64 tiles per warpgroup (WarpRows::M64Tiles: TileLang's arrangement of a 128 x 128 tile
// over 4 warps); FullRow, which register operands force, only when all the warps are M / 16 of
// them. A gemm of those types that does not fit falls back to mma.sync (fp8 from sm_89), which
// gathers operands stored MN-major element by element (gemm_sm80.h).
int wgmma_warps_m(const ir::TileOpNode& op, const GemmPlan& plan, std::int64_t M, std::int64_t N, GemmPolicy policy, int warps,
                  bool any_register_operand, int sm) {
  const bool free = policy == GemmPolicy::Square && !any_register_operand;
  if (sm < 90 || in_registers(op, 1) || !(free || (policy == GemmPolicy::FullRow && M == 16 * warps))) return 0;
  const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
  auto whole_2d = [](const ir::Region& r) {
    bool whole = r.buffer->scope == ir::Scope::Shared && r.buffer->rank() == 2;
    for (int d = 0; whole && d < 2; ++d)
      whole = ir::as_const_int(r.base[d]) == 0 && ir::as_const_int(r.extent[d]) == ir::as_const_int(r.buffer->shape[d]);
    return whole;
  };
  const DataType in = A.buffer->dtype;
  const bool sixteen_bit = in == DataType::Float16 || in == DataType::BFloat16;
  const bool k_major_only = in == DataType::Float8E4M3 || in == DataType::Float8E5M2 || in == DataType::Float32 || in == DataType::Int8;
  const DataType accumulator = in == DataType::Int8 ? DataType::Int32 : DataType::Float32;
  if (!(sixteen_bit || k_major_only) || B.buffer->dtype != in || C.buffer->dtype != accumulator ||
      !(in_registers(op, 0) || whole_2d(A)) || !whole_2d(B))
    return 0;
  const bool a_k = plan.a == Major::K, b_k = plan.b == Major::K;
  if (!a_k && in_registers(op, 0)) return 0;
  if (k_major_only && (in_registers(op, 0) || !a_k || !b_k)) return 0;  // wgmma transposes 16-bit operands only
  const auto k_extent = ir::as_const_int(A.extent[a_k ? A.rank() - 1 : A.rank() - 2]);
  if (!k_extent) return 0;
  const std::int64_t K = *k_extent, E = bytes(in);
  const std::int64_t wm = M / 16 <= warps ? M / 16 : warps;
  // One wgmma takes 32 bytes of K: 16 elements of 16 bits, 32 of 8 bits, 8 of 32 bits.
  if (M % 64 || warps % 4 || warps % wm || M % (16 * wm) || (K * E) % 32) return 0;
  const std::int64_t wn = warps / wm;
  if (N % wn) return 0;
  const std::int64_t WN = N / wn;
  const bool wgmma_n = WN == 8 || WN == 16 || WN == 32 || WN == 64 || WN == 96 || WN == 128 || WN == 192 || WN == 256;
  // K-major rows of 32 or 64 bytes, or whole 128-byte panels; M/N-major operands in whole panels.
  const bool k_rows = K * E == 32 || K * E == 64 || (K * E) % 128 == 0;
  const bool k_major_operand = (a_k && !in_registers(op, 0)) || b_k;
  if (!wgmma_n || (k_major_operand && !k_rows) || (!b_k && (WN * E) % 128)) return 0;
  return static_cast<int>(wm);
}

std::pair<int, int> choose_warps(std::int64_t M, std::int64_t N, GemmPolicy policy, int warps, const std::string& c,
                                 const std::string& forced_by) {
  std::pair<int, int> best{0, 0};
  double best_score = std::numeric_limits<double>::max();
  for (int wm = 1; wm <= warps; ++wm) {
    if (warps % wm) continue;
    const int wn = warps / wm;
    if (policy == GemmPolicy::FullRow && wn != 1) continue;
    if (policy == GemmPolicy::FullCol && wm != 1) continue;
    if (M % (16 * wm) || N % (16 * wn)) continue;
    const double score = std::abs(std::log(double(M / wm) / double(N / wn)));
    if (score < best_score) best_score = score, best = {wm, wn};
  }
  if (best.first == 0)
    throw CompileError(cat("cannot split the gemm tile ", c, " (", M, " x ", N, ") over ", warps, " warps",
                           policy == GemmPolicy::FullRow   ? " stacked along M"
                           : policy == GemmPolicy::FullCol ? " stacked along N"
                                                           : "",
                           forced_by.empty() ? "" : cat(" (", forced_by, ")"),
                           " because each warp needs a multiple of 16 rows and 16 columns; change the tile size",
                           forced_by.empty() ? ", the thread count or the policy" : " or the thread count"));
  return best;
}

ir::Attrs plan(const ir::TileOpNode& op, const PlanContext& ctx) {
  if (ctx.kernel && ctx.kernel->threads % 32)
    throw CompileError(cat("cannot lower T::gemm into ", op.regions[2].buffer->name, " for CUDA in a block of ", ctx.kernel->threads,
                           " threads because its matrix instructions run on whole warps of 32 threads; use a multiple of 32 "
                           "threads"));
  const int warps = ctx.kernel ? ctx.kernel->threads / 32 : 1;
  const Constraints constraints = ctx.kernel ? constraints_of(ctx.kernel->body, warps) : Constraints{};
  const ir::Region& C = op.regions[2];
  const auto M = ir::as_const_int(C.extent[C.rank() - 2]), N = ir::as_const_int(C.extent[C.rank() - 1]);
  if (!M || !N)
    throw CompileError(cat("cannot lower T::gemm into ", C.buffer->name, " for CUDA because its tile extent is not constant"));
  check_lowerable(op, ctx.sm);
  // A register B takes whole columns per warp. Every other gemm of a kernel with register operands
  // stacks its warps along M: its accumulator can then be a register A (M x K, one warp column)
  // or, as B^T, a register B (N x K, the sr gemm's warp columns as warp rows).
  auto policy = static_cast<GemmPolicy>(op.int_attr("policy"));
  std::string forced_by;
  if (auto it = constraints.cols_by.find(C.buffer.get()); it != constraints.cols_by.end()) {
    policy = GemmPolicy::FullCol, forced_by = reads_from_registers(it->second);
  } else if (auto it = constraints.rows_by.find(C.buffer.get()); it != constraints.rows_by.end()) {
    policy = GemmPolicy::FullRow, forced_by = reads_from_registers(it->second);
  } else if (constraints.any_register_operand) {
    policy = GemmPolicy::FullRow, forced_by = "a gemm of this kernel reads an operand from registers";
  }
  const GemmPlan before = GemmPlan::decode(op);
  GemmPlan p = before;
  if (const int wm = wgmma_warps_m(op, p, *M, *N, policy, warps, constraints.any_register_operand, ctx.sm)) {
    p.warps_m = wm, p.warps_n = warps / wm, p.wgmma = true;
  } else {
    std::tie(p.warps_m, p.warps_n) = choose_warps(*M, *N, policy, warps, C.buffer->name, forced_by);
    p.wgmma = false;
  }
  ir::Attrs attrs = op.attrs;
  for (const auto& [k, v] : before.encode()) attrs.erase(k);
  for (auto& [k, v] : p.encode()) attrs[k] = std::move(v);
  return attrs;
}

// ---- fragment layouts (infer_fragment_layouts, strict level) -------------------------------------
//
// C is the mma accumulator of the planned warp grid (with m64 tiles per warpgroup when a wgmma
// warp holds more than 16 rows). A register A (gemm_rs) is an accumulator of the same warp rows
// with one warp column: read K-major, as [M][K], it is one; M-major, as [K][M], its transpose. A
// register B (gemm_sr, one warp row) holds B^T as an
// accumulator with the gemm's warp columns as its warp rows: read K-major, as [N][K], it is one;
// MN-major, as [K][N], its transpose.
std::vector<StrictLayout> strict_layouts(const ir::TileOpNode& op) {
  const GemmPlan plan = GemmPlan::decode(op);
  const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
  TS_ICHECK(plan.planned(), "gemm into ", C.buffer->name, " laid out before plan_tile_ops");
  const int wm = plan.warps_m, wn = plan.warps_n;
  const std::int64_t M = *ir::as_const_int(C.extent[C.rank() - 2]), N = *ir::as_const_int(C.extent[C.rank() - 1]);
  const std::string by = cat("T::gemm into ", C.buffer->name);
  std::vector<StrictLayout> out;
  // A wgmma gemm with more rows than 16 per warp runs several m64 tiles per warpgroup.
  const auto arrangement = plan.wgmma && M > 16 * wm ? layout::WarpRows::M64Tiles : layout::WarpRows::Contiguous;
  if (C.buffer->scope == ir::Scope::Fragment) out.push_back({C.buffer.get(), false, M, N, wm, wn, by, arrangement});
  if (A.buffer->scope == ir::Scope::Fragment) {
    // Read K-major, as [M][K], A is an accumulator of the gemm's warp rows; M-major, as [K][M]
    // (transpose_A), its transpose: the same registers either way.
    TS_ICHECK(arrangement == layout::WarpRows::Contiguous, "gemm reading A from registers planned with m64 tiles");
    const bool k_major = plan.a == Major::K;
    const std::int64_t K = *ir::as_const_int(A.extent[A.rank() - (k_major ? 1 : 2)]);
    out.push_back({A.buffer.get(), !k_major, M, K, wm, 1, cat(by, " reading A (", A.buffer->name, ") from registers")});
  }
  if (B.buffer->scope == ir::Scope::Fragment) {
    TS_ICHECK(wm == 1, "gemm reading B from registers planned with ", wm, " warps along M");
    const bool k_major = plan.b == Major::K;
    const std::int64_t K = *ir::as_const_int(B.extent[B.rank() - (k_major ? 1 : 2)]);
    out.push_back({B.buffer.get(), !k_major, N, K, wn, 1, cat(by, " reading B (", B.buffer->name, ") from registers")});
  }
  return out;
}

// The gemm as thread-level IR: the accumulator cleared (clear_accum), on wgmma the shared operands
// fenced for the async proxy and the gemm's threads synchronised (gemm_sm90.h, Ordering) unless
// they are already visible to it (an async_proxy_ready scope), then the device gemm.
std::optional<ir::Stmt> thread_level(const ir::TileOpNode& op, const ThreadLevelContext& ctx) {
  const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
  const GemmPlan plan = GemmPlan::decode(op);
  const bool a_regs = A.buffer->scope == ir::Scope::Fragment, b_regs = B.buffer->scope == ir::Scope::Fragment;
  std::vector<ir::Stmt> out;
  if (clears_accumulator(op)) {
    const DataType t = C.buffer->dtype;
    out.push_back(make_fill(Operand{C.buffer, C.base, C.extent}, is_float(t) ? ir::make_float(0.0, t) : ir::make_int(0, t)));
  }
  if (plan.wgmma) {
    bool ready = true;
    for (const auto* r : {&A, &B})
      if (r->buffer->scope == ir::Scope::Shared) ready &= ctx.async_proxy_ready(*r->buffer);
    if (!ready) out.insert(out.end(), {device_call("tl.fence_proxy_async"), block_barrier()});
  }
  const char* name = a_regs   ? (!plan.wgmma ? "tl.gemm_rs" : issue_only(op) ? "tl.gemm_rs_wgmma_issue" : "tl.gemm_rs_wgmma")
                     : b_regs ? "tl.gemm_sr"
                     : plan.wgmma ? (issue_only(op) ? "tl.gemm_ss_wgmma_issue" : "tl.gemm_ss_wgmma")
                                  : "tl.gemm_ss";
  out.push_back(device_call(name, {first_element(op, 0), first_element(op, 1), first_element(op, 2)}, device_shape(op, !a_regs, !b_regs)));
  return ir::make_seq(std::move(out));
}

}  // namespace

const TileOpDef& gemm_def() {
  static const TileOpDef def{.name = "gemm", .verify = verify, .run_cpu = run_cpu, .destination = 2,
                             .plan = plan, .strict_layouts = strict_layouts, .thread_level = thread_level};
  return def;
}

}  // namespace tilescale::ops
