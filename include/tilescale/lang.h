// The tile language, embedded in C++. Use it as `namespace T = tilescale::lang;`.
//
// A kernel is written as ordinary C++ that *builds* a tile program: calling T::copy does not copy
// anything, it appends a copy statement to the program being built. The vocabulary is TileLang's:
//
//   namespace T = tilescale::lang;
//   T::PrimFunc gemm = T::prim_func("gemm", [&] {
//     auto A = T::Tensor("A", {M, K}, T::float16);
//     auto B = T::Tensor("B", {K, N}, T::float16);
//     auto C = T::Tensor("C", {M, N}, T::float16);
//     T::Kernel(T::ceildiv(N, 128), T::ceildiv(M, 128), T::threads(128), [&](T::Expr bx, T::Expr by) {
//       auto As = T::alloc_shared({128, 32}, T::float16, "A_shared");
//       auto Bs = T::alloc_shared({32, 128}, T::float16, "B_shared");
//       auto Cf = T::alloc_fragment({128, 128}, T::float32, "C_local");
//       T::clear(Cf);
//       T::Pipelined(T::ceildiv(K, 32), 3, [&](T::Expr k) {
//         T::copy(A(by * 128, k * 32), As);   // "the tile of A starting here", extent from As
//         T::copy(B(k * 32, bx * 128), Bs);
//         T::gemm(As, Bs, Cf);
//       });
//       T::copy(Cf, C(by * 128, bx * 128));
//     });
//   });
//
// Statements are appended to the innermost open scope (prim_func, Kernel, a loop body, an If
// branch), so the C++ lambdas nest exactly like the program does. Expressions (T::Expr) combine with
// the usual C++ operators; `==` on two Exprs builds a comparison, it does not compare programs.
// Mistakes (shape mismatches, wrong rank, a fragment outside a Kernel...) raise CompileError when
// prim_func returns, naming the op and the buffer.
//
// Semantics of every statement: src/ir/IR.h and ../shared/REFERENCE.md (TileLang's vocabulary).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tilescale/dtype.h"

namespace tilescale::ir {
struct ExprNode;
struct BufferNode;
struct PrimFuncNode;
}  // namespace tilescale::ir
namespace tilescale::layout {
class Layout;
}

namespace tilescale::lang {

inline constexpr DataType bool_ = DataType::Bool;
inline constexpr DataType int8 = DataType::Int8, int16 = DataType::Int16, int32 = DataType::Int32,
                          int64 = DataType::Int64;
inline constexpr DataType uint8 = DataType::UInt8, uint16 = DataType::UInt16, uint32 = DataType::UInt32,
                          uint64 = DataType::UInt64;
inline constexpr DataType float16 = DataType::Float16, bfloat16 = DataType::BFloat16,
                          float32 = DataType::Float32, float64 = DataType::Float64;
inline constexpr DataType float8_e4m3 = DataType::Float8E4M3, float8_e5m2 = DataType::Float8E5M2;

// ------------------------------------------------------------------------------------------------
// Expressions

// A typed expression. C++ numbers convert implicitly into "weak" constants: next to a typed
// operand they take its type when it holds them (`x * 2` with x float16 is a float16 product).
// Otherwise integers are int32 (int64 when they do not fit, uint64 beyond 2^63 - 1) and
// floating-point numbers float32. Nothing is cut to fit silently: an integer constant that the
// other operand's type cannot hold promotes both sides to a type that holds both (bx < 4294967297
// compares in int64; CompileError when no type does), an int32 operand promoted to int64 is
// computed in int64 throughout (by * 32 + i < M, M int64, cannot wrap at 2^31), and a constant
// stored into a type that cannot hold it is a CompileError (T::cast wraps deliberately).
class Expr {
 public:
  Expr(int v);
  Expr(long v);
  Expr(long long v);
  Expr(unsigned v);
  Expr(unsigned long v);
  Expr(unsigned long long v);
  Expr(float v);
  Expr(double v);
  Expr(bool v);
  explicit Expr(std::shared_ptr<const ir::ExprNode> node);

  DataType dtype() const;
  const std::shared_ptr<const ir::ExprNode>& node() const { return node_; }

 private:
  std::shared_ptr<const ir::ExprNode> node_;
};

Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator*(const Expr& a, const Expr& b);
Expr operator/(const Expr& a, const Expr& b);  // integers: truncating, as in C
Expr operator%(const Expr& a, const Expr& b);  // integers: sign of the dividend, as in C
Expr operator-(const Expr& a);
Expr operator!(const Expr& a);
Expr operator~(const Expr& a);
Expr operator==(const Expr& a, const Expr& b);
Expr operator!=(const Expr& a, const Expr& b);
Expr operator<(const Expr& a, const Expr& b);
Expr operator<=(const Expr& a, const Expr& b);
Expr operator>(const Expr& a, const Expr& b);
Expr operator>=(const Expr& a, const Expr& b);
Expr operator&&(const Expr& a, const Expr& b);
Expr operator||(const Expr& a, const Expr& b);
Expr operator&(const Expr& a, const Expr& b);
Expr operator|(const Expr& a, const Expr& b);
Expr operator^(const Expr& a, const Expr& b);
Expr operator<<(const Expr& a, const Expr& b);
Expr operator>>(const Expr& a, const Expr& b);

Expr min(const Expr& a, const Expr& b);
Expr max(const Expr& a, const Expr& b);
Expr floordiv(const Expr& a, const Expr& b);
Expr floormod(const Expr& a, const Expr& b);
Expr ceildiv(const Expr& a, const Expr& b);
Expr cast(const Expr& v, DataType t);
Expr if_then_else(const Expr& cond, const Expr& t, const Expr& f);
Expr exp(const Expr& x);
Expr exp2(const Expr& x);
Expr log(const Expr& x);
Expr log2(const Expr& x);
Expr sqrt(const Expr& x);
Expr rsqrt(const Expr& x);
Expr abs(const Expr& x);
Expr floor(const Expr& x);
Expr ceil(const Expr& x);
Expr sin(const Expr& x);
Expr cos(const Expr& x);
Expr tanh(const Expr& x);
Expr sigmoid(const Expr& x);
Expr pow(const Expr& x, const Expr& y);
Expr infinity(DataType t);   // +inf of a float type; -T::infinity(t) for -inf
Expr max_value(DataType t);  // largest finite value
Expr min_value(DataType t);  // lowest finite value

// A symbolic dimension, bound from the shapes of the arguments at call time (a shape beyond t's
// range is a RuntimeError: declare int64 for more than 2^31 - 1 elements).
Expr dynamic(const std::string& name, DataType t = int32);

// ------------------------------------------------------------------------------------------------
// Buffers

class Buffer;

// `A(i, j)`: the element at (i, j) when used as a value or assigned to; the tile *starting* at
// (i, j) when passed to a tile op (its extent then comes from the op's other operand).
class BufferRef {
 public:
  BufferRef(std::shared_ptr<const ir::BufferNode> buffer, std::vector<Expr> indices);
  operator Expr() const;  // NOLINT: a load, where a value is expected
  const BufferRef& operator=(const Expr& value) const;
  const BufferRef& operator=(const BufferRef& value) const;
  const BufferRef& operator+=(const Expr& value) const;
  const BufferRef& operator-=(const Expr& value) const;
  const BufferRef& operator*=(const Expr& value) const;
  const BufferRef& operator/=(const Expr& value) const;

  const std::shared_ptr<const ir::BufferNode>& buffer() const { return buffer_; }
  const std::vector<Expr>& indices() const { return indices_; }

 private:
  std::shared_ptr<const ir::BufferNode> buffer_;
  std::vector<Expr> indices_;
};

class Buffer {
 public:
  explicit Buffer(std::shared_ptr<const ir::BufferNode> node) : node_(std::move(node)) {}
  template <typename... Index>
  BufferRef operator()(const Index&... index) const {
    return BufferRef(node_, std::vector<Expr>{Expr(index)...});
  }
  BufferRef at(std::vector<Expr> index) const { return BufferRef(node_, std::move(index)); }

  const std::string& name() const;
  DataType dtype() const;
  int rank() const;
  Expr shape(int dim) const;
  const std::shared_ptr<const ir::BufferNode>& node() const { return node_; }

 private:
  std::shared_ptr<const ir::BufferNode> node_;
};

// A per-thread scalar from alloc_var: reads as a value, assignments store to it.
class Scalar {
 public:
  explicit Scalar(Buffer b) : buffer_(std::move(b)) {}
  Scalar(const Scalar&) = default;
  operator Expr() const;  // NOLINT
  const Scalar& operator=(const Expr& v) const;
  const Scalar& operator=(const Scalar& v) const;
  const Scalar& operator+=(const Expr& v) const;
  const Scalar& operator-=(const Expr& v) const;
  const Scalar& operator*=(const Expr& v) const;
  const Scalar& operator/=(const Expr& v) const;
  const Buffer& buffer() const { return buffer_; }

 private:
  Buffer buffer_;
};

// An operand of a tile op: a whole buffer, `A(i, j)` (the tile starting there, its extent taken
// from the other operand), or an explicit region(A, {i, j}, {16, 64}).
class TileRef {
 public:
  TileRef(const Buffer& b);     // NOLINT
  TileRef(const BufferRef& r);  // NOLINT
  TileRef(const Scalar& s);     // NOLINT
  TileRef(std::shared_ptr<const ir::BufferNode> buffer, std::vector<Expr> base, std::vector<Expr> extent);

  const std::shared_ptr<const ir::BufferNode>& buffer() const { return buffer_; }
  const std::vector<Expr>& base() const { return base_; }
  const std::vector<Expr>& extent() const { return extent_; }  // empty: to be inferred

 private:
  std::shared_ptr<const ir::BufferNode> buffer_;
  std::vector<Expr> base_, extent_;
};
TileRef region(const Buffer& b, std::vector<Expr> base, std::vector<Expr> extent);

using Shape = std::vector<Expr>;

// A global-memory tensor: a parameter of the prim_func, in order of creation.
Buffer Tensor(const std::string& name, Shape shape, DataType dtype);
// A scalar parameter, passed by value at each call: TileLang's `valid_len: T.int32`. `dtype` is
// int32, int64 or float32. Tensors and scalars are parameters in the one order of their creation
// (before the T::Kernel), which is the order of the call's arguments:
//
//   auto A = T::Tensor("A", {N}, T::float32);
//   T::Expr valid_len = T::ScalarParam("valid_len", T::int32);   // k(A, 100, 0.5f)
//   T::Expr scale = T::ScalarParam("scale", T::float32);
//
// The result is an expression like any other: in loop extents and T::Kernel grids (integer ones),
// conditions, arithmetic, stores. A scalar cannot give a tensor's shape (use T::dynamic).
Expr ScalarParam(const std::string& name, DataType dtype);
Buffer alloc_shared(Shape shape, DataType dtype, const std::string& name = "shared");
Buffer alloc_fragment(Shape shape, DataType dtype, const std::string& name = "frag");
Buffer alloc_local(Shape shape, DataType dtype, const std::string& name = "local");
Scalar alloc_var(DataType dtype, const std::string& name = "var");
Scalar alloc_var(DataType dtype, const Expr& init, const std::string& name = "var");
// alloc_var(T::float32, "best") names the scalar (a string literal would otherwise convert to an
// Expr through bool); alloc_var(T::int32, 0) initializes it.
Scalar alloc_var(DataType dtype, const char* name);
template <typename V, std::enable_if_t<std::is_arithmetic_v<V>, int> = 0>
Scalar alloc_var(DataType dtype, V init, const std::string& name = "var") {
  return alloc_var(dtype, Expr(init), name);
}

// ------------------------------------------------------------------------------------------------
// Functions, kernels, loops and control flow

class PrimFunc {
 public:
  explicit PrimFunc(std::shared_ptr<const ir::PrimFuncNode> node) : node_(std::move(node)) {}
  const std::string& name() const;
  std::string to_string() const;  // the IR, printed
  const std::shared_ptr<const ir::PrimFuncNode>& node() const { return node_; }

 private:
  std::shared_ptr<const ir::PrimFuncNode> node_;
};

// Builds a tile program: runs `body`, which creates Tensors and a Kernel, then verifies the
// result (CompileError on a malformed program).
PrimFunc prim_func(const std::string& name, const std::function<void()>& body);

// A block's threads: T::threads(128), or a 2-D or 3-D block, T::threads(32, 4) (x, y[, z]), whose
// threads are numbered x fastest, as CUDA does. `count` is the 1-D form's; T::Kernel takes a 2-D or
// 3-D block's from `dims` (checking that their product is a block's worth: 1 to 1024 threads; a
// block that is not whole warps refuses what a warp executes together, docs/01_language.md).
struct Threads {
  int count;
  std::array<int, 3> dims;
};
inline Threads threads(int n) { return Threads{n, {n, 1, 1}}; }
inline Threads threads(int x, int y, int z = 1) { return Threads{y == 1 && z == 1 ? x : 0, {x, y, z}}; }

void Kernel(const Expr& gx, Threads t, const std::function<void(Expr bx)>& body);
void Kernel(const Expr& gx, const Expr& gy, Threads t, const std::function<void(Expr bx, Expr by)>& body);
void Kernel(const Expr& gx, const Expr& gy, const Expr& gz, Threads t,
            const std::function<void(Expr bx, Expr by, Expr bz)>& body);

// The thread's index inside the block along `dim` (0: x, 1: y, 2: z): for T::threads(32, 4), dim 0
// is tx % 32 and dim 1 is tx / 32 (tx, the thread's number, is dim 0 of a 1-D block); 0 along a
// dimension the block does not have, as in CUDA.
Expr get_thread_binding(int dim = 0);
Expr get_block_binding(int dim = 0);   // bx, by or bz

// An element-wise loop nest over the whole tile, executed collectively by the block. Extents are
// constants, or capped by one: T::Parallel(T::min(valid_len, 512), ...) loops over 512 elements and
// runs the body where i < min(valid_len, 512).
void Parallel(const Expr& e0, const std::function<void(Expr)>& body);
void Parallel(const Expr& e0, const Expr& e1, const std::function<void(Expr, Expr)>& body);
void Parallel(const Expr& e0, const Expr& e1, const Expr& e2, const std::function<void(Expr, Expr, Expr)>& body);
void Parallel(const Expr& e0, const Expr& e1, const Expr& e2, const Expr& e3,
              const std::function<void(Expr, Expr, Expr, Expr)>& body);

// Software-pipelining request; `order` and `stage` have one entry per statement of the body.
struct PipelineOptions {
  int num_stages = 0;
  std::vector<int> order = {};
  std::vector<int> stage = {};
};
void Pipelined(const Expr& extent, const std::function<void(Expr)>& body);
void Pipelined(const Expr& extent, int num_stages, const std::function<void(Expr)>& body);
void Pipelined(const Expr& extent, const PipelineOptions& options, const std::function<void(Expr)>& body);

void serial(const Expr& extent, const std::function<void(Expr)>& body);
void serial(const Expr& begin, const Expr& end, const std::function<void(Expr)>& body);
void unroll(const Expr& extent, const std::function<void(Expr)>& body);

// T::If(c, [&]{...}).Else([&]{...});
class IfThen {
 public:
  explicit IfThen(std::size_t position) : position_(position) {}
  void Else(const std::function<void()>& body) const;

 private:
  std::size_t position_;  // the If statement's index in its scope
};
IfThen If(const Expr& cond, const std::function<void()>& then_body);
void While(const Expr& cond, const std::function<void()>& body);
void Break();

// ------------------------------------------------------------------------------------------------
// Scopes begun and ended explicitly
//
// The forms above that take a body (T::Kernel, T::Parallel, the loops, T::If/Else, T::While) begin
// a scope, run the body in it and end it. A front end that cannot pass a body as a function
// (Python's `with` and `for`: python/tilescale/language.py) calls the two halves itself; the forms
// with a body are written on top of them, so both behave the same:
//
//   std::vector<T::Expr> b = T::detail::begin_kernel({T::ceildiv(N, 64)}, T::threads(128));  // {bx}
//   std::vector<T::Expr> ij = T::detail::begin_parallel({64, 32});                           // {i, j}
//   C(b[0] * 64 + ij[0], ij[1]) = 0;
//   T::detail::end_scope(T::detail::ScopeKind::Parallel);
//   T::detail::end_scope(T::detail::ScopeKind::Kernel);
//
// Statements go to the innermost open scope; end_scope closes it and appends what it makes (a
// Kernel, a nest of For loops, an If...) to the scope around it. end_scope names the kind it means
// to close, so a front end that ends scopes out of order gets a CompileError ("cannot end the scope
// of T::Kernel because the innermost open scope is T::Parallel's; ...") instead of a silently
// different program, and prim_func raises CompileError when its body returns with a scope open.
// A scope's checks (grid extents, loop bounds) run when it begins.
namespace detail {
enum class ScopeKind { Kernel, Parallel, Pipelined, Serial, Unroll, If, Else, While };
const char* scope_name(ScopeKind kind);  // "T::Kernel", "T::Parallel", "T::serial"...

// 1 to 3 grid extents; returns as many block indices (bx, by, bz).
std::vector<Expr> begin_kernel(std::vector<Expr> grid, Threads threads);
// 1 to 4 extents; returns as many loop variables (i, j, k, l), outermost first.
std::vector<Expr> begin_parallel(std::vector<Expr> extents);
Expr begin_pipelined(const Expr& extent, const PipelineOptions& options = {});
Expr begin_serial(const Expr& begin, const Expr& end);
Expr begin_unroll(const Expr& extent);
void begin_if(const Expr& cond);
// The else branch of the If that ended last: the If must be the last statement of the current
// scope and have no else branch yet (`elif c:` is begin_else, begin_if(c), ..., end If, end Else).
void begin_else();
void begin_while(const Expr& cond);
void end_scope(ScopeKind kind);
// How many begun scopes are open in the prim_func being built (0 at its top level; CompileError
// outside T::prim_func).
std::size_t open_scopes();
}  // namespace detail

// ------------------------------------------------------------------------------------------------
// Tile operations

void copy(const TileRef& src, const TileRef& dst);
void fill(const TileRef& dst, const Expr& value);
void clear(const TileRef& dst);

// How the warps of the block split C (REFERENCE.md §1).
enum class GemmWarpPolicy { Square, FullRow, FullCol };
struct GemmOptions {
  bool transpose_A = false;
  bool transpose_B = false;
  GemmWarpPolicy policy = GemmWarpPolicy::Square;
  bool clear_accum = false;
};
// C += A · B (C = A · B with clear_accum), A and B transposed as asked.
void gemm(const TileRef& A, const TileRef& B, const TileRef& C, const GemmOptions& options = {});
void gemm(const TileRef& A, const TileRef& B, const TileRef& C, bool transpose_A, bool transpose_B = false,
          GemmWarpPolicy policy = GemmWarpPolicy::Square, bool clear_accum = false);

// dst = reduction of src along `dim` (dst has src's shape without that dimension); with
// clear=false the result is combined with dst's previous contents. Integer reductions (src and dst
// integers) are exact: they compute in 32 bits, or 64 when src or dst has 64 (unsigned when src
// is), wrapping around as integer hardware does (|lowest| wraps to itself); others compute in
// float32, or float64 when either side has 64 bits. The result is converted to dst's dtype.
void reduce_sum(const TileRef& src, const TileRef& dst, int dim, bool clear = true);
void reduce_max(const TileRef& src, const TileRef& dst, int dim, bool clear = true);
void reduce_min(const TileRef& src, const TileRef& dst, int dim, bool clear = true);
void reduce_abssum(const TileRef& src, const TileRef& dst, int dim, bool clear = true);
void reduce_absmax(const TileRef& src, const TileRef& dst, int dim, bool clear = true);

// Inclusive prefix sum along `dim` (from the end when `reverse`); the running sum has dst's dtype
// at every step (between integers exactly, wrapping around).
void cumsum(const TileRef& src, const TileRef& dst, int dim = 0, bool reverse = false);

// dst += value atomically: element-wise for a scalar value, tile-wise for a tile.
void atomic_add(const TileRef& dst, const Expr& value);
void atomic_add(const TileRef& dst, const BufferRef& value);
void atomic_add(const TileRef& dst, const Buffer& value);

// ------------------------------------------------------------------------------------------------
// Annotations and debugging

// A layout maps a buffer's logical index to a physical one: make_layout({M, N}, [](auto i) {...}).
class Layout {
 public:
  explicit Layout(std::shared_ptr<const layout::Layout> node) : node_(std::move(node)) {}
  const std::shared_ptr<const layout::Layout>& node() const { return node_; }

 private:
  std::shared_ptr<const layout::Layout> node_;
};
Layout make_layout(Shape shape, const std::function<std::vector<Expr>(const std::vector<Expr>&)>& index_map);
void annotate_layout(const Buffer& buffer, const Layout& layout);
// Block rasterization for L2 reuse: consecutive blocks walk `panel_size`-wide panels of the grid.
void use_swizzle(int panel_size, bool column_major = false);
// Occupancy request for the CUDA backend: the compiler keeps registers per thread low enough for
// `blocks` blocks to share one SM (__launch_bounds__'s second argument). Registers that no longer
// fit spill to local memory, so this is a tuning knob (gemm example: `blocks_per_sm`); the CPU
// backend ignores it.
void min_blocks_per_sm(int blocks);
// Persistent kernel for the CUDA backend: the launch has one block per SM slot instead of one per
// grid point, and each block walks the grid (in use_swizzle's order when given), running the body
// for each point. A warp-specialized kernel (sm_90) then keeps its producer loading the next
// point's tiles while the consumers finish the current one. The CPU backend ignores it; a
// distributed kernel cannot be persistent on CUDA (CompileError).
void persistent();

void print(const std::string& message, const Expr& value);
void print(const std::string& message, const Buffer& buffer);
void device_assert(const Expr& cond, const std::string& message);

}  // namespace tilescale::lang

// The distributed operators (T::put_block, T::ld, T::wait_eq, T::putmem_nbi_block...).
#include "tilescale/lang_dist.h"
