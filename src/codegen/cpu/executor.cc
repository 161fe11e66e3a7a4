#include "codegen/cpu/executor.h"

#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "ir/printer.h"
#include "ir/visitor.h"
#include "ops/builtin.h"
#include "ops/thread_level.h"
#include "ops/tile_op.h"
#include "runtime/arguments.h"
#include "runtime/dist/sim.h"

namespace tilescale::cpu {

using tilescale::detail::cat;

namespace {

constexpr int kMaxRank = 8;

struct BufferState {
  std::byte* data = nullptr;
  std::vector<std::int64_t> shape, strides;
  std::int64_t numel = 0;  // elements of one copy
  int copies = 1;          // thread-private buffers hold one copy per thread
  bool bound = false;      // an argument, or its Alloc has run
  std::vector<std::byte> owned;
};

// The state of the block being run (one per block thread when blocks run concurrently).
struct State {
  std::vector<std::int64_t> vars;  // by var slot; a float scalar parameter holds its value's bits (std::bit_cast)
  std::vector<BufferState> buffers;
  std::int64_t tid = -1;  // the running thread in thread-level statements, -1 in uniform ones
  const std::vector<int>* block_slots = nullptr;
  const std::string* kernel = nullptr;
  // Distributed runs: the rank the kernel runs as, and the participant (the block's own thread, or
  // the rank's host thread when blocks run one after another) that waits go through.
  sim::RankView rank;
  sim::Participant* participant = nullptr;
  std::array<std::int64_t, 3> grid{1, 1, 1};

  std::string where() const {
    std::string s = cat("in kernel ", *kernel);
    if (rank.world) s += cat(", rank ", rank.rank);
    if (block_slots)
      s += cat(", block (", vars[(*block_slots)[0]], ", ", vars[(*block_slots)[1]], ", ", vars[(*block_slots)[2]], ")");
    if (tid >= 0) s += cat(", thread ", tid);
    return s;
  }
};

using IntFn = std::function<std::int64_t(State&)>;
using FloatFn = std::function<double(State&)>;
enum class Flow { Next, Break };
using StmtFn = std::function<Flow(State&)>;
using AddressFn = std::function<std::byte*(State&)>;
using ElementFn = std::function<ops::CpuAddress(State&)>;
using BuiltinFn = std::function<ops::CpuValue(State&)>;

// Blocks of a kernel that waits each get a host thread; beyond this many, the simulation refuses.
constexpr std::int64_t kMaxConcurrentBlocks = 4096;

// A builtin's argument, compiled: a memory operand or a value.
struct BuiltinArg {
  ElementFn address;
  IntFn int_value;
  FloatFn float_value;
};

// One evaluation of a builtin on the CPU backend (ops/builtin.h).
class CpuCall final : public ops::BuiltinCpuCall {
 public:
  CpuCall(State& s, const std::vector<BuiltinArg>& args, int threads) : s_(s), args_(args), threads_(threads) {}
  ops::CpuAddress address(std::size_t i) override { return args_.at(i).address(s_); }
  std::int64_t int_arg(std::size_t i) override { return args_.at(i).int_value(s_); }
  double float_arg(std::size_t i) override { return args_.at(i).float_value(s_); }
  std::int64_t int_arg_of_thread(std::size_t i, std::int64_t thread) override {
    const std::int64_t saved = s_.tid;
    s_.tid = thread;
    const std::int64_t v = args_.at(i).int_value(s_);
    s_.tid = saved;
    return v;
  }
  const sim::RankView& rank() const override { return s_.rank; }
  sim::Participant& participant() const override {
    TS_ICHECK(s_.participant, "a waiting builtin run without a participant");
    return *s_.participant;
  }
  std::int64_t thread() const override { return s_.tid; }
  std::array<std::int64_t, 3> block() const override {
    const auto& b = *s_.block_slots;
    return {s_.vars[b[0]], s_.vars[b[1]], s_.vars[b[2]]};
  }
  std::array<std::int64_t, 3> grid() const override { return s_.grid; }
  int threads() const override { return threads_; }
  std::string where() const override { return s_.where(); }

 private:
  State& s_;
  const std::vector<BuiltinArg>& args_;
  int threads_;
};

double round_float(DataType t, double v) {
  if (t == DataType::Float64) return v;
  if (t == DataType::Float32) return double(float(v));
  return round_to(t, v);
}

std::int64_t floordiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::string format_index(const std::int64_t* idx, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(idx[i]);
  return s;
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  return "[" + format_index(shape.data(), static_cast<int>(shape.size())) + "]";
}

// A buffer whose Alloc has not run holds no memory; the verifier keeps uses inside their Alloc's
// scope, so reaching one is a compiler bug.
void check_allocated(const BufferState& bs, int rank, const std::string& name, const State& s) {
  if (!bs.bound || bs.shape.size() != static_cast<size_t>(rank))
    throw InternalError(cat("buffer ", name, " used ", s.where(), " before its allocation ran"));
}

class Compiler {
 public:
  explicit Compiler(const ir::PrimFuncNode& f) : func_(f) {}

  int num_vars() const { return static_cast<int>(var_slots_.size()); }
  int num_buffers() const { return static_cast<int>(buffer_slots_.size()); }
  const std::vector<int>& block_slots() const { return block_slots_; }
  bool uses_blocking_builtins() const { return ops::uses_blocking_builtins(func_.body); }

  int var_slot(const ir::VarNode* v) {
    auto [it, fresh] = var_slots_.emplace(v, static_cast<int>(var_slots_.size()));
    return it->second;
  }
  int buffer_slot(const ir::BufferNode* b) {
    auto [it, fresh] = buffer_slots_.emplace(b, static_cast<int>(buffer_slots_.size()));
    return it->second;
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  IntFn int_expr(const ir::Expr& e) {
    TS_ICHECK(!is_float(e->dtype), "int_expr of a ", name(e->dtype), " expression");
    const DataType t = e->dtype;
    switch (e->kind) {
      case ir::ExprKind::IntImm: {
        const std::int64_t v = ir::as<ir::IntImmNode>(e)->value;
        return [v](State&) { return v; };
      }
      case ir::ExprKind::Var: {
        const int slot = var_slot(ir::as<ir::VarNode>(e));
        if (ir::as<ir::VarNode>(e) == thread_var_) return [](State& s) { return s.tid; };
        return [slot](State& s) { return s.vars[slot]; };
      }
      case ir::ExprKind::Binary: return binary_int(*ir::as<ir::BinaryNode>(e), e);
      case ir::ExprKind::Unary: {
        const auto* u = ir::as<ir::UnaryNode>(e);
        IntFn a = int_expr(u->a);
        switch (u->op) {
          case ir::UnaryOp::Neg: return [a, t](State& s) { return wrap_to(t, -a(s)); };
          case ir::UnaryOp::Not: return [a](State& s) { return std::int64_t(!a(s)); };
          case ir::UnaryOp::BitNot: return [a, t](State& s) { return wrap_to(t, ~a(s)); };
        }
        break;
      }
      case ir::ExprKind::Cast: {
        const ir::Expr& v = ir::as<ir::CastNode>(e)->value;
        if (is_float(v->dtype)) {
          FloatFn f = float_expr(v);
          if (is_bool(t)) return [f](State& s) { return std::int64_t(f(s) != 0); };
          return [f, t](State& s) { return std::int64_t(round_to(t, f(s))); };
        }
        IntFn f = int_expr(v);
        return [f, t](State& s) { return wrap_to(t, f(s)); };
      }
      case ir::ExprKind::Call: {
        const auto* c = ir::as<ir::CallNode>(e);
        TS_ICHECK(c->op == ir::Intrinsic::Abs, "integer ", ir::spelling(c->op));
        IntFn a = int_expr(c->args[0]);
        return [a, t](State& s) { return wrap_to(t, std::llabs(a(s))); };
      }
      case ir::ExprKind::Load: {
        const auto* l = ir::as<ir::LoadNode>(e);
        AddressFn addr = address(l->buffer, l->indices, "load from");
        return [addr, t](State& s) { return load_as_int(t, addr(s)); };
      }
      case ir::ExprKind::Select: {
        const auto* sel = ir::as<ir::SelectNode>(e);
        IntFn c = int_expr(sel->cond), a = int_expr(sel->true_value), b = int_expr(sel->false_value);
        return [c, a, b](State& s) { return c(s) ? a(s) : b(s); };
      }
      case ir::ExprKind::Builtin: {
        BuiltinFn f = builtin(*ir::as<ir::BuiltinNode>(e));
        return [f, t](State& s) { return wrap_to(t, f(s).i); };
      }
      case ir::ExprKind::FloatImm: break;
    }
    throw InternalError(cat("cannot evaluate ", ir::print(e), " as an integer"));
  }

  FloatFn float_expr(const ir::Expr& e) {
    TS_ICHECK(is_float(e->dtype), "float_expr of a ", name(e->dtype), " expression");
    const DataType t = e->dtype;
    switch (e->kind) {
      case ir::ExprKind::FloatImm: {
        const double v = round_float(t, ir::as<ir::FloatImmNode>(e)->value);
        return [v](State&) { return v; };
      }
      case ir::ExprKind::Var: {  // a float scalar parameter
        const int slot = var_slot(ir::as<ir::VarNode>(e));
        return [slot](State& s) { return std::bit_cast<double>(s.vars[slot]); };
      }
      case ir::ExprKind::Binary: {
        const auto* b = ir::as<ir::BinaryNode>(e);
        FloatFn x = float_expr(b->a), y = float_expr(b->b);
        switch (b->op) {
          case ir::BinaryOp::Add: return [x, y, t](State& s) { return round_float(t, x(s) + y(s)); };
          case ir::BinaryOp::Sub: return [x, y, t](State& s) { return round_float(t, x(s) - y(s)); };
          case ir::BinaryOp::Mul: return [x, y, t](State& s) { return round_float(t, x(s) * y(s)); };
          case ir::BinaryOp::Div: return [x, y, t](State& s) { return round_float(t, x(s) / y(s)); };
          case ir::BinaryOp::Mod: return [x, y, t](State& s) { return round_float(t, std::fmod(x(s), y(s))); };
          case ir::BinaryOp::FloorDiv: return [x, y, t](State& s) { return round_float(t, std::floor(x(s) / y(s))); };
          case ir::BinaryOp::FloorMod:
            return [x, y, t](State& s) {
              const double a = x(s), m = y(s);
              return round_float(t, a - std::floor(a / m) * m);
            };
          case ir::BinaryOp::Min: return [x, y](State& s) { return std::fmin(x(s), y(s)); };
          case ir::BinaryOp::Max: return [x, y](State& s) { return std::fmax(x(s), y(s)); };
          default: break;
        }
        break;
      }
      case ir::ExprKind::Unary: {
        const auto* u = ir::as<ir::UnaryNode>(e);
        TS_ICHECK(u->op == ir::UnaryOp::Neg, "float ", ir::spelling(u->op));
        FloatFn a = float_expr(u->a);
        return [a](State& s) { return -a(s); };
      }
      case ir::ExprKind::Cast: {
        const ir::Expr& v = ir::as<ir::CastNode>(e)->value;
        if (is_float(v->dtype)) {
          FloatFn f = float_expr(v);
          return [f, t](State& s) { return round_float(t, f(s)); };
        }
        IntFn f = int_expr(v);
        if (v->dtype == DataType::UInt64) return [f, t](State& s) { return round_float(t, double(std::uint64_t(f(s)))); };
        return [f, t](State& s) { return round_float(t, double(f(s))); };
      }
      case ir::ExprKind::Call: return call(*ir::as<ir::CallNode>(e));
      case ir::ExprKind::Load: {
        const auto* l = ir::as<ir::LoadNode>(e);
        AddressFn addr = address(l->buffer, l->indices, "load from");
        if (t == DataType::Float32)
          return [addr](State& s) {
            float f;
            std::memcpy(&f, addr(s), 4);
            return double(f);
          };
        return [addr, t](State& s) { return load_as_double(t, addr(s)); };
      }
      case ir::ExprKind::Select: {
        const auto* sel = ir::as<ir::SelectNode>(e);
        IntFn c = int_expr(sel->cond);
        FloatFn a = float_expr(sel->true_value), b = float_expr(sel->false_value);
        return [c, a, b](State& s) { return c(s) ? a(s) : b(s); };
      }
      case ir::ExprKind::Builtin: {
        BuiltinFn f = builtin(*ir::as<ir::BuiltinNode>(e));
        return [f, t](State& s) { return round_float(t, f(s).f); };
      }
      default: break;
    }
    throw InternalError(cat("cannot evaluate ", ir::print(e), " as a float"));
  }

  // Any expression as a double (tile-op arguments, print).
  FloatFn value_as_double(const ir::Expr& e) {
    if (is_float(e->dtype)) return float_expr(e);
    IntFn f = int_expr(e);
    return [f](State& s) { return double(f(s)); };
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

  StmtFn stmt(const ir::Stmt& s) {
    if (thread_level_ && !in_parallel_) {
      const bool control = s->kind == ir::StmtKind::For || s->kind == ir::StmtKind::If || s->kind == ir::StmtKind::While;
      if (log_ && control) log_->push_back(ops::decision(*s, thread_level_->diverges(*s)));
      if (!thread_mode_ && thread_level_->is_thread_level(*s)) return per_thread(s);
    }
    switch (s->kind) {
      case ir::StmtKind::Seq: {
        std::vector<StmtFn> fns;
        for (const auto& c : ir::as<ir::SeqNode>(s)->stmts) fns.push_back(stmt(c));
        return [fns](State& st) {
          for (const auto& f : fns)
            if (f(st) == Flow::Break) return Flow::Break;
          return Flow::Next;
        };
      }
      case ir::StmtKind::For: {
        const auto* f = ir::as<ir::ForNode>(s);
        const int slot = var_slot(f->var.get());
        IntFn mn = int_expr(f->min), ext = int_expr(f->extent);
        // A T::Parallel loop runs each element once, uniformly.
        const bool saved = in_parallel_;
        in_parallel_ |= f->for_kind == ir::ForKind::Parallel;
        StmtFn body = stmt(f->body);
        in_parallel_ = saved;
        return [slot, mn, ext, body](State& st) {
          const std::int64_t lo = mn(st), hi = lo + ext(st);
          for (std::int64_t i = lo; i < hi; ++i) {
            st.vars[slot] = i;
            if (body(st) == Flow::Break) break;
          }
          return Flow::Next;
        };
      }
      case ir::StmtKind::If: {
        const auto* i = ir::as<ir::IfNode>(s);
        IntFn c = int_expr(i->cond);
        StmtFn t = stmt(i->then_case);
        StmtFn e = i->else_case ? stmt(i->else_case) : StmtFn([](State&) { return Flow::Next; });
        return [c, t, e](State& st) { return c(st) ? t(st) : e(st); };
      }
      case ir::StmtKind::While: {
        const auto* w = ir::as<ir::WhileNode>(s);
        IntFn c = int_expr(w->cond);
        StmtFn body = stmt(w->body);
        return [c, body](State& st) {
          while (c(st))
            if (body(st) == Flow::Break) break;
          return Flow::Next;
        };
      }
      case ir::StmtKind::Break: return [](State&) { return Flow::Break; };
      case ir::StmtKind::Store: return store(*ir::as<ir::StoreNode>(s));
      case ir::StmtKind::Alloc: return alloc(*ir::as<ir::AllocNode>(s)->buffer);
      case ir::StmtKind::Kernel: return kernel(*ir::as<ir::KernelNode>(s));
      case ir::StmtKind::TileOp: return tile_op(*ir::as<ir::TileOpNode>(s));
      case ir::StmtKind::Assert: {
        const auto* a = ir::as<ir::AssertNode>(s);
        IntFn c = int_expr(a->cond);
        std::string msg = a->message, cond = ir::print(a->cond);
        return [c, msg, cond](State& st) {
          if (!c(st)) throw RuntimeError(cat("device_assert(", cond, ") failed ", st.where(), ": ", msg));
          return Flow::Next;
        };
      }
      case ir::StmtKind::Print: return print(*ir::as<ir::PrintNode>(s));
      case ir::StmtKind::Annotate: return [](State&) { return Flow::Next; };
      case ir::StmtKind::Scoped: throw InternalError(cat("T.", ir::as<ir::ScopedNode>(s)->key, " scope reached the CPU backend"));
      case ir::StmtKind::Evaluate: {
        BuiltinFn f = builtin(*ir::as<ir::BuiltinNode>(ir::as<ir::EvaluateNode>(s)->value));
        return [f](State& st) {
          f(st);
          return Flow::Next;
        };
      }
    }
    throw InternalError("unknown statement kind");
  }

  const ir::VarNode* thread_var_ = nullptr;
  int threads_ = 1;
  ops::ThreadLevelLog* log_ = nullptr;  // where to record the thread-level decisions, when asked

 private:
  const ir::PrimFuncNode& func_;
  std::map<const ir::VarNode*, int> var_slots_;
  std::map<const ir::BufferNode*, int> buffer_slots_;
  std::vector<int> block_slots_;
  std::optional<ops::ThreadLevel> thread_level_;  // of the kernel being compiled
  bool thread_mode_ = false;
  bool in_parallel_ = false;

  // A memory operand of a builtin: the element's address for the running thread, bounds-checked,
  // with the elements from it to the end of its buffer.
  ElementFn element(const ir::LoadNode& l) {
    const ir::Buffer& b = l.buffer;
    const int slot = buffer_slot(b.get());
    std::vector<IntFn> idx;
    for (const auto& i : l.indices) idx.push_back(int_expr(i));
    const int rank = static_cast<int>(idx.size());
    const int elem = bytes(b->dtype);
    const ir::BufferNode* buffer = b.get();
    return [slot, idx, rank, elem, buffer](State& s) {
      BufferState& bs = s.buffers[slot];
      check_allocated(bs, rank, buffer->name, s);
      std::int64_t at[kMaxRank];
      std::int64_t off = 0, flat = 0;
      bool contiguous = true;
      std::int64_t expect = 1;
      for (int d = rank - 1; d >= 0; --d) {
        contiguous &= bs.strides[d] == expect;
        expect *= bs.shape[d];
      }
      for (int d = 0; d < rank; ++d) {
        at[d] = idx[d](s);
        if (at[d] < 0 || at[d] >= bs.shape[d])
          throw RuntimeError(cat("out-of-bounds operand ", buffer->name, "[", format_index(at, d + 1), "] (shape ",
                                 format_shape(bs.shape), ") ", s.where(), "; guard the access with T::If"));
        off += at[d] * bs.strides[d];
        flat = flat * bs.shape[d] + at[d];
      }
      if (bs.copies > 1) off += std::max<std::int64_t>(s.tid, 0) * bs.numel;
      ops::CpuAddress a;
      a.data = bs.data + off * elem;
      a.elements = rank == 0 ? 1 : contiguous ? bs.numel - flat : bs.shape[rank - 1] - at[rank - 1];
      a.buffer = buffer;
      a.text = cat(buffer->name, "[", format_index(at, rank), "]");
      return a;
    };
  }

  BuiltinFn builtin(const ir::BuiltinNode& b) {
    const ops::BuiltinDef& def = ops::builtin(b.op);
    std::vector<BuiltinArg> args;
    for (std::size_t i = 0; i < b.args.size(); ++i) {
      BuiltinArg a;
      if (def.is_address(b, i)) {
        a.address = element(*ir::as<ir::LoadNode>(b.args[i]));
      } else if (is_float(b.args[i]->dtype)) {
        a.float_value = float_expr(b.args[i]);
        a.int_value = [f = a.float_value](State& s) { return static_cast<std::int64_t>(f(s)); };
      } else {
        a.int_value = int_expr(b.args[i]);
        a.float_value = [f = a.int_value](State& s) { return static_cast<double>(f(s)); };
      }
      args.push_back(std::move(a));
    }
    // A warp builtin with effects runs once per warp: when the warp's lane 0 reaches it.
    const bool lane0 = def.scope == ops::BuiltinScope::Warp && !def.returns_value;
    const int threads = threads_;
    return [&def, &b, args, lane0, threads](State& s) {
      if (lane0 && s.tid > 0 && s.tid % 32 != 0) return ops::CpuValue{};
      CpuCall call(s, args, threads);
      return def.run_cpu(b, call);
    };
  }

  IntFn binary_int(const ir::BinaryNode& b, const ir::Expr& self) {
    const DataType t = b.dtype;
    if (is_float(b.a->dtype)) {
      FloatFn x = float_expr(b.a), y = float_expr(b.b);
      switch (b.op) {
        case ir::BinaryOp::EQ: return [x, y](State& s) { return std::int64_t(x(s) == y(s)); };
        case ir::BinaryOp::NE: return [x, y](State& s) { return std::int64_t(x(s) != y(s)); };
        case ir::BinaryOp::LT: return [x, y](State& s) { return std::int64_t(x(s) < y(s)); };
        case ir::BinaryOp::LE: return [x, y](State& s) { return std::int64_t(x(s) <= y(s)); };
        case ir::BinaryOp::GT: return [x, y](State& s) { return std::int64_t(x(s) > y(s)); };
        case ir::BinaryOp::GE: return [x, y](State& s) { return std::int64_t(x(s) >= y(s)); };
        default: throw InternalError(cat("float operands for integer ", ir::spelling(b.op)));
      }
    }
    IntFn x = int_expr(b.a), y = int_expr(b.b);
    const bool is_unsigned = !is_signed(b.a->dtype);
    const char* what = b.op == ir::BinaryOp::Div        ? "division by zero (/)"
                       : b.op == ir::BinaryOp::Mod      ? "modulo by zero (%)"
                       : b.op == ir::BinaryOp::FloorDiv ? "division by zero (T::floordiv)"
                                                        : "modulo by zero (T::floormod)";
    auto check_zero = [what, text = ir::print(self)](State& s, std::int64_t d) {
      if (d == 0)
        throw RuntimeError(cat("cannot evaluate ", text, " ", s.where(), " because of an integer ", what,
                               "; guard the divisor with T::If or T::if_then_else"));
    };
    switch (b.op) {
      case ir::BinaryOp::Add: return [x, y, t](State& s) { return wrap_to(t, x(s) + y(s)); };
      case ir::BinaryOp::Sub: return [x, y, t](State& s) { return wrap_to(t, x(s) - y(s)); };
      case ir::BinaryOp::Mul: return [x, y, t](State& s) { return wrap_to(t, x(s) * y(s)); };
      case ir::BinaryOp::Div:
        return [x, y, t, check_zero, is_unsigned](State& s) {
          const std::int64_t a = x(s), d = y(s);
          check_zero(s, d);
          return wrap_to(t, is_unsigned ? std::int64_t(std::uint64_t(a) / std::uint64_t(d)) : a / d);
        };
      case ir::BinaryOp::Mod:
        return [x, y, t, check_zero, is_unsigned](State& s) {
          const std::int64_t a = x(s), d = y(s);
          check_zero(s, d);
          return wrap_to(t, is_unsigned ? std::int64_t(std::uint64_t(a) % std::uint64_t(d)) : a % d);
        };
      case ir::BinaryOp::FloorDiv:
        return [x, y, t, check_zero](State& s) {
          const std::int64_t a = x(s), d = y(s);
          check_zero(s, d);
          return wrap_to(t, floordiv(a, d));
        };
      case ir::BinaryOp::FloorMod:
        return [x, y, t, check_zero](State& s) {
          const std::int64_t a = x(s), d = y(s);
          check_zero(s, d);
          return wrap_to(t, a - floordiv(a, d) * d);
        };
      case ir::BinaryOp::Min: return [x, y](State& s) { return std::min(x(s), y(s)); };
      case ir::BinaryOp::Max: return [x, y](State& s) { return std::max(x(s), y(s)); };
      case ir::BinaryOp::EQ: return [x, y](State& s) { return std::int64_t(x(s) == y(s)); };
      case ir::BinaryOp::NE: return [x, y](State& s) { return std::int64_t(x(s) != y(s)); };
      case ir::BinaryOp::LT:
        if (is_unsigned) return [x, y](State& s) { return std::int64_t(std::uint64_t(x(s)) < std::uint64_t(y(s))); };
        return [x, y](State& s) { return std::int64_t(x(s) < y(s)); };
      case ir::BinaryOp::LE:
        if (is_unsigned) return [x, y](State& s) { return std::int64_t(std::uint64_t(x(s)) <= std::uint64_t(y(s))); };
        return [x, y](State& s) { return std::int64_t(x(s) <= y(s)); };
      case ir::BinaryOp::GT:
        if (is_unsigned) return [x, y](State& s) { return std::int64_t(std::uint64_t(x(s)) > std::uint64_t(y(s))); };
        return [x, y](State& s) { return std::int64_t(x(s) > y(s)); };
      case ir::BinaryOp::GE:
        if (is_unsigned) return [x, y](State& s) { return std::int64_t(std::uint64_t(x(s)) >= std::uint64_t(y(s))); };
        return [x, y](State& s) { return std::int64_t(x(s) >= y(s)); };
      case ir::BinaryOp::And: return [x, y](State& s) { return std::int64_t(x(s) && y(s)); };
      case ir::BinaryOp::Or: return [x, y](State& s) { return std::int64_t(x(s) || y(s)); };
      case ir::BinaryOp::BitAnd: return [x, y, t](State& s) { return wrap_to(t, x(s) & y(s)); };
      case ir::BinaryOp::BitOr: return [x, y, t](State& s) { return wrap_to(t, x(s) | y(s)); };
      case ir::BinaryOp::BitXor: return [x, y, t](State& s) { return wrap_to(t, x(s) ^ y(s)); };
      case ir::BinaryOp::Shl: return [x, y, t](State& s) { return wrap_to(t, std::int64_t(std::uint64_t(x(s)) << y(s))); };
      case ir::BinaryOp::Shr:
        if (is_unsigned) return [x, y, t](State& s) { return wrap_to(t, std::int64_t(std::uint64_t(x(s)) >> y(s))); };
        return [x, y, t](State& s) { return wrap_to(t, x(s) >> y(s)); };
    }
    throw InternalError("unknown binary op");
  }

  FloatFn call(const ir::CallNode& c) {
    const DataType t = c.dtype;
    FloatFn a = float_expr(c.args[0]);
    auto unary = [&](double (*fn)(double)) -> FloatFn { return [a, t, fn](State& s) { return round_float(t, fn(a(s))); }; };
    switch (c.op) {
      case ir::Intrinsic::Exp: return unary([](double x) { return std::exp(x); });
      case ir::Intrinsic::Exp2: return unary([](double x) { return std::exp2(x); });
      case ir::Intrinsic::Log: return unary([](double x) { return std::log(x); });
      case ir::Intrinsic::Log2: return unary([](double x) { return std::log2(x); });
      case ir::Intrinsic::Sqrt: return unary([](double x) { return std::sqrt(x); });
      case ir::Intrinsic::Rsqrt: return unary([](double x) { return 1.0 / std::sqrt(x); });
      case ir::Intrinsic::Abs: return unary([](double x) { return std::fabs(x); });
      case ir::Intrinsic::Floor: return unary([](double x) { return std::floor(x); });
      case ir::Intrinsic::Ceil: return unary([](double x) { return std::ceil(x); });
      case ir::Intrinsic::Sin: return unary([](double x) { return std::sin(x); });
      case ir::Intrinsic::Cos: return unary([](double x) { return std::cos(x); });
      case ir::Intrinsic::Tanh: return unary([](double x) { return std::tanh(x); });
      case ir::Intrinsic::Sigmoid: return unary([](double x) { return 1.0 / (1.0 + std::exp(-x)); });
      case ir::Intrinsic::Pow: {
        FloatFn b = float_expr(c.args[1]);
        return [a, b, t](State& s) { return round_float(t, std::pow(a(s), b(s))); };
      }
    }
    throw InternalError("unknown intrinsic");
  }

  // The address of buffer[indices] for the running thread, bounds-checked.
  AddressFn address(const ir::Buffer& b, const std::vector<ir::Expr>& indices, const char* what) {
    const int slot = buffer_slot(b.get());
    std::vector<IntFn> idx;
    for (const auto& i : indices) idx.push_back(int_expr(i));
    const int rank = static_cast<int>(idx.size());
    if (rank > kMaxRank) throw CompileError(cat("cannot run ", b->name, " on the CPU backend: rank ", rank, " > ", kMaxRank));
    const int elem = bytes(b->dtype);
    const std::string* name = &b->name;
    return [slot, idx, rank, elem, name, what](State& s) {
      BufferState& bs = s.buffers[slot];
      check_allocated(bs, rank, *name, s);
      std::int64_t at[kMaxRank];
      std::int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        at[d] = idx[d](s);
        off += at[d] * bs.strides[d];
      }
      for (int d = 0; d < rank; ++d)
        if (at[d] < 0 || at[d] >= bs.shape[d])
          throw RuntimeError(cat("out-of-bounds ", what, " ", *name, "[", format_index(at, rank), "] (shape ",
                                 format_shape(bs.shape), ") ", s.where(), "; guard the access with T::If"));
      if (bs.copies > 1) off += std::max<std::int64_t>(s.tid, 0) * bs.numel;
      return bs.data + off * elem;
    };
  }

  StmtFn store(const ir::StoreNode& st) {
    AddressFn addr = address(st.buffer, st.indices, "store to");
    const DataType t = st.buffer->dtype;
    const int slot = buffer_slot(st.buffer.get());
    const int elem = bytes(t);
    // A uniform store to a thread-private buffer writes every thread's copy.
    auto broadcast = [slot, elem](State& s, std::byte* p) {
      BufferState& bs = s.buffers[slot];
      if (bs.copies == 1 || s.tid >= 0) return;
      for (int c = 1; c < bs.copies; ++c) std::memcpy(p + c * bs.numel * elem, p, elem);
    };
    if (is_float(t)) {
      FloatFn v = float_expr(st.value);
      return [addr, v, t, broadcast](State& s) {
        const double x = v(s);
        std::byte* p = addr(s);
        store_double(t, x, p);
        broadcast(s, p);
        return Flow::Next;
      };
    }
    IntFn v = int_expr(st.value);
    return [addr, v, t, broadcast](State& s) {
      const std::int64_t x = v(s);
      std::byte* p = addr(s);
      store_int(t, x, p);
      broadcast(s, p);
      return Flow::Next;
    };
  }

  StmtFn alloc(const ir::BufferNode& b) {
    const int slot = buffer_slot(&b);
    std::vector<std::int64_t> shape;
    for (const auto& d : b.shape) shape.push_back(*ir::as_const_int(d));  // the verifier made them constant
    // Storage that holds a different value in each thread gets a copy per thread.
    const int copies = thread_level_ && thread_level_->varies(&b) ? threads_ : 1;
    const int elem = bytes(b.dtype);
    return [slot, shape, copies, elem](State& s) {
      BufferState& bs = s.buffers[slot];
      bs.shape = shape;
      bs.strides.assign(shape.size(), 1);
      for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) bs.strides[d] = bs.strides[d + 1] * shape[d + 1];
      bs.numel = 1;
      for (auto e : shape) bs.numel *= e;
      bs.copies = copies;
      // Poison: NaN for floats, -1 for integers, so reading what was never written is visible.
      bs.owned.assign(static_cast<size_t>(bs.numel * copies * elem), std::byte{0xFF});
      bs.data = bs.owned.data();
      bs.bound = true;
      return Flow::Next;
    };
  }

  StmtFn kernel(const ir::KernelNode& k) {
    thread_var_ = k.thread_var.get();
    threads_ = k.threads;
    thread_level_.emplace(k);
    std::vector<IntFn> grid;
    for (const auto& g : k.grid) grid.push_back(int_expr(g));
    block_slots_.clear();
    for (const auto& v : k.block_vars) block_slots_.push_back(var_slot(v.get()));
    StmtFn body = stmt(k.body);
    const std::vector<int> slots = block_slots_;
    const bool concurrent = ops::uses_blocking_builtins(k.body);
    return [grid, slots, body, concurrent](State& s) {
      s.grid = {grid[0](s), grid[1](s), grid[2](s)};
      if (concurrent) return run_blocks_concurrently(s, slots, body);
      for (std::int64_t z = 0; z < s.grid[2]; ++z)
        for (std::int64_t y = 0; y < s.grid[1]; ++y)
          for (std::int64_t x = 0; x < s.grid[0]; ++x) {
            s.vars[slots[0]] = x, s.vars[slots[1]] = y, s.vars[slots[2]] = z;
            body(s);
          }
      return Flow::Next;
    };
  }

  // A kernel that waits runs each block on its own thread, as a participant of the sim world, so
  // that a block waiting for another block (of this rank or another) does not stop it. The rank's
  // host thread meanwhile joins them; every block is a participant from the launch on (World::launch).
  static Flow run_blocks_concurrently(State& s, const std::vector<int>& slots, const StmtFn& body) {
    TS_ICHECK(s.rank.world && s.participant, "a kernel that waits run outside a sim world");
    sim::World& world = *s.rank.world;
    const std::int64_t blocks = s.grid[0] * s.grid[1] * s.grid[2];
    if (blocks > kMaxConcurrentBlocks)
      throw RuntimeError(cat("cannot simulate kernel ", *s.kernel, " with ", blocks, " blocks because a kernel that waits ",
                             "runs each block on its own thread on the CPU backend, at most ", kMaxConcurrentBlocks,
                             "; use fewer, larger blocks (or smaller sizes) for the simulation"));
    if (blocks <= 0) return Flow::Next;
    std::vector<std::string> names;
    for (std::int64_t z = 0; z < s.grid[2]; ++z)
      for (std::int64_t y = 0; y < s.grid[1]; ++y)
        for (std::int64_t x = 0; x < s.grid[0]; ++x)
          names.push_back(cat("rank ", s.rank.rank, ", block (", x, ", ", y, ", ", z, ")"));
    const auto selves = world.launch(*s.participant, names);
    std::mutex error_mu;
    std::exception_ptr first_error;
    std::vector<std::thread> threads;
    for (std::int64_t z = 0; z < s.grid[2]; ++z)
      for (std::int64_t y = 0; y < s.grid[1]; ++y)
        for (std::int64_t x = 0; x < s.grid[0]; ++x)
          threads.emplace_back([&, x, y, z, self = selves[threads.size()]] {
            State local = s;
            local.participant = self.get();
            local.vars[slots[0]] = x, local.vars[slots[1]] = y, local.vars[slots[2]] = z;
            sim::RankScope scope(s.rank, self.get());
            try {
              body(local);
            } catch (const std::exception& e) {
              {
                std::lock_guard<std::mutex> lock(error_mu);
                if (!first_error) first_error = std::current_exception();
              }
              world.stop(cat("the run stopped because ", self->name(), " failed: ", e.what()));
            }
            world.leave(self);
          });
    for (auto& t : threads) t.join();
    if (first_error) std::rethrow_exception(first_error);
    return Flow::Next;
  }

  struct RegionFns {
    int slot;
    const ir::BufferNode* buffer;
    std::vector<IntFn> base, extent;
  };

  StmtFn tile_op(const ir::TileOpNode& op) {
    const ops::TileOpDef& def = ops::tile_op(op.op);
    std::vector<RegionFns> regions;
    for (const auto& r : op.regions) {
      RegionFns fns{buffer_slot(r.buffer.get()), r.buffer.get(), {}, {}};
      for (const auto& b : r.base) fns.base.push_back(int_expr(b));
      for (const auto& e : r.extent) fns.extent.push_back(int_expr(e));
      regions.push_back(std::move(fns));
    }
    std::vector<FloatFn> args;
    for (const auto& a : op.args) args.push_back(value_as_double(a));
    std::vector<std::string> described;
    for (const auto& r : op.regions) described.push_back(ir::print(r));
    const std::string name = ops::user_op_name(op);
    return [&def, &op, regions, args, described, name](State& s) {
      std::vector<ops::RegionView> views;
      for (size_t i = 0; i < regions.size(); ++i) views.push_back(view(s, regions[i], name, described[i]));
      std::vector<double> values;
      for (const auto& a : args) values.push_back(a(s));
      def.run_cpu(op, views, values);
      // A uniform tile op on thread-private buffers acts for every thread.
      for (const auto& r : regions) {
        BufferState& bs = s.buffers[r.slot];
        const size_t n = static_cast<size_t>(bs.numel) * bytes(r.buffer->dtype);
        if (bs.copies > 1 && s.tid < 0)
          for (int c = 1; c < bs.copies; ++c) std::memcpy(bs.data + c * n, bs.data, n);
      }
      return Flow::Next;
    };
  }

  static ops::RegionView view(State& s, const RegionFns& r, const std::string& op, const std::string& described) {
    BufferState& bs = s.buffers[r.slot];
    check_allocated(bs, static_cast<int>(r.base.size()), r.buffer->name, s);
    ops::RegionView v;
    v.buffer = r.buffer;
    v.strides = bs.strides;
    const bool global = r.buffer->scope == ir::Scope::Global;
    std::int64_t off = 0;
    for (size_t d = 0; d < r.base.size(); ++d) {
      const std::int64_t base = r.base[d](s), ext = r.extent[d](s);
      const bool outside = base < 0 || ext < 0 || (!global && base + ext > bs.shape[d]);
      if (outside)
        throw RuntimeError(cat("cannot run ", op, " on ", described, " ", s.where(), " because dim ", d,
                               " spans [", base, ", ", base + ext, ") outside ", r.buffer->name, "'s extent ",
                               bs.shape[d], global ? "" : "; tiles of on-chip buffers must lie inside the buffer"));
      v.extent.push_back(ext);
      v.inside.push_back(std::clamp<std::int64_t>(bs.shape[d] - base, 0, ext));
      off += base * bs.strides[d];
    }
    if (bs.copies > 1) off += std::max<std::int64_t>(s.tid, 0) * bs.numel;
    v.data = bs.data + off * bytes(r.buffer->dtype);
    return v;
  }

  StmtFn print(const ir::PrintNode& p) {
    const std::string msg = p.message;
    if (p.value) {
      FloatFn v = value_as_double(p.value);
      return [msg, v](State& s) {
        std::cout << "[" << s.where() << "] " << msg << ": " << v(s) << "\n";
        return Flow::Next;
      };
    }
    const int slot = buffer_slot(p.buffer.get());
    const ir::BufferNode* b = p.buffer.get();
    return [msg, slot, b](State& s) {
      BufferState& bs = s.buffers[slot];
      check_allocated(bs, b->rank(), b->name, s);
      std::ostringstream os;
      os << "[" << s.where() << "] " << msg << ": " << b->name << " " << format_shape(bs.shape) << " =";
      const std::int64_t base = bs.copies > 1 ? std::max<std::int64_t>(s.tid, 0) * bs.numel : 0;
      std::vector<std::int64_t> idx(bs.shape.size(), 0);
      ops::for_each_index(bs.shape, [&](const std::int64_t* i) {
        std::int64_t off = base;
        for (size_t d = 0; d < bs.shape.size(); ++d) off += i[d] * bs.strides[d];
        os << " " << load_as_double(b->dtype, bs.data + off * bytes(b->dtype));
      });
      std::cout << os.str() << "\n";
      return Flow::Next;
    };
  }

  // Runs `s` once per thread, each thread to completion before the next.
  // The verifier has checked that no tile op or T::Parallel loop is in `s` (ops/thread_level.h).
  StmtFn per_thread(const ir::Stmt& s) {
    thread_mode_ = true;
    StmtFn body = stmt(s);
    thread_mode_ = false;
    const int threads = threads_;
    return [body, threads](State& st) {
      int breaks = 0;
      for (int t = 0; t < threads; ++t) {
        st.tid = t;
        breaks += body(st) == Flow::Break;
      }
      st.tid = -1;
      // A loop that a thread-dependent Break can leave diverges and runs per thread, so a Break
      // reaching this wrapper is taken by every thread or by none.
      TS_ICHECK(breaks == 0 || breaks == threads, "T::Break taken by ", breaks, " of ", threads, " threads ", st.where());
      return breaks ? Flow::Break : Flow::Next;
    };
  }
};

class CpuExecutable : public Executable {
 public:
  CpuExecutable(const ir::PrimFunc& f, ops::ThreadLevelLog* log) : func_(f), compiler_(*f) {
    for (const auto& p : f->params)
      param_slots_.push_back(p.tensor ? compiler_.buffer_slot(p.tensor.get()) : compiler_.var_slot(p.scalar.get()));
    for (const auto& v : f->symbolic_dims()) dim_slots_.emplace_back(v.get(), compiler_.var_slot(v.get()));
    compiler_.log_ = log;
    body_ = compiler_.stmt(f->body);
    compiler_.log_ = nullptr;
  }

  void run(const std::vector<Arg>& args) const override {
    const sim::RankView rank = sim::current_rank();
    if (rank.world || !compiler_.uses_blocking_builtins()) return run_as(args, rank, sim::current_participant());
    // A kernel that waits, called outside a sim world: a world of one rank watches it.
    sim::World world(sim::Options{1, 0, sim::wait_timeout_from_environment()});
    world.run([&](int) { run_as(args, sim::current_rank(), sim::current_participant()); });
  }

  void run_as(const std::vector<Arg>& args, const sim::RankView& rank, sim::Participant* participant) const {
    State s;
    s.kernel = &func_->name;
    s.block_slots = nullptr;
    s.rank = rank;
    s.participant = participant;
    s.vars.assign(compiler_.num_vars(), 0);
    s.buffers.resize(compiler_.num_buffers());
    for (size_t i = 0; i < args.size(); ++i) {
      if (const ir::Var& v = func_->params[i].scalar) {
        s.vars[param_slots_[i]] = is_float(v->dtype) ? std::bit_cast<std::int64_t>(double(runtime::float_argument(args[i])))
                                                     : args[i].int_value();
        continue;
      }
      const Tensor& t = args[i].tensor();
      BufferState& bs = s.buffers[param_slots_[i]];
      bs.data = static_cast<std::byte*>(t.data());
      bs.shape = t.shape();
      bs.strides = t.strides();
      bs.numel = t.numel();
      bs.bound = true;
      // Symbolic dimensions: the arguments were checked, so the first use binds each one.
      for (int d = 0; d < t.rank(); ++d)
        for (const auto& [var, slot] : dim_slots_)
          if (ir::as<ir::VarNode>(func_->params[i].tensor->shape[d]) == var) s.vars[slot] = t.shape(d);
    }
    s.block_slots = &compiler_.block_slots();
    body_(s);
  }

 private:
  ir::PrimFunc func_;
  mutable Compiler compiler_;
  std::vector<int> param_slots_;  // per parameter: a buffer slot (tensors) or a var slot (scalars)
  std::vector<std::pair<const ir::VarNode*, int>> dim_slots_;
  StmtFn body_;
};

}  // namespace

std::shared_ptr<const Executable> Executable::build(const ir::PrimFunc& func, ops::ThreadLevelLog* log) {
  return std::make_shared<CpuExecutable>(func, log);
}

}  // namespace tilescale::cpu
