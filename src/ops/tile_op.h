// Tile operations: one definition per op, one file per op (copy.cc, fill.cc, gemm.cc, reduce.cc,
// cumsum.cc, atomic_add.cc).
//
// A tile op is an ir::TileOpNode whose `op` string names a TileOpDef. The definition owns
// everything about the op: how the front end builds it (`make_*` below: operand extents inferred,
// attributes named), what a well-formed use is (`verify`, CompileError naming the op and buffer),
// and how each target runs it (`run_cpu` for the CPU reference backend; the CUDA lowering joins
// here with the CUDA backend).
//
// Operand conventions, per op:
//   copy        regions {src, dst}; element-wise with conversion to dst's dtype; attrs its CopyPlan
//               (ops/copy.h: the instructions, from plan_copies)
//   fill        regions {dst}; args {value}
//   gemm        regions {A, B, C}; attrs policy, clear_accum and its GemmPlan (ops/gemm.h: majorness,
//               then the warp split)
//   reduce      regions {src, dst}; attrs kind (sum|max|min|abssum|absmax), dim, clear
//   cumsum      regions {src, dst}; attrs dim, reverse
//   atomic_add  regions {dst} + args {value} (scalar) or regions {dst, src} (tile)
//
// Global-memory regions may run past the tensor's end (tiles of sizes that are not multiples of the
// tile): elements outside the tensor read as zero and writes to them are dropped. Regions of shared,
// fragment and local buffers must lie inside the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "layout/gemm_fragments.h"
#include "ops/thread_lowering.h"

namespace tilescale::ops {

// A tile-op operand as the user wrote it: extent empty when it is to be inferred.
struct Operand {
  ir::Buffer buffer;
  std::vector<ir::Expr> base;
  std::vector<ir::Expr> extent;
};

// The extent of an operand written as an element reference: the rest of its buffer.
ir::Region to_region(const Operand& operand, const char* op);
// The extent taken from `other` (right-aligned: extra leading dimensions of `operand` get extent 1).
ir::Region to_region_like(const Operand& operand, const ir::Region& other, const char* op);

// The elements of one region, as the CPU backend sees them.
struct RegionView {
  const ir::BufferNode* buffer = nullptr;
  std::byte* data = nullptr;           // address of the region's first element
  std::vector<std::int64_t> extent;    // the region's extent (evaluated)
  std::vector<std::int64_t> strides;   // in elements
  std::vector<std::int64_t> inside;    // per dimension, how many elements lie inside the tensor
  DataType dtype() const { return buffer->dtype; }
  int rank() const { return static_cast<int>(extent.size()); }
  std::int64_t numel() const;
  bool in_tensor(const std::int64_t* index) const;
  double load(const std::int64_t* index) const;               // 0 outside the tensor
  void store(const std::int64_t* index, double value) const;  // dropped outside the tensor
  // The same for integer values, exactly (uint64 values in int64 bits): load_as_int / store_int.
  std::int64_t load_int(const std::int64_t* index) const;
  void store_int(const std::int64_t* index, std::int64_t value) const;
  std::byte* address(const std::int64_t* index) const;  // of an element inside the tensor
};

// Calls fn(index) for every index of `extent`, row-major.
void for_each_index(const std::vector<std::int64_t>& extent, const std::function<void(const std::int64_t*)>& fn);
// Walks two regions of the same extent up to unit dimensions in lockstep: fn(src_index, dst_index).
void for_each_matching_index(const RegionView& src, const RegionView& dst,
                             const std::function<void(const std::int64_t*, const std::int64_t*)>& fn);

// What plan_tile_ops hands an op's plan hook.
struct PlanContext {
  const ir::KernelNode* kernel = nullptr;  // the kernel the op runs in (nullptr outside one)
  int sm = 80;                             // the CUDA target's compute capability
};

// A layout an op dictates for one of its fragment operands (infer_fragment_layouts' strict level):
// layout::mma_accumulator(rows, cols, warps_m, warps_n, arrangement) over [rows][cols], or with
// `transposed` mma_accumulator_transposed(rows, cols, warps_m, warps_n), the same registers over
// [cols][rows] (always Contiguous).
struct StrictLayout {
  const ir::BufferNode* buffer = nullptr;
  bool transposed = false;
  std::int64_t rows = 0, cols = 0;
  int warps_m = 1, warps_n = 1;
  std::string by;  // the op and role that dictate it, for conflict messages: "T::gemm into C_local"
  layout::WarpRows arrangement = layout::WarpRows::Contiguous;
};

// How the layout of an op's fragment operand `to` follows from that of its operand `from`
// (infer_fragment_layouts' common level; both must be fragments):
//   Same      one layout for both, given by whichever has one first (needs equal shapes);
//   Rows      `to` holds one value per row of the 2-D `from`, with the threads that own that row
//             (mma_rows of an accumulator, else replicated);
//   Computed  `to` is computed from `from` by its own owners: the default partition, once `from`
//             has a layout.
struct LayoutFlow {
  enum class Kind { Same, Rows, Computed } kind = Kind::Same;
  int from = 0, to = 1;  // region indices
};

// What an op's thread-level lowering (TileOpDef::thread_level) may ask of its place in the kernel.
struct ThreadLevelContext {
  int sm = 80;  // the CUDA target's compute capability
  // Whether wgmma may read shared buffer `b` with no fence first: inside an `async_proxy_ready`
  // scope naming it (passes/specialize_warps.h).
  std::function<bool(const ir::BufferNode& b)> async_proxy_ready;
};

struct TileOpDef {
  const char* name;
  // CompileError when the op is used wrongly (shapes, dtypes, scopes, dims).
  void (*verify)(const ir::TileOpNode& op);
  // Runs the op on the CPU over evaluated regions and args.
  void (*run_cpu)(const ir::TileOpNode& op, const std::vector<RegionView>& regions, const std::vector<double>& args);
  // CUDA: the op as thread-level IR built in its place, executed by every thread of the block (the
  // pass lower_to_threads, for the ops `thread_level` below leaves; ThreadLowering says what the
  // place offers). CompileError for what the CUDA backend cannot lower, before any code reaches
  // NVRTC.
  void (*lower_to_threads)(const ir::TileOpNode& op, ThreadLowering& ctx) = nullptr;

  // What passes ask instead of testing the op's name. Properties first, then hooks (nullptr where
  // the op has none).
  //
  // The region the op writes (writes_region); it reads the others (reads_region).
  int destination = -1;
  // The op reads its destination as well: it updates it in place (atomic_add).
  bool reads_destination = false;
  // An element-wise copy of region 0 into region 1 and nothing else (is_copy): what a Pipelined
  // loop stages (its copies from global into shared memory produce the stages) and what the CUDA
  // backend may move by TMA.
  bool copies = false;
  // plan_tile_ops (CUDA): the op's attrs with its decisions for the target recorded (gemm: its
  // GemmPlan, ops/gemm.h); CompileError when no plan fits.
  ir::Attrs (*plan)(const ir::TileOpNode& op, const PlanContext& ctx) = nullptr;
  // infer_fragment_layouts: the layouts the op dictates for its fragment operands (gemm: its C, and
  // a register A or B), in order; CompileError for an operand no layout can serve.
  std::vector<StrictLayout> (*strict_layouts)(const ir::TileOpNode& op) = nullptr;
  // infer_fragment_layouts: how one operand's layout follows from another's (copy, reduce); nullopt
  // when it does not.
  std::optional<LayoutFlow> (*layout_flow)(const ir::TileOpNode& op) = nullptr;
  // CUDA: the op as thread-level IR (device calls and simpler tile ops) that lower_tile_ops puts in
  // its place, before barriers are placed, or nullopt where lower_to_threads lowers it later;
  // CompileError for what CUDA cannot lower.
  std::optional<ir::Stmt> (*thread_level)(const ir::TileOpNode& op, const ThreadLevelContext& ctx) = nullptr;
};

// The definition of a registered op; InternalError for an unknown name.
const TileOpDef& tile_op(const std::string& name);

// The element-wise T::atomic_add (one scalar into one element): the one tile op any thread may run
// alone, under thread-dependent control flow or inside a T::Parallel loop.
bool is_element_atomic_add(const ir::TileOpNode& op);
// Whether `op` writes its region `i` (its definition's destination: the destination of copy,
// reduce and cumsum, the target of fill and atomic_add, gemm's C), and whether it reads it (every
// other region, and atomic_add's target).
bool writes_region(const ir::TileOpNode& op, std::size_t i);
bool reads_region(const ir::TileOpNode& op, std::size_t i);
// Whether `op` is a plain copy (TileOpDef::copies): region 0 into region 1, element-wise.
bool is_copy(const ir::TileOpNode& op);
// The buffers a program may write: stores, regions tile ops write, and the memory operands of
// distributed builtins (all counted as written: builtin definitions do not say which they write).
std::set<const ir::BufferNode*> written_buffers(const ir::Stmt& s);

// Builders used by the front end.
ir::Stmt make_copy(const Operand& src, const Operand& dst);
ir::Stmt make_fill(const Operand& dst, ir::Expr value);
ir::Stmt make_gemm(const Operand& a, const Operand& b, const Operand& c, bool transpose_a, bool transpose_b,
                   int policy, bool clear_accum);
ir::Stmt make_reduce(const std::string& kind, const Operand& src, const Operand& dst, int dim, bool clear);
ir::Stmt make_cumsum(const Operand& src, const Operand& dst, int dim, bool reverse);
ir::Stmt make_atomic_add(const Operand& dst, ir::Expr value);
ir::Stmt make_atomic_add(const Operand& dst, const Operand& src);

// The definitions, one per op file; tile_op.cc lists them.
const TileOpDef& copy_def();
const TileOpDef& fill_def();
const TileOpDef& gemm_def();
const TileOpDef& reduce_def();
const TileOpDef& cumsum_def();
const TileOpDef& atomic_add_def();

// Shared verification helpers: extents of `r` as constants when they are (nullopt otherwise),
// and "a[0:+128, 0:+32]"-style descriptions for messages.
std::vector<std::optional<std::int64_t>> const_extents(const ir::Region& r);
std::string describe(const ir::Region& r);
// The extent of `r` as a list: "[64, 32]".
std::string describe_extent(const ir::Region& r);
// `r` with its extent in view: "A_shared [64, 32]" for a whole buffer, describe(r) otherwise
// (a partial region already shows its extents).
std::string describe_with_extent(const ir::Region& r);
// The op as the user wrote it, "T::reduce_max", and with its operands, "T::copy from A[...] to
// row_frag". T::clear is a fill with zero, so a zero fill is named "T::fill/T::clear".
std::string user_op_name(const ir::TileOpNode& op);
std::string describe(const ir::TileOpNode& op);
// True when the regions have the same extents (ignoring extents of 1 on either side) where both
// are constant, and structurally equal extents where they are not.
bool same_extents(const ir::Region& a, const ir::Region& b);
// CompileError unless same_extents(a, b); the message shows both extents.
void check_same_extents(const char* op, const ir::Region& a, const ir::Region& b);

}  // namespace tilescale::ops
