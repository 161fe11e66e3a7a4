#include "passes/plan_gemm_warps.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/gemm.h"

namespace tilescale::passes {

using tilescale::detail::cat;

namespace {

// Gemm policies, as lang::GemmWarpPolicy numbers them.
enum Policy { kSquare = 0, kFullRow = 1, kFullCol = 2 };

bool in_registers(const ir::TileOpNode* op, int operand) { return op->regions[operand].buffer->scope == ir::Scope::Fragment; }

std::string reads_from_registers(const ir::TileOpNode* op) {
  const int operand = in_registers(op, 0) ? 0 : 1;
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

Constraints constraints(const ir::Stmt& body, int warps) {
  struct Finder : ir::Visitor {
    std::vector<const ir::TileOpNode*> gemms;
    void visit(const ir::TileOpNode* op) override {
      if (op->op == "gemm") gemms.push_back(op);
    }
  } f;
  f.visit_stmt(body);
  Constraints c;
  for (const auto* op : f.gemms) {
    const bool a = in_registers(op, 0), b = in_registers(op, 1);
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

class Planner : public ir::Mutator {
 public:
  using Mutator::mutate;

  ir::Stmt mutate(const ir::KernelNode* op, const ir::Stmt& self) override {
    warps_ = op->threads / 32;
    constraints_ = constraints(op->body, warps_);
    return Mutator::mutate(op, self);
  }

  ir::Stmt mutate(const ir::TileOpNode* op, const ir::Stmt& self) override {
    if (op->op != "gemm") return self;
    const ir::Region& C = op->regions[2];
    const auto M = ir::as_const_int(C.extent[C.rank() - 2]), N = ir::as_const_int(C.extent[C.rank() - 1]);
    if (!M || !N)
      throw CompileError(cat("cannot lower T::gemm into ", C.buffer->name, " for CUDA because its tile extent is not constant"));
    // A register B takes whole columns per warp. Every other gemm of a kernel with register operands
    // stacks its warps along M: its accumulator can then be a register A (M x K, one warp column)
    // or, as B^T, a register B (N x K, the sr gemm's warp columns as warp rows).
    int policy = static_cast<int>(op->int_attr("policy"));
    std::string forced_by;
    if (auto it = constraints_.cols_by.find(C.buffer.get()); it != constraints_.cols_by.end()) {
      policy = kFullCol, forced_by = reads_from_registers(it->second);
    } else if (auto it = constraints_.rows_by.find(C.buffer.get()); it != constraints_.rows_by.end()) {
      policy = kFullRow, forced_by = reads_from_registers(it->second);
    } else if (constraints_.any_register_operand) {
      policy = kFullRow, forced_by = "a gemm of this kernel reads an operand from registers";
    }
    ops::GemmPlan plan = ops::GemmPlan::decode(*op);
    if (const int wm = wgmma_warps_m(*op, plan, *M, *N, policy)) {
      plan.warps_m = wm, plan.warps_n = warps_ / wm, plan.wgmma = true;
    } else {
      std::tie(plan.warps_m, plan.warps_n) = choose(*M, *N, policy, C.buffer->name, forced_by);
    }
    ir::Attrs attrs = op->attrs;
    for (auto& [k, v] : plan.encode()) attrs[k] = v;
    return ir::make_tile_op(op->op, op->regions, op->args, attrs);
  }

  explicit Planner(int sm) : sm_(sm) {}

 private:
  int sm_;
  int warps_ = 1;
  Constraints constraints_;

  // WARPS_M for tl::gemm_ss_wgmma / gemm_rs_wgmma (device/tilescale/gemm_sm90.h) when this gemm
  // can take it, else 0: Hopper; 16-bit operands, or 8-bit floats (fp8 e4m3 / e5m2) with both in
  // shared memory and K-major (A as [M, K], B as [N, K]: transpose_B); B and a shared A in whole
  // 2-D shared tiles whose layouts wgmma's descriptors can read (A may be a 16-bit register
  // fragment: rs); float accumulators; warps that split into whole warpgroups of 64 rows with one
  // wgmma N each. The square policy (in kernels without register operands) takes whatever
  // WARPS_M = M / 16 needs; FullRow, which register operands force, only when all the warps are
  // M / 16 of them. An fp8 gemm that does not fit falls back to mma.sync m16n8k32 (sm_89+), which
  // also needs K-major operands (ops/gemm.cc reports the ones that are not).
  int wgmma_warps_m(const ir::TileOpNode& op, const ops::GemmPlan& plan, std::int64_t M, std::int64_t N, int policy) const {
    const bool free = policy == kSquare && !constraints_.any_register_operand;
    if (sm_ < 90 || in_registers(&op, 1) || !(free || (policy == kFullRow && M == 16 * warps_))) return 0;
    const ir::Region &A = op.regions[0], &B = op.regions[1], &C = op.regions[2];
    auto whole_2d = [](const ir::Region& r) {
      bool whole = r.buffer->scope == ir::Scope::Shared && r.buffer->rank() == 2;
      for (int d = 0; whole && d < 2; ++d)
        whole = ir::as_const_int(r.base[d]) == 0 && ir::as_const_int(r.extent[d]) == ir::as_const_int(r.buffer->shape[d]);
      return whole;
    };
    const DataType in = A.buffer->dtype;
    const bool fp8 = in == DataType::Float8E4M3 || in == DataType::Float8E5M2;
    if ((in != DataType::Float16 && in != DataType::BFloat16 && !fp8) || B.buffer->dtype != in ||
        C.buffer->dtype != DataType::Float32 || !(in_registers(&op, 0) || whole_2d(A)) || !whole_2d(B))
      return 0;
    const bool ta = plan.a == ops::Major::MN, tb = plan.b == ops::Major::K;
    if (ta && in_registers(&op, 0)) return 0;
    if (fp8 && (in_registers(&op, 0) || ta || !tb)) return 0;  // 8-bit wgmma: ss, both K-major
    const auto k_extent = ir::as_const_int(A.extent[ta ? A.rank() - 2 : A.rank() - 1]);
    if (!k_extent) return 0;
    const std::int64_t K = *k_extent, E = bytes(in);
    const std::int64_t wm = M / 16;
    // One wgmma takes 32 bytes of K: 16 elements of 16 bits, 32 of 8 bits.
    if (M % 64 || warps_ % 4 || wm > warps_ || warps_ % wm || (K * E) % 32) return 0;
    const std::int64_t wn = warps_ / wm;
    if (N % wn) return 0;
    const std::int64_t WN = N / wn;
    const bool wgmma_n = WN == 8 || WN == 16 || WN == 32 || WN == 64 || WN == 96 || WN == 128 || WN == 192 || WN == 256;
    // K-major rows of 32 or 64 bytes, or whole 128-byte panels; M/N-major operands in whole panels.
    const bool k_rows = K * E == 32 || K * E == 64 || (K * E) % 128 == 0;
    const bool k_major_operand = (!ta && !in_registers(&op, 0)) || tb;
    if (!wgmma_n || (k_major_operand && !k_rows) || (!tb && (WN * E) % 128)) return 0;
    return static_cast<int>(wm);
  }

  std::pair<int, int> choose(std::int64_t M, std::int64_t N, int policy, const std::string& c, const std::string& forced_by) const {
    std::pair<int, int> best{0, 0};
    double best_score = std::numeric_limits<double>::max();
    for (int wm = 1; wm <= warps_; ++wm) {
      if (warps_ % wm) continue;
      const int wn = warps_ / wm;
      if (policy == kFullRow && wn != 1) continue;
      if (policy == kFullCol && wm != 1) continue;
      if (M % (16 * wm) || N % (16 * wn)) continue;
      const double score = std::abs(std::log(double(M / wm) / double(N / wn)));
      if (score < best_score) best_score = score, best = {wm, wn};
    }
    if (best.first == 0)
      throw CompileError(cat("cannot split the gemm tile ", c, " (", M, " x ", N, ") over ", warps_, " warps",
                             policy == kFullRow ? " stacked along M" : policy == kFullCol ? " stacked along N" : "",
                             forced_by.empty() ? "" : cat(" (", forced_by, ")"),
                             " because each warp needs a multiple of 16 rows and 16 columns; change the tile size",
                             forced_by.empty() ? ", the thread count or the policy" : " or the thread count"));
    return best;
  }
};

}  // namespace

ir::PrimFunc plan_gemm_warps(const ir::PrimFunc& func, int sm) {
  Planner p(sm);
  ir::Stmt body = p.mutate_stmt(func->body);
  return body == func->body ? func : ir::make_prim_func(func->name, func->params, body);
}

}  // namespace tilescale::passes
