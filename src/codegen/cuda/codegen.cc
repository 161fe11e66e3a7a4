#include "codegen/cuda/codegen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "codegen/cuda/dist.h"
#include "codegen/cuda/names.h"
#include "ir/bounds.h"
#include "ir/eval.h"
#include "ir/printer.h"
#include "ir/visitor.h"
#include "layout/layout.h"
#include "ops/builtin.h"
#include "ops/device_builtins.h"
#include "ops/kernel_annotations.h"
#include "ops/thread_level.h"
#include "ops/tile_op.h"
#include "passes/check_budgets.h"
#include "passes/infer_fragment_layouts.h"
#include "passes/plan_shared_memory.h"
#include "passes/plan_parallel_loops.h"
#include "passes/plan_tma_stores.h"
#include "passes/plan_warp_specialization.h"
#include "passes/records.h"
#include "passes/simplify.h"
#include "passes/specialize_warps.h"
#include "passes/tma.h"

namespace tilescale::cuda {

using tilescale::detail::cat;

Target target_for_arch(const std::string& arch) {
  const char* use = "use sm_80, sm_86, sm_87, sm_89 or sm_90a";
  // "sm_", the compute capability (major and minor digits: 80, 90, 100), an optional "a".
  std::size_t end = 3;
  while (end < arch.size() && std::isdigit(static_cast<unsigned char>(arch[end]))) ++end;
  const std::string digits = arch.substr(std::min<std::size_t>(3, arch.size()), end - 3), suffix = arch.substr(end);
  if (arch.rfind("sm_", 0) != 0 || digits.size() < 2 || digits.size() > 3 || digits[0] == '0' || !(suffix.empty() || suffix == "a"))
    throw CompileError(cat("cannot generate CUDA for arch '", arch, "' because it is not of the form sm_XX or sm_XXa; ", use));
  const int sm = std::stoi(digits);
  if (sm < 80)
    throw CompileError(cat("cannot generate CUDA for ", arch, " because tilescale needs sm_80 or newer (cp.async, bf16 mma); ", use));
  if (sm >= 100 && sm < 200)
    throw CompileError(cat("cannot generate CUDA for ", arch, " because it is newer than the architectures tilescale generates "
                           "code for (sm_80 to sm_90a): the Hopper code uses wgmma, which sm_100 and later lack, and "
                           "their own tensor core instructions are not supported yet; ", use,
                           " (on such a GPU, compile for target cpu)"));
  if (sm != 80 && sm != 86 && sm != 87 && sm != 89 && sm != 90)
    throw CompileError(cat("cannot generate CUDA for ", arch, " because tilescale knows no CUDA architecture of that number; ", use));
  if (!suffix.empty() && sm < 90)
    throw CompileError(cat("cannot generate CUDA for ", arch, " because architecture-specific variants (sm_XXa) start at sm_90a; use sm_", sm));
  return Target{sm};
}

namespace {

// Shared memory is one dynamic allocation; beyond these bytes a kernel cannot start.
std::size_t shared_limit(const Target& t) { return passes::shared_memory_limit(t.sm); }

using passes::SharedPlacement;

std::string float_literal(double v, DataType t) {
  if (std::isnan(v)) return t == DataType::Float64 ? "__longlong_as_double(0x7ff8000000000000LL)" : "__int_as_float(0x7fffffff)";
  if (std::isinf(v)) {
    const std::string inf = t == DataType::Float64 ? "__longlong_as_double(0x7ff0000000000000LL)" : "__int_as_float(0x7f800000)";
    return v < 0 ? "(-" + inf + ")" : inf;
  }
  char buf[64];
  if (t == DataType::Float64) {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return t == DataType::Float64 ? s : s + "f";
}

int precedence(ir::BinaryOp op) {
  using B = ir::BinaryOp;
  switch (op) {
    case B::Mul: case B::Div: case B::Mod: return 10;
    case B::Add: case B::Sub: return 9;
    case B::Shl: case B::Shr: return 8;
    case B::LT: case B::LE: case B::GT: case B::GE: return 7;
    case B::EQ: case B::NE: return 6;
    case B::BitAnd: return 5;
    case B::BitXor: return 4;
    case B::BitOr: return 3;
    case B::And: return 2;
    case B::Or: return 1;
    default: return 11;  // printed as calls
  }
}

class Generator : public LowerContext {
 public:
  Generator(const ir::PrimFunc& f, const Target& t, ops::ThreadLevelLog* log) : func_(f), target_(t), log_(log) {}

  KernelSpec run() {
    const auto* kernel = find_kernel(func_->body);
    thread_var_ = kernel->thread_var;
    thread_level_.emplace(*kernel);
    threads_ = kernel->threads;
    for (const auto& v : kernel->block_vars) name_of(v.get(), v->name);
    name_of(thread_var_.get(), "tx");
    ranges_[thread_var_.get()] = {0, threads_ - 1};
    for (int d = 0; d < 3; ++d)
      if (auto g = ir::eval_int(kernel->grid[d])) ranges_[kernel->block_vars[d].get()] = {0, *g - 1};
    collect_annotations(kernel->body);
    // Tensor-map parameters: the loads' (specialize_warps' records, in order), then the stores'.
    for (const auto& m : tensor_maps_) descriptors_.push_back(fresh(cat(func_->params.at(m.param).name(), "_tma")));

    std::ostringstream header;
    header << "// Generated by tilescale from prim_func " << func_->name << ".\n";
    for (const auto& note : notes_) header << "// " << note << "\n";
    for (const char* h : {"common.h", "swizzle.h", "copy_sm80.h", "ldsm.h", "mma_sm80.h", "gemm_sm80.h", "reduce.h", "kernel.h"})
      header << "#include \"tilescale/" << h << "\"\n";
    if (target_.sm >= 90) header << "#include \"tilescale/gemm_sm90.h\"\n";
    if (!tensor_maps_.empty()) header << "#include \"tilescale/tma.h\"\n";
    header << dist_includes(func_, target_) << "\n";

    emit_signature(*kernel);
    indent_ = 1;
    line("extern __shared__ __align__(1024) unsigned char smem[];");
    line("const int tx = threadIdx.x;");
    if (persistent_)
      line(cat("const int ts_grid_x = ", print(kernel->grid[0], 0), ", ts_grid_y = ", print(kernel->grid[1], 0), ", ts_grid_z = ",
               print(kernel->grid[2], 0), ";"));
    else
      emit_block_indices(*kernel, "");
    emit_stmt(kernel->body);
    indent_ = 0;
    line("}");

    KernelSpec spec;
    spec.name = func_->name;
    spec.symbol = name_of(func_.get(), func_->name);
    spec.source = header.str() + out_.str();
    spec.func = func_;
    spec.grid = kernel->grid;
    spec.threads = kernel->threads;
    spec.shared_bytes = static_cast<std::size_t>(shared_total_) + workspace_bytes_;
    spec.tensor_maps = tensor_maps_;
    spec.distributed = is_distributed(func_);
    spec.nvshmem = calls_nvshmem(func_, target_);
    spec.waits = ops::uses_blocking_builtins(func_->body);
    spec.persistent = persistent_;
    if (pipeline_barriers_) spec.pipeline_barriers = shared_.at(pipeline_barriers_).offset, spec.pipeline_stages = pipeline_stages_;
    if (spec.shared_bytes > shared_limit(target_))
      throw CompileError(cat("cannot compile ", func_->name, " for ", target_.arch(), " because it needs ", spec.shared_bytes,
                             " bytes of shared memory and the device allows ", shared_limit(target_),
                             "; reduce the tile sizes or num_stages"));
    return spec;
  }

  // ---- LowerContext --------------------------------------------------------------------------

  void emit(const ir::Stmt& s) override {
    // The lowering's own branches are not the program's: the thread-level log (which the CPU
    // backend's decisions are checked against) leaves them out.
    ops::ThreadLevelLog* log = std::exchange(log_, nullptr);
    emitted_.push_back(s);  // names are keyed by address: its variables and buffers stay alive
    emit_stmt(s);
    log_ = log;
  }
  ir::Buffer registers(const ir::BufferNode& b) override {
    auto [it, fresh] = register_arrays_.try_emplace(&b);
    if (fresh) {
      it->second = ir::make_buffer(b.name, {ir::make_int(fragment(b).registers)}, b.dtype, ir::Scope::Local);
      names_[it->second.get()] = name_of(&b, b.name);
    }
    return it->second;
  }
  void line(const std::string& text) { out_ << std::string(2 * indent_, ' ') << text << "\n"; }
  void open(const std::string& text) {
    line(text.empty() ? "{" : text + " {");
    ++indent_;
  }
  void close() {
    --indent_;
    line("}");
  }
  std::string fresh(const std::string& prefix) { return claim(cat(prefix, "_", counter_++)); }
  ir::Var fresh_var(const std::string& prefix) {
    const std::string n = fresh(prefix);
    ir::Var v = ir::make_var(n);
    named_vars_.push_back(v);  // names are keyed by address: keep it alive
    names_[v.get()] = n;
    return v;
  }
  const ir::Var& thread_var() const override { return thread_var_; }
  int threads() const override { return threads_; }
  std::string barrier() const {
    return role_barrier_ ? cat("tl::named_barrier_sync<", role_barrier_, ", ", threads_, ">();") : "__syncthreads();";
  }
  const Target& target() const override { return target_; }
  bool in_async_producer() const override { return async_producer_; }
  bool provably(const ir::Expr& cond) const override { return ir::provably(passes::simplify(cond), ranges_); }
  void set_range(const ir::Var& v, std::int64_t lo, std::int64_t hi, std::int64_t multiple) override {
    ranges_[v.get()] = {lo, hi, multiple};
  }

  std::string expr(const ir::Expr& e) override { return print(passes::simplify(e), 0); }

  std::string pointer(const ir::BufferNode& b) override {
    if (auto it = stage_pointer_.find(&b); it != stage_pointer_.end()) return it->second;
    return name_of(&b, b.name);
  }

  std::string element(const ir::BufferNode& b, const std::vector<ir::Expr>& raw_index) override {
    std::vector<ir::Expr> index;
    for (const auto& e : raw_index) index.push_back(passes::simplify(e));
    TS_ICHECK(static_cast<int>(index.size()) == b.rank(), "element of ", b.name, " with ", index.size(), " indices");
    switch (b.scope) {
      case ir::Scope::Global: {
        std::string off;
        for (int d = 0; d < b.rank(); ++d) {
          std::string term = d == b.rank() - 1 ? print(index[d], 9) : cat(print(index[d], 10), " * ", stride_name(b, d));
          off += (d ? " + " : "") + term;
        }
        return cat(pointer(b), "[", off.empty() ? "0" : off, "]");
      }
      case ir::Scope::Shared: return cat(pointer(b), "[", shared_offset(b, index), "]");
      case ir::Scope::Local: return cat(pointer(b), "[", print(flat_index(b, index), 0), "]");
      case ir::Scope::Var: return pointer(b);
      case ir::Scope::Fragment: {
        const FragmentInfo& f = fragment(b);
        TS_ICHECK(f.family == "replicated", "fragment ", b.name, " accessed element by element outside a T::Parallel loop "
                                            "(plan_parallel_loops refuses that)");
        return cat(pointer(b), "[", print(flat_index(b, index), 0), "]");
      }
    }
    return "";
  }

  ir::Expr extent(const ir::BufferNode& b, int dim) override { return b.shape[dim]; }
  ir::Expr stride(const ir::BufferNode& b, int dim) override {
    auto [it, fresh] = strides_.try_emplace({&b, dim});
    if (fresh) {
      it->second = ir::make_var(stride_name(b, dim), DataType::Int64);
      names_[it->second.get()] = stride_name(b, dim);
    }
    return it->second;
  }

  const FragmentInfo& fragment(const ir::BufferNode& b) override {
    auto it = fragments_.find(&b);
    TS_ICHECK(it != fragments_.end(), "fragment ", b.name, " has no layout");
    return it->second;
  }

  std::string workspace(std::size_t bytes) override {
    workspace_bytes_ = std::max(workspace_bytes_, (bytes + 127) / 128 * 128);
    return cat("(smem + ", shared_total_, ")");
  }
  ir::Buffer scratch(const std::string& workspace, std::int64_t offset, DataType t, std::int64_t elements) override {
    const ir::Buffer b = ir::make_buffer("ws", {ir::make_int(elements)}, t, ir::Scope::Shared);
    scratch_.push_back(b);  // names are keyed by address: it stays alive
    const std::string n = name_of(b.get(), b->name);
    line(cat(c_type(t), "* ", n, " = reinterpret_cast<", c_type(t), "*>(", workspace, offset ? cat(" + ", offset) : "", ");"));
    return b;
  }

 private:
  const ir::PrimFunc& func_;
  Target target_;
  std::ostringstream out_;
  int indent_ = 0;
  int counter_ = 0;
  ir::Var thread_var_;
  int threads_ = 0;
  std::map<const void*, std::string> names_;
  std::map<std::pair<const ir::BufferNode*, int>, std::string> stride_names_;
  std::vector<ir::Expr> named_vars_;
  std::set<std::string> used_names_;
  std::map<const ir::BufferNode*, FragmentInfo> fragments_;
  std::map<const ir::BufferNode*, SharedPlacement> shared_;
  std::int64_t shared_total_ = 0;
  std::int64_t min_blocks_per_sm_ = 0;  // the min_blocks_per_sm record (T::min_blocks_per_sm, or specialize_warps'), 0 when none
  bool persistent_ = false;             // T::persistent
  std::size_t workspace_bytes_ = 0;
  std::map<const ir::BufferNode*, std::string> stage_pointer_;
  // The scratch views the lowerings asked for (scratch()).
  std::vector<ir::Buffer> scratch_;
  // The IR the lowerings built and emit() printed.
  std::vector<ir::Stmt> emitted_;
  // Each global tensor's strides as variables, as the lowerings that build IR name them (stride()).
  std::map<std::pair<const ir::BufferNode*, int>, ir::Var> strides_;
  // Each fragment's register array, as the lowerings that build IR address it (registers()).
  std::map<const ir::BufferNode*, ir::Buffer> register_arrays_;
  bool async_producer_ = false;  // inside an async_copies scope
  // Why a copy that could have gone by TMA does not, as comments at the top of the source (what
  // `tilescale dump --cuda` shows a user looking for the fast path).
  std::vector<std::string> notes_;
  // Tensor maps the kernel takes for its TMA loads and stores (specialize_warps' and
  // expand_tma_stores' records, in the order their calls' `map` counts) and their parameters.
  std::vector<TensorMapSpec> tensor_maps_;
  std::vector<std::string> descriptors_;
  // The warp-specialized pipeline's mbarriers (specialize_warps' record), for the hang report.
  const ir::BufferNode* pipeline_barriers_ = nullptr;
  int pipeline_stages_ = 0;
  // Inside a warp role: its block-wide named barrier (0: __syncthreads). threads_ is the role's.
  int role_barrier_ = 0;
  // What each variable can be (block and thread indices, loop variables), for dropping checks.
  ir::VarRanges ranges_;
  // Variables that differ between threads (the thread index, loops over it).
  std::optional<ops::ThreadLevel> thread_level_;
  ops::ThreadLevelLog* log_;
  int divergent_depth_ = 0;

  static const ir::KernelNode* find_kernel(const ir::Stmt& s) {
    if (auto* k = ir::as<ir::KernelNode>(s)) return k;
    if (auto* seq = ir::as<ir::SeqNode>(s))
      for (const auto& c : seq->stmts)
        if (auto* k = find_kernel(c)) return k;
    throw InternalError("no kernel in the program");
  }

  // ---- names ---------------------------------------------------------------------------------

  // The identifier of `key` (a buffer, variable or the kernel) in the source: `wanted` as a valid
  // identifier, unique, clear of reserved names (names.h); the thread index alone is `tx`.
  std::string name_of(const void* key, const std::string& wanted) {
    if (auto it = names_.find(key); it != names_.end()) return it->second;
    if (key == thread_var_.get()) {  // named first: the body declares `const int tx = threadIdx.x`
      TS_ICHECK(used_names_.insert("tx").second, "the thread index's name tx is taken in ", func_->name);
      return names_[key] = "tx";
    }
    return names_[key] = claim(wanted);
  }

  // A fresh identifier like `wanted`: other characters become '_', and a suffix _1, _2... is added
  // while it is taken or reserved. Every name in the source (user names, strides, fresh names)
  // passes here once, so none can collide with another.
  std::string claim(const std::string& wanted) {
    std::string base;
    for (char ch : wanted) base += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ? ch : '_';
    // A name reserved by its prefix (ts_...) stays reserved with any suffix.
    if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0])) || reserved_identifier(base + "_1")) base = "v_" + base;
    std::string n = base;
    for (int k = 1; used_names_.count(n) || reserved_identifier(n); ++k) n = cat(base, "_", k);
    used_names_.insert(n);
    return n;
  }

  std::string stride_name(const ir::BufferNode& b, int d) {
    auto [it, fresh] = stride_names_.try_emplace({&b, d});
    if (fresh) it->second = claim(cat(name_of(&b, b.name), "_stride", d));
    return it->second;
  }

  // ---- annotations -----------------------------------------------------------------------------

  void collect_annotations(const ir::Stmt& body) {
    struct Collector : ir::Visitor {
      Generator* g;
      void visit(const ir::AnnotateNode* op) override {
        if (auto r = passes::FragmentLayoutRecord::decode(*op)) {
          g->fragments_[op->buffer.get()] =
              FragmentInfo{r->layout, r->family, r->M, r->warps_m, r->warps_n, static_cast<int>(r->layout->register_count())};
        } else if (auto placement = SharedPlacement::decode(*op)) {
          g->shared_[op->buffer.get()] = *placement;
        } else if (ops::Persistent::decode(*op)) {
          g->persistent_ = true;
        } else if (auto m = ops::MinBlocksPerSm::decode(*op)) {
          g->min_blocks_per_sm_ = m->blocks;
        } else if (auto total = passes::SharedMemoryTotal::decode(*op)) {
          g->shared_total_ = total->bytes;
        } else if (auto no = passes::NoTmaStore::decode(*op)) {
          g->notes_.push_back(no->reason);  // for the header
        } else if (auto no = passes::NoWarpSpecialization::decode(*op)) {
          g->notes_.push_back(no->reason);  // for the header
        } else if (auto map = TensorMapSpec::decode(*op)) {
          g->tensor_maps_.push_back(*map);
        } else if (auto barriers = passes::PipelineBarriers::decode(*op)) {
          g->pipeline_barriers_ = op->buffer.get();
          g->pipeline_stages_ = static_cast<int>(barriers->stages);
        }
      }
    } c;
    c.g = this;
    c.visit_stmt(body);
  }

  // ---- signature and prologue -------------------------------------------------------------------

  void emit_signature(const ir::KernelNode& k) {
    // Which tensors the kernel writes, to mark the rest const.
    const std::set<const ir::BufferNode*> written = ops::written_buffers(k.body);
    const bool dist = is_distributed(func_);  // peers write the tensors: plain pointers (dist.h)
    std::vector<std::string> params;
    for (const auto& p : func_->params) {
      if (!p.tensor) continue;
      const bool ro = !written.count(p.tensor.get()) && !dist;
      params.push_back(cat(ro ? "const " : "", c_type(p.dtype()), dist ? "* " : "* __restrict__ ", name_of(p.tensor.get(), p.name())));
    }
    for (const auto& v : func_->symbolic_dims()) params.push_back(cat(c_type(v->dtype), " ", name_of(v.get(), v->name)));
    for (const auto& p : func_->params)
      if (p.scalar) params.push_back(cat(c_type(p.dtype()), " ", name_of(p.scalar.get(), p.name())));
    for (const auto& p : func_->params)
      for (int d = 0; p.tensor && d + 1 < p.tensor->rank(); ++d) params.push_back(cat("long long ", stride_name(*p.tensor, d)));
    if (dist) params.push_back(dist_context_param());
    for (const auto& d : descriptors_) params.push_back(cat("const __grid_constant__ tl::TmaDescriptor ", d));
    // ptxas ignores, with a warning nobody sees, an occupancy no SM can reach.
    constexpr int kThreadsPerSm = 2048, kBlocksPerSm = 32;  // sm_80 and sm_90
    const std::int64_t most = std::min<std::int64_t>(kBlocksPerSm, kThreadsPerSm / threads_);
    if (min_blocks_per_sm_ > most)
      throw CompileError(cat("cannot compile ", func_->name, " with T::min_blocks_per_sm(", min_blocks_per_sm_, ") because an SM holds at most ",
                             most, " blocks of ", threads_, " threads (", kThreadsPerSm, " threads, ", kBlocksPerSm,
                             " blocks); ask for at most ", most));
    // A warp-specialized kernel fixes its register count at entry (its min_blocks_per_sm record),
    // which setmaxnreg needs.
    const std::string bounds = min_blocks_per_sm_ ? cat(threads_, ", ", min_blocks_per_sm_) : cat(threads_);
    std::string sig = cat("extern \"C\" __global__ void __launch_bounds__(", bounds, ") ", name_of(func_.get(), func_->name), "(");
    for (size_t i = 0; i < params.size(); ++i) sig += (i ? ", " : "") + params[i];
    line(sig + ") {");
  }

  // The block indices, from blockIdx or, in a persistent kernel, from the linear grid point `linear`.
  void emit_block_indices(const ir::KernelNode& k, const std::string& linear) {
    const std::string bx = name_of(k.block_vars[0].get(), "bx"), by = name_of(k.block_vars[1].get(), "by"),
                      bz = name_of(k.block_vars[2].get(), "bz");
    struct Swizzle : ir::Visitor {
      std::optional<ops::BlockSwizzle> found;
      void visit(const ir::AnnotateNode* op) override {
        if (auto s = ops::BlockSwizzle::decode(*op)) found = s;
      }
    } s;
    s.visit_stmt(k.body);
    const std::string plane = "(ts_grid_x * ts_grid_y)";
    const std::string z = linear.empty() ? "blockIdx.z" : cat(linear, " / ", plane);
    if (!s.found) {
      if (linear.empty()) line(cat("[[maybe_unused]] const int ", bx, " = blockIdx.x, ", by, " = blockIdx.y, ", bz, " = blockIdx.z;"));
      else line(cat("[[maybe_unused]] const int ", bx, " = ", linear, " % ts_grid_x, ", by, " = ", linear, " / ts_grid_x % ts_grid_y, ", bz, " = ", z, ";"));
      return;
    }
    const std::string args = cat(s.found->panel_size, ", ", s.found->column_major ? "true" : "false");
    line(cat("const int2 raster = tl::rasterize(", linear.empty() ? args : cat(linear, " % ", plane, ", ts_grid_x, ts_grid_y, ", args), ");"));
    line(cat("[[maybe_unused]] const int ", bx, " = raster.x, ", by, " = raster.y, ", bz, " = ", z, ";"));
  }

  // ---- expressions -----------------------------------------------------------------------------

  std::string print(const ir::Expr& e, int parent) {
    switch (e->kind) {
      case ir::ExprKind::IntImm: {
        const auto v = ir::as<ir::IntImmNode>(e)->value;
        switch (e->dtype) {
          case DataType::Bool: return v ? "true" : "false";
          case DataType::Int64: return cat(v, "LL");
          case DataType::UInt64: return cat(static_cast<std::uint64_t>(v), "ULL");
          case DataType::UInt32: return cat(v, "u");
          case DataType::Int32: return v < 0 && parent > 0 ? cat("(", v, ")") : cat(v);
          default: return cat("((", c_type(e->dtype), ")", v, ")");
        }
      }
      case ir::ExprKind::FloatImm: {
        const double v = ir::as<ir::FloatImmNode>(e)->value;
        if (e->dtype == DataType::Float32 || e->dtype == DataType::Float64) {
          std::string s = float_literal(v, e->dtype);
          return v < 0 && parent > 0 ? "(" + s + ")" : s;
        }
        return cat("tl::cast<", c_type(e->dtype), ">(", float_literal(v, DataType::Float32), ")");
      }
      case ir::ExprKind::Var: {
        const auto* v = ir::as<ir::VarNode>(e);
        // Names are keyed by address: keep the variable alive so no later one reuses its address.
        if (!names_.count(v)) named_vars_.push_back(e);
        return name_of(v, v->name);
      }
      case ir::ExprKind::Binary: return binary(*ir::as<ir::BinaryNode>(e), parent);
      case ir::ExprKind::Unary: {
        const auto* u = ir::as<ir::UnaryNode>(e);
        return cat(ir::spelling(u->op), print(u->a, 11));
      }
      case ir::ExprKind::Cast: {
        const auto* c = ir::as<ir::CastNode>(e);
        // Between integers tl::cast is the C conversion: spelled as one, index arithmetic stays readable.
        if (is_integer(e->dtype) && is_integer(c->value->dtype)) return cat("(", c_type(e->dtype), ")", print(c->value, 11));
        return cat("tl::cast<", c_type(e->dtype), ">(", print(c->value, 0), ")");
      }
      case ir::ExprKind::Call: return call(*ir::as<ir::CallNode>(e));
      case ir::ExprKind::Load: {
        const auto* l = ir::as<ir::LoadNode>(e);
        return element(*l->buffer, l->indices);
      }
      case ir::ExprKind::Select: {
        const auto* s = ir::as<ir::SelectNode>(e);
        return cat("(", print(s->cond, 0), " ? ", print(s->true_value, 0), " : ", print(s->false_value, 0), ")");
      }
      case ir::ExprKind::Builtin: {
        const auto& call = *ir::as<ir::BuiltinNode>(e);
        return ops::find_device_builtin(call.op) ? device_call(call) : lower_builtin(call, *this);
      }
    }
    return "";
  }

  std::string binary(const ir::BinaryNode& b, int parent) {
    using B = ir::BinaryOp;
    const DataType t = b.a->dtype;
    const bool fp8 = t == DataType::Float8E4M3 || t == DataType::Float8E5M2;
    auto operand = [&](const ir::Expr& x, int prec) {
      return fp8 ? cat("tl::cast<float>(", print(x, 0), ")") : print(x, prec);
    };
    switch (b.op) {
      case B::Min:
      case B::Max: {
        const bool mx = b.op == B::Max;
        std::string fn = t == DataType::Float32 ? (mx ? "fmaxf" : "fminf")
                         : t == DataType::Float64 ? (mx ? "fmax" : "fmin")
                         : (t == DataType::Float16 || t == DataType::BFloat16) ? (mx ? "__hmax" : "__hmin")
                                                                                : (mx ? "max" : "min");
        std::string s = cat(fn, "(", operand(b.a, 0), ", ", operand(b.b, 0), ")");
        return fp8 ? cat("tl::cast<", c_type(t), ">(", s, ")") : s;
      }
      case B::FloorDiv: return cat("tl::floordiv(", print(b.a, 0), ", ", print(b.b, 0), ")");
      case B::FloorMod: return cat("tl::floormod(", print(b.a, 0), ", ", print(b.b, 0), ")");
      default: break;
    }
    if (is_float(t) && b.op == B::Mod) return cat("tl::cast<", c_type(t), ">(fmodf(tl::cast<float>(", print(b.a, 0), "), tl::cast<float>(", print(b.b, 0), ")))");
    const int p = precedence(b.op);
    std::string s = cat(operand(b.a, p), " ", ir::spelling(b.op), " ", operand(b.b, p + 1));
    if (fp8 && !ir::is_comparison(b.op)) s = cat("tl::cast<", c_type(t), ">(", s, ")");
    return p < parent ? "(" + s + ")" : s;
  }

  std::string call(const ir::CallNode& c) {
    const DataType t = c.dtype;
    const char* f32 = nullptr;
    const char* f64 = nullptr;
    switch (c.op) {
      case ir::Intrinsic::Exp: f32 = "expf", f64 = "exp"; break;
      case ir::Intrinsic::Exp2: f32 = "tl::fast_exp2", f64 = "exp2"; break;
      case ir::Intrinsic::Log: f32 = "logf", f64 = "log"; break;
      case ir::Intrinsic::Log2: f32 = "log2f", f64 = "log2"; break;
      case ir::Intrinsic::Sqrt: f32 = "sqrtf", f64 = "sqrt"; break;
      case ir::Intrinsic::Rsqrt: f32 = "rsqrtf", f64 = "rsqrt"; break;
      case ir::Intrinsic::Abs: f32 = "fabsf", f64 = "fabs"; break;
      case ir::Intrinsic::Floor: f32 = "floorf", f64 = "floor"; break;
      case ir::Intrinsic::Ceil: f32 = "ceilf", f64 = "ceil"; break;
      case ir::Intrinsic::Sin: f32 = "sinf", f64 = "sin"; break;
      case ir::Intrinsic::Cos: f32 = "cosf", f64 = "cos"; break;
      case ir::Intrinsic::Tanh: f32 = "tanhf", f64 = "tanh"; break;
      case ir::Intrinsic::Sigmoid: f32 = "tl::sigmoid", f64 = "tl::sigmoid"; break;
      case ir::Intrinsic::Pow: f32 = "powf", f64 = "pow"; break;
    }
    if (!is_float(t)) return cat(t == DataType::Int64 ? "llabs(" : "abs(", print(c.args[0], 0), ")");
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(t == DataType::Float32 || t == DataType::Float64 ? print(a, 0) : cat("tl::cast<float>(", print(a, 0), ")"));
    std::string s = cat(t == DataType::Float64 ? f64 : f32, "(", args[0], args.size() > 1 ? ", " + args[1] : "", ")");
    return t == DataType::Float32 || t == DataType::Float64 ? s : cat("tl::cast<", c_type(t), ">(", s, ")");
  }

  ir::Expr flat_index(const ir::BufferNode& b, const std::vector<ir::Expr>& idx) {
    ir::Expr flat = ir::make_int(0);
    for (int d = 0; d < b.rank(); ++d)
      flat = ir::make_binary(ir::BinaryOp::Add, ir::make_binary(ir::BinaryOp::Mul, flat, ir::make_cast(DataType::Int32, b.shape[d])),
                             ir::make_cast(DataType::Int32, idx[d]));
    return passes::simplify(flat);
  }

  // Shared tiles are row-major with the 16-byte-chunk XOR swizzle of device/tilescale/swizzle.h;
  // leading dimensions fold into rows.
  std::string shared_offset(const ir::BufferNode& b, const std::vector<ir::Expr>& idx) {
    if (b.rank() == 1) return print(idx[0], 0);
    ir::Expr row = ir::make_cast(DataType::Int32, idx[0]);
    for (int d = 1; d + 1 < b.rank(); ++d)
      row = ir::make_binary(ir::BinaryOp::Add, ir::make_binary(ir::BinaryOp::Mul, row, b.shape[d]), ir::make_cast(DataType::Int32, idx[d]));
    const auto cols = *ir::as_const_int(b.shape.back());
    std::int64_t rows = 1;
    for (int d = 0; d + 1 < b.rank(); ++d) rows *= *ir::as_const_int(b.shape[d]);
    return cat("tl::swizzle<", rows, ", ", cols, ", ", bytes(b.dtype), ">(", print(row, 0), ", ",
               print(ir::make_cast(DataType::Int32, idx.back()), 0), ")");
  }

  // ---- statements ------------------------------------------------------------------------------

  // Whether a For, If or While diverges between the block's threads (no barrier inside it).
  bool diverges(const ir::StmtNode& s) {
    const bool d = thread_level_->diverges(s);
    if (log_) log_->push_back(ops::decision(s, d));
    return d;
  }

  void emit_seq(const std::vector<ir::Stmt>& stmts) {
    for (size_t i = 0; i < stmts.size(); ++i) {
      const auto* role = ir::as<ir::ScopedNode>(stmts[i]);
      const auto* other = i + 1 < stmts.size() ? ir::as<ir::ScopedNode>(stmts[i + 1]) : nullptr;
      if (role && role->key == "warp_role" && other && other->key == "warp_role") {
        emit_warp_roles(*role, *other);
        ++i;
        continue;
      }
      emit_stmt(stmts[i]);
    }
  }

  void emit_stmt(const ir::Stmt& s) {
    switch (s->kind) {
      case ir::StmtKind::Seq: return emit_seq(ir::as<ir::SeqNode>(s)->stmts);
      case ir::StmtKind::Alloc: return emit_alloc(*ir::as<ir::AllocNode>(s)->buffer);
      case ir::StmtKind::Annotate: return;
      case ir::StmtKind::Store: {
        const auto* st = ir::as<ir::StoreNode>(s);
        std::string lhs = element(*st->buffer, st->indices);
        return line(cat(lhs, " = ", print(st->value, 0), ";"));
      }
      case ir::StmtKind::For: return emit_for(*ir::as<ir::ForNode>(s));
      case ir::StmtKind::If: {
        const auto* i = ir::as<ir::IfNode>(s);
        const bool div = diverges(*i);
        divergent_depth_ += div;
        open(cat("if (", print(i->cond, 0), ")"));
        emit_stmt(i->then_case);
        if (i->else_case) {
          --indent_;
          line("} else {");
          ++indent_;
          emit_stmt(i->else_case);
        }
        close();
        divergent_depth_ -= div;
        return;
      }
      case ir::StmtKind::While: {
        const auto* w = ir::as<ir::WhileNode>(s);
        const bool div = diverges(*w);
        divergent_depth_ += div;
        open(cat("while (", print(w->cond, 0), ")"));
        emit_stmt(w->body);
        close();
        divergent_depth_ -= div;
        return;
      }
      case ir::StmtKind::Break: return line("break;");
      case ir::StmtKind::Kernel: throw InternalError("nested kernel");
      case ir::StmtKind::TileOp: {
        const auto* op = ir::as<ir::TileOpNode>(s);
        TS_ICHECK(divergent_depth_ == 0 || ops::is_element_atomic_add(*op),
                  "T::", op->op, " under diverging control flow passed the verifier");
        const ops::TileOpDef& def = ops::tile_op(op->op);
        TS_ICHECK(def.lower_cuda, "T::", op->op, " reached the CUDA generator (lower_tile_ops lowers it)");
        open("");  // each op in its own scope, so its temporaries stay local
        def.lower_cuda(*op, *this);
        close();
        return;
      }
      case ir::StmtKind::Assert: {
        const auto* a = ir::as<ir::AssertNode>(s);
        open(cat("if (!(", print(a->cond, 0), "))"));
        line(cat("printf(\"device_assert failed in ", func_->name, " block (%d, %d, %d) thread %d: %s\\n\", blockIdx.x, blockIdx.y, blockIdx.z, tx, ", quoted(a->message), ");"));
        line("__trap();");
        close();
        return;
      }
      case ir::StmtKind::Print: return emit_print(*ir::as<ir::PrintNode>(s));
      case ir::StmtKind::Evaluate: {
        const auto& call = *ir::as<ir::BuiltinNode>(ir::as<ir::EvaluateNode>(s)->value);
        const ops::DeviceBuiltin* d = ops::find_device_builtin(call.op);
        // A block barrier: __syncthreads, or in a warp role its named barrier.
        if (d && d->sync == ops::Sync::Barrier && d->executor == ops::Executor::Block) return line(barrier());
        return line(print(ir::as<ir::EvaluateNode>(s)->value, 0) + ";");
      }
      case ir::StmtKind::Scoped: return emit_scoped(*ir::as<ir::ScopedNode>(s));
    }
  }

  static std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') out += '\\';
      if (ch == '\n') out += "\\n";
      else if (ch == '%') out += "%%";
      else out += ch;
    }
    return out + "\"";
  }

  void emit_print(const ir::PrintNode& p) {
    if (p.value) {
      const bool fl = is_float(p.value->dtype);
      open(cat("if (tx == 0)"));
      line(cat("printf(\"[block (%d, %d, %d)] %s: ", fl ? "%f" : "%lld", "\\n\", blockIdx.x, blockIdx.y, blockIdx.z, ",
               quoted(p.message), ", ", fl ? cat("(double)tl::cast<float>(", print(p.value, 0), ")") : cat("(long long)(", print(p.value, 0), ")"), ");"));
      close();
      return;
    }
    const ir::BufferNode& b = *p.buffer;
    if (b.scope == ir::Scope::Fragment) {
      const FragmentInfo& f = fragment(b);
      open(cat("for (int r = 0; r < ", f.registers, "; ++r)"));
      line(cat("printf(\"[block (%d, %d, %d) thread %d] %s: %s register %d = %f\\n\", blockIdx.x, blockIdx.y, blockIdx.z, tx, ",
               quoted(p.message), ", ", quoted(b.name), ", r, (double)tl::cast<float>(", pointer(b), "[r]));"));
      close();
      return;
    }
    std::int64_t n = 1;
    for (const auto& d : b.shape) {
      auto c = ir::as_const_int(d);
      if (!c) throw CompileError(cat("cannot T::print ", b.name, " on CUDA because its shape is symbolic; print a tile of it"));
      n *= *c;
    }
    open("if (tx == 0)");
    ir::Var e = fresh_var("e");
    const std::string en = name_of(e.get(), e->name);
    open(cat("for (int ", en, " = 0; ", en, " < ", n, "; ++", en, ")"));
    std::vector<ir::Expr> idx;
    std::int64_t stride = n;
    for (int d = 0; d < b.rank(); ++d) {
      stride /= *ir::as_const_int(b.shape[d]);
      idx.push_back(ir::make_binary(ir::BinaryOp::Mod, ir::make_binary(ir::BinaryOp::Div, e, ir::make_int(stride)), b.shape[d]));
    }
    line(cat("printf(\"[block (%d, %d, %d)] %s: %s[%d] = %f\\n\", blockIdx.x, blockIdx.y, blockIdx.z, ", quoted(p.message),
             ", ", quoted(b.name), ", ", en, ", (double)tl::cast<float>(", element(b, idx), "));"));
    close();
    close();
  }

  void emit_alloc(const ir::BufferNode& b) {
    const std::string n = name_of(&b, b.name);
    const char* t = c_type(b.dtype);
    switch (b.scope) {
      case ir::Scope::Shared: {
        auto it = shared_.find(&b);
        if (it == shared_.end())
          throw CompileError(cat("cannot place shared buffer ", b.name, " because it is allocated inside a loop or branch; "
                                 "allocate shared buffers at the top of the T::Kernel body"));
        return line(cat(t, "* ", n, " = reinterpret_cast<", t, "*>(smem + ", it->second.offset, ");"));
      }
      case ir::Scope::Fragment: {
        // check_budgets counted the fragment spread evenly; its layout may replicate elements.
        const std::int64_t elements = fragment(b).registers, registers = (elements * bytes(b.dtype) + 3) / 4;
        if (registers > passes::kFragmentRegisterBudget)
          throw CompileError(cat("cannot allocate fragment ", b.name, " in ", func_->name, " because its layout (",
                                 fragment(b).family, ") gives each thread ", elements, " elements, ", registers,
                                 " registers, more than the ", passes::kFragmentRegisterBudget,
                                 " a fragment may take; use smaller tiles or more threads"));
        return line(cat(t, " ", n, "[", elements, "];"));
      }
      case ir::Scope::Var: return line(cat(t, " ", n, ";"));
      case ir::Scope::Local: {
        std::int64_t numel = 1;
        for (const auto& d : b.shape) numel *= *ir::as_const_int(d);
        return line(cat(t, " ", n, "[", numel, "];"));
      }
      case ir::Scope::Global: throw InternalError("alloc of a global buffer");
    }
  }

  void emit_for(const ir::ForNode& f) {
    TS_ICHECK(f.for_kind != ir::ForKind::Parallel, "T::Parallel loop ", f.var->name, " without its parallel_over scope");
    TS_ICHECK(f.for_kind != ir::ForKind::Pipelined || f.pipeline.num_stages < 2, "multistage loop ", f.var->name, " not expanded");
    const std::string v = name_of(f.var.get(), f.var->name);
    set_loop_range(*f.var, f.min, f.extent);
    const bool div = diverges(f);
    divergent_depth_ += div;
    if (f.for_kind == ir::ForKind::Unrolled) line("#pragma unroll");
    if (f.for_kind == ir::ForKind::Rolled) line("#pragma unroll 1");
    const std::string mn = print(f.min, 0);
    const std::string end = ir::as_const_int(f.min) == 0 ? print(f.extent, 7) : cat(print(f.min, 9), " + ", print(f.extent, 10));
    open(cat("for (", c_type(f.var->dtype), " ", v, " = ", mn, "; ", v, " < ", end, "; ++", v, ")"));
    emit_stmt(f.body);
    close();
    divergent_depth_ -= div;
  }

  // `v` takes values of [min, min + extent).
  void set_loop_range(const ir::VarNode& v, const ir::Expr& min, const ir::Expr& extent) {
    const auto mn = ir::bounds_of(min, ranges_), ext = ir::bounds_of(extent, ranges_);
    if (mn && ext && ext->hi >= 1) ranges_[&v] = {mn->lo, mn->hi + ext->hi - 1};
  }

  // ---- Parallel --------------------------------------------------------------------------------

  // A Parallel nest in its `parallel_over` scope (passes/plan_parallel_loops.h), which checked it,
  // expanded into thread-level IR and printed: per register of its anchor, the body for the
  // element each thread owns there (a `unit`, or an `if` on the register's guard), loop variables
  // replaced by expressions of the thread index, fragment accesses by registers of the fragments'
  // arrays (LowerContext::registers).
  void emit_parallel(const ir::ScopedNode& over) {
    TS_ICHECK(divergent_depth_ == 0, "a T::Parallel loop under diverging control flow passed the verifier");
    const passes::ParallelNest nest(*ir::as<ir::ForNode>(over.body));
    // The body's own branches and loops, as the program wrote them, for the thread-level log (the
    // expansion below prints rewritten copies, which are not logged).
    if (log_) {
      struct Branches : ir::Visitor {
        Generator* g;
        void visit(const ir::ForNode* op) override {
          g->diverges(*op);
          Visitor::visit(op);
        }
        void visit(const ir::IfNode* op) override {
          g->diverges(*op);
          Visitor::visit(op);
        }
        void visit(const ir::WhileNode* op) override {
          g->diverges(*op);
          Visitor::visit(op);
        }
      } branches;
      branches.g = this;
      branches.visit_stmt(nest.body);
    }
    passes::ParallelAnchor anchor;
    if (over.args.empty()) {
      std::vector<std::int64_t> extents;
      for (const auto* l : nest.loops) extents.push_back(*ir::as_const_int(l->extent));
      anchor = {layout::partition(extents, scope_attr(over, "threads"), 1), "the default partition"};
    } else {
      const ir::BufferNode& b = *ir::as<ir::LoadNode>(over.args[0])->buffer;
      anchor = {fragment(b).layout, b.name};
    }
    // The (access, register) pairs whose register differs between threads (the pass's record).
    std::set<std::pair<std::int64_t, std::int64_t>> dynamic;
    if (auto it = over.attrs.find("dynamic"); it != over.attrs.end()) {
      const auto& pairs = std::get<std::vector<std::int64_t>>(it->second);
      for (size_t i = 0; i + 1 < pairs.size(); i += 2) dynamic.insert({pairs[i], pairs[i + 1]});
    }
    const std::int64_t registers = anchor.layout->register_count();  // enumerates the layout: once
    for (std::int64_t reg = 0; reg < registers; ++reg) {
      const auto owned = anchor.layout->owned(thread_var_, ir::make_int(reg));
      // Each fragment access becomes a register of the fragment's array: a fixed one, or where it
      // differs between threads one computed at run time (correct, but the array leaves registers).
      const auto first = passes::register_visits(nest, anchor, reg, threads_, thread_var_, /*first_only=*/true);
      std::map<const void*, ir::Expr> register_of;
      for (size_t i = 0; i < nest.accesses.size(); ++i) {
        const passes::FragmentAccess& a = nest.accesses[i];
        const auto& holder = *fragment(*a.buffer).layout;
        if (!dynamic.count({static_cast<std::int64_t>(i), reg})) {
          register_of[a.node] = ir::make_int(*passes::access_register(nest, a, holder, anchor, first));
          continue;
        }
        std::map<const ir::VarNode*, ir::Expr> sub;
        for (size_t d = 0; d < a.index.size(); ++d) sub[holder.vars()[d].get()] = ir::make_cast(DataType::Int32, a.index[d]);
        register_of[a.node] = ir::substitute(holder.forward_index()[0], sub);
      }
      // Then the loop variables become the element the thread visits in this register.
      std::map<const ir::VarNode*, ir::Expr> element;
      for (size_t k = 0; k < nest.loops.size(); ++k) element[nest.loops[k]->var.get()] = passes::simplify(owned.index[k]);
      const ir::Stmt body = ir::substitute(ToRegisters(*this, register_of).mutate_stmt(nest.body), element);
      // The elements of a Parallel loop are independent and each thread visits only its own (under
      // guards on them): no barrier between or inside them.
      ++divergent_depth_;
      emit(owned.valid ? ir::make_if(owned.valid, body) : ir::make_scoped("unit", {}, body));  // rewritten: not logged
      --divergent_depth_;
    }
  }

  // A Parallel body's fragment accesses as accesses of the fragments' register arrays.
  struct ToRegisters : ir::Mutator {
    Generator& generator;
    const std::map<const void*, ir::Expr>& register_of;
    ToRegisters(Generator& g, const std::map<const void*, ir::Expr>& r) : generator(g), register_of(r) {}
    using Mutator::mutate;
    ir::Expr mutate(const ir::LoadNode* op, const ir::Expr& self) override {
      auto it = register_of.find(op);
      // A run-time register index reads only the loop's variables (plan_parallel_loops refuses more).
      return it == register_of.end() ? Mutator::mutate(op, self) : ir::make_load(generator.registers(*op->buffer), {it->second});
    }
    ir::Stmt mutate(const ir::StoreNode* op, const ir::Stmt& self) override {
      auto it = register_of.find(op);
      if (it == register_of.end()) return Mutator::mutate(op, self);
      return ir::make_store(generator.registers(*op->buffer), {it->second}, mutate_expr(op->value));
    }
  };

  // The copy of staged shared tile `b` for stage `stage`.
  std::string stage_copy(const ir::BufferNode& b, const ir::Expr& stage) {
    if (ir::as_const_int(stage) == 0) return name_of(&b, b.name);
    return cat("(", name_of(&b, b.name), " + ", print(passes::simplify(stage), 10), " * ", shared_.at(&b).stage_bytes / bytes(b.dtype), ")");
  }

  // ---- thread-level statements -----------------------------------------------------------------

  // A device call (ops/device_builtins.h): operands by their role. Memory and registers are passed
  // as the address of the element named (the buffer itself for its first element); a
  // rank-suffixed call's global operand is its tensor map, its indices the box coordinates
  // (innermost first) after the other operands.
  std::string device_call(const ir::BuiltinNode& call) {
    const ops::DeviceBuiltin& d = ops::device_builtin(call.op);
    ops::check_device_call(call);
    std::vector<std::string> args, coords;
    int rank = 0;
    for (size_t i = 0; i < call.args.size(); ++i) {
      const auto* l = ir::as<ir::LoadNode>(call.args[i]);
      if (d.operands[i] == ops::OperandRole::Value) {
        args.push_back(expr(call.args[i]));
      } else if (d.rank_suffix && l->buffer->scope == ir::Scope::Global) {
        rank = l->buffer->rank();
        args.push_back("&" + descriptors_.at(call.int_attr("map")));
        for (auto it = l->indices.rbegin(); it != l->indices.rend(); ++it) coords.push_back(expr(*it));
      } else {
        const bool first = std::all_of(l->indices.begin(), l->indices.end(), [](const ir::Expr& x) { return ir::as_const_int(x) == 0; });
        TS_ICHECK(first || l->buffer->scope != ir::Scope::Fragment, "device call ", call.op, " on a register of ", l->buffer->name, " other than the first");
        args.push_back(first && d.operands[i] != ops::OperandRole::Mbarrier ? pointer(*l->buffer) : "&" + element(*l->buffer, l->indices));
      }
    }
    std::string targs;
    for (const auto& t : call.targs) {
      if (!targs.empty()) targs += ", ";
      if (const auto* v = std::get_if<std::int64_t>(&t)) targs += std::to_string(*v);
      else if (const auto* b = std::get_if<bool>(&t)) targs += *b ? "true" : "false";
      else targs += c_type(std::get<DataType>(t));
    }
    args.insert(args.end(), coords.begin(), coords.end());
    std::string out = ops::cpp_name(d, rank) + (targs.empty() ? "" : "<" + targs + ">") + "(";
    for (size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + args[i];
    return out + ")";
  }

  // The buffers a scope names (Loads of their first elements), from `first` on.
  static std::vector<const ir::BufferNode*> scope_buffers(const ir::ScopedNode& s, size_t first) {
    std::vector<const ir::BufferNode*> out;
    for (size_t i = first; i < s.args.size(); ++i) out.push_back(ir::as<ir::LoadNode>(s.args[i])->buffer.get());
    return out;
  }

  void emit_scoped(const ir::ScopedNode& s) {
    if (s.key == "stage") {
      // Staged buffers address the stage the scope names.
      for (const auto* b : scope_buffers(s, 1)) stage_pointer_[b] = stage_copy(*b, s.args.at(0));
      emit_stmt(s.body);
      for (const auto* b : scope_buffers(s, 1)) stage_pointer_.erase(b);
    } else if (s.key == "bind") {
      // bind(var, value, min, extent): var is value, a value of [min, min + extent) (and of its
      // `multiple`, where the scope says).
      const auto& var = *ir::as<ir::VarNode>(s.args.at(0));
      open("");
      line(cat("[[maybe_unused]] const ", c_type(var.dtype), " ", name_of(&var, var.name), " = ", expr(s.args.at(1)), ";"));
      set_loop_range(var, s.args.at(2), s.args.at(3));
      if (auto r = ranges_.find(&var); r != ranges_.end() && scope_attr(s, "multiple")) r->second.multiple = scope_attr(s, "multiple");
      emit_stmt(s.body);
      close();
    } else if (s.key == "unit") {
      open("");  // its own C++ scope, for the temporaries of its statements
      emit_stmt(s.body);
      close();
    } else if (s.key == "async_copies") {
      async_producer_ = true;
      emit_stmt(s.body);
      async_producer_ = false;
    } else if (s.key == "parallel_over") {
      emit_parallel(s);
    } else if (s.key == "async_proxy_ready" || s.key == "pipeline") {
      emit_stmt(s.body);  // what they say was for the passes (lower_tile_ops, insert_barriers)
    } else if (s.key == "grid_points") {
      // One block walks the points blockIdx.x, + gridDim.x, ... with the block indices computed
      // from the point.
      open("for (int ts_point = blockIdx.x; ts_point < ts_grid_x * ts_grid_y * ts_grid_z; ts_point += gridDim.x)");
      emit_block_indices(*find_kernel(func_->body), "ts_point");
      emit_stmt(s.body);
      close();
    } else if (s.key == "warp_role") {
      open(cat("if (", role_condition(s), ")"));
      emit_role_body(s);
      close();
    } else {
      throw InternalError(cat("T.", s.key, " scope reached the CUDA generator"));
    }
  }

  // An integer attr of a scope, 0 when it has none.
  static std::int64_t scope_attr(const ir::ScopedNode& scope, const char* key) {
    auto it = scope.attrs.find(key);
    return it == scope.attrs.end() ? 0 : std::get<std::int64_t>(it->second);
  }
  std::string role_condition(const ir::ScopedNode& role) {
    const std::int64_t first = scope_attr(role, "first_thread"), last = first + scope_attr(role, "threads");
    if (first == 0) return cat("tx < ", last);
    return last >= find_kernel(func_->body)->threads ? cat("tx >= ", first) : cat("tx >= ", first, " && tx < ", last);
  }

  // Two warp roles that split the block: one if/else.
  void emit_warp_roles(const ir::ScopedNode& a, const ir::ScopedNode& b) {
    const int threads = find_kernel(func_->body)->threads;
    TS_ICHECK(scope_attr(a, "threads") + scope_attr(b, "threads") == threads, "warp roles that do not split the block");
    open(cat("if (", role_condition(a), ")"));
    emit_role_body(a);
    --indent_;
    line("} else {");
    ++indent_;
    emit_role_body(b);
    close();
  }

  // A role's body: its statements with the role's threads and barrier as the block's.
  void emit_role_body(const ir::ScopedNode& role) {
    const int threads = threads_, barrier = role_barrier_;
    const auto range = ranges_[thread_var_.get()];
    threads_ = static_cast<int>(scope_attr(role, "threads"));
    role_barrier_ = static_cast<int>(scope_attr(role, "barrier"));
    const std::int64_t first = scope_attr(role, "first_thread");
    ranges_[thread_var_.get()] = {first, first + threads_ - 1};
    emit_stmt(role.body);
    threads_ = threads, role_barrier_ = barrier;
    ranges_[thread_var_.get()] = range;
  }
};

}  // namespace

KernelSpec generate(const ir::PrimFunc& func, const Target& target, ops::ThreadLevelLog* log) {
  return Generator(func, target, log).run();
}

}  // namespace tilescale::cuda
