#pragma once

#include "ir/IR.h"

namespace tilescale::passes {

// Folds integer constants and removes what cannot run, so later passes and the printed IR see the
// simplest form of index arithmetic.
//
//   before:  for i in T.serial(0):  ...            after:  (removed)
//            A[(bx * 1 + 0) * 128, 4 * 8]                  A[bx * 128, 32]
//            if 1 < 2: S  else: E                           S
//
// Integer arithmetic only: float expressions are left alone, since folding them could round
// differently from the target. Builtin calls have effects: they are never folded or dropped
// (x * 0 stays when x calls one).
ir::PrimFunc simplify(const ir::PrimFunc& func);
// The same folding on one expression (code generators print simplified indices).
ir::Expr simplify(const ir::Expr& e);

}  // namespace tilescale::passes
