// Evaluating integer expressions to constants.
//
// eval_int answers "what is the value of this index expression when these variables have these
// values?", the question the layout algebra asks for every cell of a tile and that passes ask to
// prove a bound or pick a vector width. It follows the IR's semantics exactly (IR.h):
//
//  * every result is wrapped to the expression's type, two's complement (int32 overflow wraps);
//  * `/` and `%` truncate toward zero as in C, floordiv/floormod round toward −∞:
//        -7 / 2 == -3    -7 % 2 == -1    floordiv(-7, 2) == -4    floormod(-7, 2) == 1
//  * comparisons and logical operators give 0 or 1; unsigned types compare as unsigned;
//  * `&&`, `||` and select evaluate only the operand they need, as C does, so
//    `x != 0 && 10 / x > 2` is 0 when x is 0.
//
// The answer is std::nullopt when the value is not a known integer: a variable without a binding,
// a Load, a Builtin call, a float value or a float cast, an intrinsic call, a division or modulo by zero, or a shift
// by a negative amount or by at least the operand's bit width.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ir/IR.h"

namespace tilescale::ir {

std::optional<std::int64_t> eval_int(const Expr& e, const std::map<const VarNode*, std::int64_t>& bindings = {});

}  // namespace tilescale::ir
