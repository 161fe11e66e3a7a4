// Thread-level analysis: which values of a kernel differ between the threads of a block, and so
// which statements each thread runs for itself.
//
// A kernel mixes three kinds of statement (docs/01_language.md, "Uniform and thread-level
// statements"): tile ops and T::Parallel loops, executed collectively by the block; uniform
// statements, executed by every thread with the same values (the CPU backend runs them once per
// block); and thread-level statements, executed by each thread with its own values. Both backends
// take this decision from this one analysis: the CPU backend to know what to run once per thread and
// which local buffers need a copy per thread, the CUDA generator to know which branches and loops
// diverge (no block barrier inside them), the verifier to place builtins.
//
// A value *varies* (differs between threads) when it is derived, transitively, from
//   - the thread index, or a thread- or warp-scope builtin (T::ld, T::warp_any, ...) evaluated
//     outside T::Parallel loops;
//   - per-thread storage (a local, var or fragment buffer) that a thread-level statement wrote;
//   - the variable of a serial loop that diverges.
// A For, If or While *diverges* when its bounds or condition vary, or (loops) when a T::Break under
// a varying condition may leave it. The thread-level form of a tile op or T::Parallel nest (an
// `expansion` scope, passes/lower_to_threads.h) counts as the collective statement it came from. Everything under a diverging statement is thread-level. A
// statement outside T::Parallel loops is thread-level when it diverges, or when it reads or writes a
// varying value or varying storage. Per-thread storage that only uniform statements write stays
// uniform: every thread holds the same value.
//
//   acc = T::alloc_local({1}, T::int32);
//   acc[0] = tx;                     // thread-level: acc now varies
//   acc[0] = acc[0] * 2 + 1;         // thread-level: reads acc
//   T::While(acc[0] < n, ...);       // diverges
//   Y[tx] = acc[0];                  // thread-level
//
// The rules a program must keep follow, and check() reports them as CompileError (the verifier
// calls it: ops/verify.h): tile ops and T::Parallel loops may not sit under diverging control flow, nor read the
// thread index or varying storage (the element-wise T::atomic_add excepted: any thread may run it).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tilescale::ops {

class ThreadLevel {
 public:
  // Analyses the body of `kernel`, which must outlive the analysis. The result refers to the
  // kernel's variables and buffers, so it also answers for statements rebuilt from them (a loop body
  // with its variable substituted).
  explicit ThreadLevel(const ir::KernelNode& kernel);
  // CompileError, naming the program `func`, when the kernel breaks the rules above.
  void check(const std::string& func) const;

  // Whether `e` may differ between the threads of a block.
  bool varies(const ir::Expr& e) const;
  // Whether `b` is per-thread storage holding values that differ between threads (a thread-level
  // statement writes it).
  bool varies(const ir::BufferNode* b) const;
  // Whether `s` is a For, If or While whose execution differs between threads.
  bool diverges(const ir::StmtNode& s) const;
  // Whether `s`, met outside T::Parallel loops, is run by each thread for itself: it diverges, or it
  // is a store, builtin call, assert or print of varying values. Seqs, uniform control flow, tile
  // ops and T::Parallel loops are not (their children decide for themselves).
  bool is_thread_level(const ir::StmtNode& s) const;

 private:
  const ir::KernelNode& kernel_;
  const ir::VarNode* thread_var_;
  std::set<const ir::VarNode*> vars_;         // the thread index and variables of diverging loops
  std::set<const ir::BufferNode*> buffers_;  // per-thread storage written at thread level

  bool has_varying_break(const ir::Stmt& body) const;
  friend struct ThreadLevelWalk;
  friend struct VaryingCause;
};

// `func` printed with the analysis's decisions as notes: `# diverges` on For, If and While
// statements that diverge (everything under them runs per thread), `# per thread` on the other
// thread-level statements. `tilescale dump --thread-level` shows this.
std::string print_thread_level(const ir::PrimFunc& func);

// What a backend decided for one For, If or While it compiled: whether it treated it as diverging.
// The backends can keep a record of these, so that a test checks they agree
// (TILESCALE_CHECK_THREAD_LEVEL, src/runtime/kernel.cc).
struct ThreadLevelDecision {
  std::string statement;  // the statement's header: "if (tx < 4)", "for k in [0, 8)", "while (...)"
  bool diverges;
};
using ThreadLevelLog = std::vector<ThreadLevelDecision>;
ThreadLevelDecision decision(const ir::StmtNode& s, bool diverges);
// Empty when the two records agree on every statement both hold (a backend may compile a statement
// more than once, or not at all: the CUDA generator unrolls pipelines and lowers T::Parallel
// loops itself); otherwise a sentence naming the first statement they disagree on.
std::string disagreement(const ThreadLevelLog& cpu, const ThreadLevelLog& cuda);

}  // namespace tilescale::ops
