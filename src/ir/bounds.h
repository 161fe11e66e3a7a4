// Interval bounds of integer expressions, for dropping checks that cannot fail.
//
//   ranges = {bx: [0, 63], tx: [0, 127]}   (and each value's known divisor)
//   bounds_of(bx * 128 + tx / 4, ranges)  ==  [0, 8095]
//   provably(bx * 128 + tx / 4 < 8192, ranges)  ==  true
//
// Conservative: an expression whose bounds cannot be derived (a load, an unknown variable,
// division by a non-constant) has none, and a condition is provable only when its bounds say so.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ir/IR.h"

namespace tilescale::ir {

// Every value lies in [lo, hi] and is a multiple of `multiple` (which lets `v % 32` of a vector
// index v = 8·i stay below 25 rather than 32).
struct Interval {
  std::int64_t lo, hi;  // inclusive
  std::int64_t multiple = 1;
};
using VarRanges = std::map<const VarNode*, Interval>;

std::optional<Interval> bounds_of(const Expr& e, const VarRanges& ranges);
// True when the boolean `cond` holds for every value of the variables in their ranges.
bool provably(const Expr& cond, const VarRanges& ranges);

}  // namespace tilescale::ir
