// The CPU backend: runs a tile program on the host, the reference for every GPU result.
//
// The program is translated once into a tree of closures (no interpretation of the IR at run time)
// and then run block by block. Execution follows the IR's levels, as the thread-level analysis
// (src/ops/thread_level.h) decides them, the same decisions the CUDA generator takes:
//  * tile ops, Parallel loops and uniform statements run once per block, collectively;
//  * a thread-level statement (one that diverges, or reads or writes values that differ between
//    threads) runs once per thread, each thread finishing the statement before the next begins —
//    the meaning of a correctly synchronised GPU program.
// Local, var and fragment buffers that thread-level statements write hold one copy per thread; a
// uniform store writes every thread's copy. Shared and fragment buffers start filled with a poison
// pattern (NaN for floats), so reading what was never written shows up in the result.
//
// Distributed kernels (they call builtins: src/ops/builtin.h) run as the rank of the calling thread
// on the sim transport (src/runtime/dist/sim.h): remote operands go to the peer's symmetric heap.
// A kernel that can wait (waits, barriers, spin loops over T::ld) runs each block on its own thread,
// as a participant of the sim world, so that a block spinning on a flag does not stop the block that
// will set it; outside a world, such a kernel runs in a world of one rank of its own. Other kernels run their
// blocks one after another on the calling thread.
//
// Every access is bounds-checked: a load or store outside a buffer is a RuntimeError naming the
// buffer, the index, the shape and the block. Tile-op regions of global tensors may run past the
// tensor's end (reads give zero, writes are dropped); other regions must lie inside their buffer.
#pragma once

#include <memory>
#include <vector>

#include "ir/IR.h"
#include "ops/thread_level.h"
#include "tilescale/runtime.h"

namespace tilescale::cpu {

class Executable {
 public:
  // `func` has passed the verifier (so keeps the thread-level rules). With `log`, records there how
  // each For, If and While was compiled (diverging or not).
  static std::shared_ptr<const Executable> build(const ir::PrimFunc& func, ops::ThreadLevelLog* log = nullptr);
  virtual ~Executable() = default;
  // Arguments must already be checked against the signature (runtime/arguments.h).
  virtual void run(const std::vector<Arg>& args) const = 0;
};

}  // namespace tilescale::cpu
