// Widening integer expressions without wrap-around.
//
// A Cast to a wider type converts a value that has already been computed: Cast<int64>(by * 32 + i)
// wraps at 2^31 before it widens, which is no help for an index into a tensor of 3e9 elements.
// widen(e, t) computes e's signed integer arithmetic in t instead, pushing the conversion down to
// the leaves:
//
//   widen(by * 32 + i, int64)  ==  int64(by) * 32L + int64(i)
//
// Through + - * / % floordiv floormod min max, the bitwise operators, shifts, negation, ~ and
// select, where the result equals the narrow one whenever that did not wrap, and the exact value
// where it did. Leaves (variables, loads, builtins, calls, casts) and unsigned or bool values are
// cast as they are (an unsigned value's wrap-around is its meaning). Constants are re-typed. `t`
// must be a signed integer type at least as wide as e's.
#pragma once

#include "ir/IR.h"

namespace tilescale::ir {

Expr widen(const Expr& e, DataType t);
// e as a value of type t: widen(e, t) when t is a signed integer type at least as wide as e's
// integer or bool type, else a plain Cast.
Expr widen_or_cast(const Expr& e, DataType t);

// `a op b` for integer operands of possibly different types, the compiler's own index arithmetic:
// computed in int64 (both sides widened) when either side is 64-bit or their signedness differs,
// else in the common type.
Expr widening_binary(BinaryOp op, const Expr& a, const Expr& b);

}  // namespace tilescale::ir
