// The tilescale IR.
//
// A tile program is a PrimFunc: global-memory tensors and scalars (int32, int64, float32 values
// passed by the caller) as parameters and a statement tree as body.
// The body usually holds one Kernel statement, which opens the launch scope: grid extents, the
// block's thread count, the block index variables and the thread index variable. Everything inside
// a Kernel is executed by every block of the grid.
//
// Two levels of meaning live in the same tree:
//
//  * Tile level. TileOp statements (copy, fill, gemm, reduce, cumsum, atomic_add) and Parallel
//    loops describe work on whole tiles; they are executed *collectively by the block*, and the
//    compiler decides which thread does what. A statement between them whose values are the same
//    in every thread is uniform: every thread of the block executes it with the same values, so it
//    is enough to think of it as executed once (this is how the CPU backend runs it).
//  * Thread level. A statement that reads or writes values that differ between threads (derived,
//    transitively, from the thread variable, thread-scope builtins or per-thread storage written
//    from them), or sits under control flow that does, is executed by each thread with its own
//    values. Local and Var buffers are private to a thread. src/ops/thread_level.h decides, for
//    every backend.
//
// Memory. Buffers live in a Scope: Global (kernel parameters), Shared (one copy per block), Fragment
// (a logical tile spread over the block's registers; on the CPU, one copy per block), Local (a
// per-thread array) and Var (a per-thread scalar, shape [1]). Alloc statements declare a buffer for
// the rest of the enclosing Seq. A TileOp names its operands as Regions: a buffer, the base index of
// the tile and its extent in every dimension.
//
// Values. Every expression has a DataType. Binary operands have the same type (the front end inserts
// Casts); comparisons and logical operators produce Bool. Integer division and modulo truncate toward
// zero as in C (floordiv/floormod round toward −∞); float arithmetic rounds to the expression's type
// after every operation, so float16 arithmetic is float16 arithmetic.
//
// Effects. Expressions are pure except Builtin calls: the distributed operators (ranks, loads and
// stores with memory-ordering semantics, waits, barriers, puts and gets, NVSHMEM's API; see
// src/ops/builtin.h). A Builtin may read or write memory of this or another rank, wait, or depend on
// the thread that evaluates it, so passes never fold, drop or duplicate one; a Builtin that returns
// nothing is the value of an Evaluate statement. Which threads execute a Builtin follows its scope:
// a thread-scope builtin (ld, st, atom_add, putmem...) is executed by every thread that reaches it
// (in block-uniform code, by every thread of the block; in a T::Parallel loop, once per element), a
// warp-scope one by every warp that reaches it, a block-scope one (put_block, barrier_blocks...)
// collectively by the block, in block-uniform code only. Uniform builtins (get_rank, waits,
// fences) give every thread the same result, so they may appear anywhere.
//
// Ownership. Nodes are immutable and shared (std::shared_ptr<const Node>), built through the `make_*`
// functions, which check the node's internal invariants (a failing check is an InternalError: the
// front end and the passes must never build an ill-typed node). Whether a *program* is well formed
// (ranks, shapes, scopes, where fragments may be used) is the verifier's business and is reported as
// CompileError. Variables and buffers are identified by their node's address, not by their name.
//
// The node kinds are listed once, in TS_EXPR_KINDS and TS_STMT_KINDS; the visitor, the mutator,
// the printer and structural equality follow that list.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tilescale/dtype.h"
#include "tilescale/errors.h"

namespace tilescale::layout {
class Layout;
}

namespace tilescale::ir {

#define TS_EXPR_KINDS(X) \
  X(IntImm)              \
  X(FloatImm)            \
  X(Var)                 \
  X(Binary)              \
  X(Unary)               \
  X(Cast)                \
  X(Call)                \
  X(Load)                \
  X(Select)              \
  X(Builtin)

#define TS_STMT_KINDS(X) \
  X(Seq)                 \
  X(For)                 \
  X(If)                  \
  X(While)               \
  X(Break)               \
  X(Store)               \
  X(Alloc)               \
  X(Kernel)              \
  X(TileOp)              \
  X(Assert)              \
  X(Print)               \
  X(Annotate)            \
  X(Evaluate)            \
  X(Scoped)

enum class ExprKind {
#define TS_X(K) K,
  TS_EXPR_KINDS(TS_X)
#undef TS_X
};
enum class StmtKind {
#define TS_X(K) K,
  TS_STMT_KINDS(TS_X)
#undef TS_X
};

// ----------------------------------------------------------------------------------------------
// Expressions

struct ExprNode {
  ExprNode(ExprKind k, DataType t) : kind(k), dtype(t) {}
  virtual ~ExprNode() = default;
  const ExprKind kind;
  const DataType dtype;
};
using Expr = std::shared_ptr<const ExprNode>;

// Downcast with a kind check: `as<BinaryNode>(e)` is null when e is not a Binary.
template <typename Node>
const Node* as(const Expr& e) {
  return e && e->kind == Node::kKind ? static_cast<const Node*>(e.get()) : nullptr;
}

struct IntImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  IntImmNode(DataType t, std::int64_t v) : ExprNode(kKind, t), value(v) {}
  const std::int64_t value;
};

struct FloatImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  FloatImmNode(DataType t, double v) : ExprNode(kKind, t), value(v) {}
  const double value;
};

// A variable: loop index, block/thread index, a symbolic tensor dimension, or a scalar parameter.
struct VarNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  VarNode(DataType t, std::string n) : ExprNode(kKind, t), name(std::move(n)) {}
  const std::string name;
};
using Var = std::shared_ptr<const VarNode>;

#define TS_BINARY_OPS(X)                                                                        \
  X(Add, "+") X(Sub, "-") X(Mul, "*") X(Div, "/") X(Mod, "%") X(FloorDiv, "floordiv")          \
  X(FloorMod, "floormod") X(Min, "min") X(Max, "max") X(EQ, "==") X(NE, "!=") X(LT, "<")      \
  X(LE, "<=") X(GT, ">") X(GE, ">=") X(And, "&&") X(Or, "||") X(BitAnd, "&") X(BitOr, "|")    \
  X(BitXor, "^") X(Shl, "<<") X(Shr, ">>")

enum class BinaryOp {
#define TS_X(op, text) op,
  TS_BINARY_OPS(TS_X)
#undef TS_X
};
const char* spelling(BinaryOp op);
bool is_comparison(BinaryOp op);  // EQ..GE
bool is_logical(BinaryOp op);     // And, Or
bool is_bitwise(BinaryOp op);     // BitAnd..Shr (integers only)

struct BinaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinaryNode(DataType t, BinaryOp o, Expr x, Expr y) : ExprNode(kKind, t), op(o), a(std::move(x)), b(std::move(y)) {}
  const BinaryOp op;
  const Expr a, b;
};

enum class UnaryOp { Neg, Not, BitNot };
const char* spelling(UnaryOp op);

struct UnaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Unary;
  UnaryNode(DataType t, UnaryOp o, Expr x) : ExprNode(kKind, t), op(o), a(std::move(x)) {}
  const UnaryOp op;
  const Expr a;
};

struct CastNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Cast;
  CastNode(DataType t, Expr v) : ExprNode(kKind, t), value(std::move(v)) {}
  const Expr value;
};

// Pure math intrinsics. Their result has the type of their (float) arguments.
#define TS_INTRINSICS(X)                                                                        \
  X(Exp, "exp", 1) X(Exp2, "exp2", 1) X(Log, "log", 1) X(Log2, "log2", 1) X(Sqrt, "sqrt", 1)   \
  X(Rsqrt, "rsqrt", 1) X(Abs, "abs", 1) X(Floor, "floor", 1) X(Ceil, "ceil", 1)               \
  X(Sin, "sin", 1) X(Cos, "cos", 1) X(Tanh, "tanh", 1) X(Sigmoid, "sigmoid", 1) X(Pow, "pow", 2)

enum class Intrinsic {
#define TS_X(op, text, arity) op,
  TS_INTRINSICS(TS_X)
#undef TS_X
};
const char* spelling(Intrinsic op);
int arity(Intrinsic op);

struct CallNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Call;
  CallNode(DataType t, Intrinsic o, std::vector<Expr> a) : ExprNode(kKind, t), op(o), args(std::move(a)) {}
  const Intrinsic op;
  const std::vector<Expr> args;
};

enum class Scope { Global, Shared, Fragment, Local, Var };
const char* spelling(Scope s);  // "global", "shared", "fragment", "local", "var"

struct BufferNode {
  BufferNode(std::string n, std::vector<Expr> s, DataType t, Scope sc)
      : name(std::move(n)), shape(std::move(s)), dtype(t), scope(sc) {}
  const std::string name;
  const std::vector<Expr> shape;
  const DataType dtype;
  const Scope scope;
  int rank() const { return static_cast<int>(shape.size()); }
};
using Buffer = std::shared_ptr<const BufferNode>;

struct LoadNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  LoadNode(Buffer buf, std::vector<Expr> idx) : ExprNode(kKind, buf->dtype), buffer(std::move(buf)), indices(std::move(idx)) {}
  const Buffer buffer;
  const std::vector<Expr> indices;
};

struct SelectNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  SelectNode(Expr c, Expr t, Expr f) : ExprNode(kKind, t->dtype), cond(std::move(c)), true_value(std::move(t)), false_value(std::move(f)) {}
  const Expr cond, true_value, false_value;
};

// Attribute values of builtins, tile ops and annotations.
using Attr = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>>;
using Attrs = std::map<std::string, Attr>;

// A template argument of a device builtin call (`T.tl.gemm_ss[128, 128, 32, 2, 2, False, False,
// "float16", "float32"](...)`): an integer, a flag or an element type, in the order of the device
// function's template parameters (src/ops/device_builtins.h).
using TemplateArg = std::variant<std::int64_t, bool, DataType>;

// A call of a builtin operator with effects (see "Effects" above). `op` names its definition in the
// builtin registry (src/ops/builtin.h), which says what `args`, `attrs` and `targs` hold. An argument
// that stands for a memory location is a Load of the element meant ("the address of flag[0]"); it is
// never evaluated as a value. A builtin that returns nothing has type int32 and is used only as the
// value of an Evaluate statement. `targs` are positional template arguments (only device builtins,
// src/ops/device_builtins.h, take them).
struct BuiltinNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Builtin;
  BuiltinNode(DataType t, std::string o, std::vector<Expr> a, Attrs at, std::vector<TemplateArg> ta)
      : ExprNode(kKind, t), op(std::move(o)), args(std::move(a)), attrs(std::move(at)), targs(std::move(ta)) {}
  const std::string op;
  const std::vector<Expr> args;
  const Attrs attrs;
  const std::vector<TemplateArg> targs;
  std::int64_t int_attr(const std::string& key) const;       // InternalError when absent
  const std::string& str_attr(const std::string& key) const;  // InternalError when absent
};

Expr make_int(std::int64_t v, DataType t = DataType::Int32);
Expr make_float(double v, DataType t = DataType::Float32);
Var make_var(std::string name, DataType t = DataType::Int32);
Expr make_binary(BinaryOp op, Expr a, Expr b);  // a and b of one type
Expr make_unary(UnaryOp op, Expr a);
Expr make_cast(DataType t, Expr v);  // returns v itself when it already has type t
Expr make_call(Intrinsic op, std::vector<Expr> args);
Expr make_load(Buffer b, std::vector<Expr> indices);
Expr make_select(Expr cond, Expr t, Expr f);
Expr make_builtin(DataType t, std::string op, std::vector<Expr> args, Attrs attrs = {}, std::vector<TemplateArg> targs = {});
Buffer make_buffer(std::string name, std::vector<Expr> shape, DataType t, Scope s);

// The constant value of e, when e is an IntImm.
std::optional<std::int64_t> as_const_int(const Expr& e);
// True when e contains a Builtin call (an expression with effects, which must not be folded away).
bool has_builtin(const Expr& e);

// ----------------------------------------------------------------------------------------------
// Regions: "the tile of `buffer` starting at `base`, `extent` long in every dimension".

struct Region {
  Buffer buffer;
  std::vector<Expr> base;    // one per buffer dimension
  std::vector<Expr> extent;  // one per buffer dimension
  int rank() const { return static_cast<int>(base.size()); }
};
Region full_region(const Buffer& b);

// ----------------------------------------------------------------------------------------------
// Statements

struct StmtNode {
  explicit StmtNode(StmtKind k) : kind(k) {}
  virtual ~StmtNode() = default;
  const StmtKind kind;
};
using Stmt = std::shared_ptr<const StmtNode>;

template <typename Node>
const Node* as(const Stmt& s) {
  return s && s->kind == Node::kKind ? static_cast<const Node*>(s.get()) : nullptr;
}

struct SeqNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  explicit SeqNode(std::vector<Stmt> s) : StmtNode(kKind), stmts(std::move(s)) {}
  const std::vector<Stmt> stmts;
};

// Rolled: serial and kept rolled by the CUDA compiler (`#pragma unroll 1`), for cold paths whose
// unrolled, if-converted form would take issue slots on the hot one.
enum class ForKind { Serial, Parallel, Pipelined, Unrolled, Rolled };
const char* spelling(ForKind k);  // "serial", "Parallel", "Pipelined", "unroll", "rolled"

// Software-pipelining request of a Pipelined loop (REFERENCE.md §1). `order` and `stage` are empty
// or give one entry per top-level statement of the loop body.
struct PipelineInfo {
  int num_stages = 0;
  std::vector<int> order;
  std::vector<int> stage;
};

struct ForNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  ForNode(Var v, Expr mn, Expr ext, ForKind k, PipelineInfo p, Stmt b)
      : StmtNode(kKind), var(std::move(v)), min(std::move(mn)), extent(std::move(ext)), for_kind(k), pipeline(std::move(p)), body(std::move(b)) {}
  const Var var;
  const Expr min, extent;
  const ForKind for_kind;
  const PipelineInfo pipeline;  // meaningful for Pipelined loops only
  const Stmt body;
};

struct IfNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::If;
  IfNode(Expr c, Stmt t, Stmt e) : StmtNode(kKind), cond(std::move(c)), then_case(std::move(t)), else_case(std::move(e)) {}
  const Expr cond;
  const Stmt then_case, else_case;  // else_case may be null
};

struct WhileNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::While;
  WhileNode(Expr c, Stmt b) : StmtNode(kKind), cond(std::move(c)), body(std::move(b)) {}
  const Expr cond;
  const Stmt body;
};

// Leaves the innermost enclosing serial loop or While.
struct BreakNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Break;
  BreakNode() : StmtNode(kKind) {}
};

struct StoreNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  StoreNode(Buffer b, std::vector<Expr> i, Expr v) : StmtNode(kKind), buffer(std::move(b)), indices(std::move(i)), value(std::move(v)) {}
  const Buffer buffer;
  const std::vector<Expr> indices;
  const Expr value;  // of the buffer's dtype
};

// Declares `buffer` (shared, fragment, local or var) for the rest of the enclosing Seq.
struct AllocNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Alloc;
  explicit AllocNode(Buffer b) : StmtNode(kKind), buffer(std::move(b)) {}
  const Buffer buffer;
};

// The launch scope: `grid` blocks of `threads` threads each run `body`.
struct KernelNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Kernel;
  KernelNode(std::vector<Expr> g, int t, std::vector<Var> bv, Var tv, Stmt b)
      : StmtNode(kKind), grid(std::move(g)), threads(t), block_vars(std::move(bv)), thread_var(std::move(tv)), body(std::move(b)) {}
  const std::vector<Expr> grid;      // 3 extents (x, y, z)
  const int threads;
  const std::vector<Var> block_vars;  // bx, by, bz
  const Var thread_var;               // tx, in [0, threads)
  const Stmt body;
};

// A tile operation. `op` names its definition in the tile-op registry (src/ops/tile_op.h), which
// says what `regions`, `args` and `attrs` hold for that op.
struct TileOpNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::TileOp;
  TileOpNode(std::string o, std::vector<Region> r, std::vector<Expr> a, Attrs at)
      : StmtNode(kKind), op(std::move(o)), regions(std::move(r)), args(std::move(a)), attrs(std::move(at)) {}
  const std::string op;
  const std::vector<Region> regions;
  const std::vector<Expr> args;
  const Attrs attrs;
  std::int64_t int_attr(const std::string& key) const;  // InternalError when absent
};

// device_assert(cond, message): a failing check stops the kernel with the message.
struct AssertNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Assert;
  AssertNode(Expr c, std::string m) : StmtNode(kKind), cond(std::move(c)), message(std::move(m)) {}
  const Expr cond;
  const std::string message;
};

// print(message, value) or print(message, buffer): prints from the block's first thread.
struct PrintNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Print;
  PrintNode(std::string m, Expr v, Buffer b) : StmtNode(kKind), message(std::move(m)), value(std::move(v)), buffer(std::move(b)) {}
  const std::string message;
  const Expr value;     // may be null
  const Buffer buffer;  // may be null
};

// A hint for the compiler that does not change the program's meaning: "layout" (buffer → layout)
// or "swizzle" (block rasterization: attrs panel_size, order).
struct AnnotateNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Annotate;
  AnnotateNode(std::string k, Buffer b, std::shared_ptr<const layout::Layout> l, Attrs a)
      : StmtNode(kKind), key(std::move(k)), buffer(std::move(b)), layout(std::move(l)), attrs(std::move(a)) {}
  const std::string key;
  const Buffer buffer;                                 // "layout" only
  const std::shared_ptr<const layout::Layout> layout;  // "layout" only
  const Attrs attrs;
};

// Evaluates `value` (a Builtin call) for its effects; the result, if any, is dropped.
struct EvaluateNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Evaluate;
  explicit EvaluateNode(Expr v) : StmtNode(kKind), value(std::move(v)) {}
  const Expr value;
};

// A region of the program that a later pass treats as one: `key` names what it is, `args` are the
// values and buffers it is about (a buffer as a Load of its first element, as builtins take memory)
// and `attrs` hold the decisions about it (design/thread-level-ir.md §2). An Alloc in the body goes
// out of scope at its end. Printed `with T.<key>(args..., k=v, ...):` above the indented body. The
// keys the passes build (passes/specialize_warps.h, passes/expand_pipelines.h,
// passes/make_persistent.h, passes/lower_to_threads.h) and the CUDA generator prints:
//   warp_role(first_thread=, threads=, barrier=)  the threads that run the body; the
//        role's block-wide barrier is named barrier `barrier` (0: __syncthreads)
//   stage(index, A_shared[0, 0], ...)   the body reads and writes stage `index` of the staged buffers
//   async_proxy_ready(A_shared[0, 0], ...)  wgmma may read these shared buffers with no fence first
//   grid_points()                       a persistent block runs the body once per grid point
//   pipeline()                          a cp.async pipeline: its prologue, loop and final wait
//   async_copies()                      the body's copies are issued as cp.async, complete at a
//                                       later tl.cp_async_wait of the pipeline
//   bind(k, value, min, extent)         defines variable k = value in the body, a value of
//                                       [min, min + extent) (another iteration's loop variable)
//   parallel_over(C_local[0, 0]) or parallel_over(threads=128)  the T::Parallel nest below runs
//                                       over the registers of that fragment (each thread its own
//                                       elements), or the default partition over that many threads
//   unit()                              the body is one statement's, its temporaries its own
//                                       (printed as a C++ block)
//   expansion(of="copy")                the body is the thread-level form of a tile op, or of a
//                                       T::Parallel nest (of="T.Parallel"): collective, like the
//                                       statement it came from (passes/lower_to_threads.h)
// The CPU backend never sees one (it runs tile-level IR).
struct ScopedNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Scoped;
  ScopedNode(std::string k, std::vector<Expr> ar, Attrs a, Stmt b)
      : StmtNode(kKind), key(std::move(k)), args(std::move(ar)), attrs(std::move(a)), body(std::move(b)) {}
  const std::string key;
  const std::vector<Expr> args;
  const Attrs attrs;
  const Stmt body;
};

Stmt make_seq(std::vector<Stmt> stmts);  // flattens nested Seqs; a single statement stays itself
Stmt make_for(Var v, Expr min, Expr extent, ForKind k, Stmt body, PipelineInfo p = {});
Stmt make_if(Expr cond, Stmt then_case, Stmt else_case = nullptr);
Stmt make_while(Expr cond, Stmt body);
Stmt make_break();
Stmt make_store(Buffer b, std::vector<Expr> indices, Expr value);
Stmt make_alloc(Buffer b);
Stmt make_kernel(std::vector<Expr> grid, int threads, std::vector<Var> block_vars, Var thread_var, Stmt body);
Stmt make_tile_op(std::string op, std::vector<Region> regions, std::vector<Expr> args = {}, Attrs attrs = {});
Stmt make_assert(Expr cond, std::string message);
Stmt make_print(std::string message, Expr value, Buffer buffer);
Stmt make_annotate(std::string key, Buffer b, std::shared_ptr<const layout::Layout> l, Attrs attrs);
Stmt make_evaluate(Expr value);  // value must be a Builtin call
Stmt make_scoped(std::string key, Attrs attrs, Stmt body, std::vector<Expr> args = {});

// ----------------------------------------------------------------------------------------------
// Functions

// A parameter of a PrimFunc: a global tensor, or a scalar passed by value (T::ScalarParam): a Var of
// type int32, int64 or float32 that the body uses like any other value. Exactly one of the two is set.
struct Param {
  Param(Buffer t);                        // NOLINT: tensor lists convert
  Param(Var s) : scalar(std::move(s)) {}  // NOLINT
  Buffer tensor;
  Var scalar;
  // A tensor's strides in elements, one int64 variable per dimension but the last (whose stride is
  // 1): `A_stride0`. The caller's tensor binds them; thread-level IR addresses global memory with
  // them (passes/lower_to_threads.h).
  std::vector<Var> strides;
  const std::string& name() const { return tensor ? tensor->name : scalar->name; }
  DataType dtype() const { return tensor ? tensor->dtype : scalar->dtype; }
};
bool is_scalar_param_type(DataType t);  // int32, int64, float32

// Parameters are one list, tensors and scalars interleaved in call order (the order the program
// declared them): an argument's position is its index in `params` on every backend and in the
// runtime. Scalar parameters are bound by the caller's values; symbolic dimensions by the tensors'
// shapes.
struct PrimFuncNode {
  PrimFuncNode(std::string n, std::vector<Param> p, Stmt b) : name(std::move(n)), params(std::move(p)), body(std::move(b)) {}
  const std::string name;
  const std::vector<Param> params;  // in call order
  const Stmt body;
  // The symbolic dimensions of the tensor parameters' shapes, in order of first appearance.
  std::vector<Var> symbolic_dims() const;
};
using PrimFunc = std::shared_ptr<const PrimFuncNode>;

PrimFunc make_prim_func(std::string name, std::vector<Param> params, Stmt body);

}  // namespace tilescale::ir
